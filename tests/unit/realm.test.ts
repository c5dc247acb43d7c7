/**
 * The rendered realm of both stacks, checked point by point against the reference (keycloak.md), and
 * the userinfo document its mappers produce judged by the rules of Mattermost's GitLab provider.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderStack, type Rendered } from "../helpers/render";

let test: Rendered;
let prod: Rendered;

beforeAll(() => {
    test = renderStack("test");
    prod = renderStack("prod");
}, 120000);

afterAll(() => {
    for (const rendered of [test, prod]) {
        fs.rmSync(rendered.dir, { recursive: true, force: true });
    }
});

interface Mapper {
    name: string;
    protocolMapper: string;
    config: Record<string, string>;
}

interface Realm {
    ssoSessionIdleTimeout: number;
    ssoSessionMaxLifespan: number;
    clientScopes: { name: string; protocol: string; attributes: Record<string, string> }[];
    clients: {
        clientId: string;
        publicClient: boolean;
        clientAuthenticatorType: string;
        secret: string;
        standardFlowEnabled: boolean;
        implicitFlowEnabled: boolean;
        directAccessGrantsEnabled: boolean;
        serviceAccountsEnabled: boolean;
        redirectUris: string[];
        defaultClientScopes: string[];
        protocolMappers: Mapper[];
    }[];
    components: Record<
        string,
        {
            name: string;
            providerId: string;
            config: Record<string, string[]>;
            subComponents?: Record<string, { name: string; providerId: string; config: Record<string, string[]> }[]>;
        }[]
    >;
    users?: {
        username: string;
        email?: string;
        firstName?: string;
        lastName?: string;
        attributes?: Record<string, string[]>;
        credentials?: { value: string }[];
        serviceAccountClientId?: string;
        clientRoles?: Record<string, string[]>;
    }[];
}

function realmOf(rendered: Rendered): Realm {
    return JSON.parse(rendered.file(path.join("files", "keycloak", "realm.json"))) as Realm;
}

/** A Keycloak user as the mappers see it. */
interface UserModel {
    username: string;
    email: string;
    firstName: string;
    lastName: string;
    attributes: Record<string, string>;
}

/**
 * What Keycloak puts on /userinfo for these mappers (keycloak.md §1.4): only mappers with
 * userinfo.token.claim; a user-attribute mapper with jsonType long parses the value as a long (and is
 * omitted when the attribute is missing); a property mapper copies the property as a string; the
 * full-name mapper joins first and last name.
 */
function userinfo(mappers: readonly Mapper[], user: UserModel): string {
    const claims: Record<string, unknown> = { sub: "f3b0c7e2-0000-4000-8000-000000000000" };
    for (const mapper of mappers.filter((candidate) => candidate.config["userinfo.token.claim"] === "true")) {
        if (mapper.protocolMapper === "oidc-usermodel-attribute-mapper") {
            const value = user.attributes[mapper.config["user.attribute"] ?? ""];
            if (value !== undefined) {
                claims[mapper.config["claim.name"] ?? ""] =
                    mapper.config["jsonType.label"] === "long" ? Number.parseInt(value, 10) : value;
            }
        } else if (mapper.protocolMapper === "oidc-usermodel-property-mapper") {
            const property = mapper.config["user.attribute"] as "username" | "email" | "firstName" | "lastName";
            claims[mapper.config["claim.name"] ?? ""] = user[property];
        } else if (mapper.protocolMapper === "oidc-full-name-mapper") {
            claims.name = `${user.firstName} ${user.lastName}`.trim();
        }
    }
    return JSON.stringify(claims);
}

/**
 * Mattermost's GitLab provider reading that document (keycloak.md §1.1): `id` into an int64 (a JSON
 * string fails to unmarshal, a missing id is 0 and refused), `email` required, `username` (or `login`)
 * and `name` read as strings. Returns the error Mattermost would give, or the user it would link.
 */
function mattermostGitLabUser(
    json: string,
): { error: string } | { authData: string; username: string; email: string; firstName: string; lastName: string } {
    const document = JSON.parse(json) as Record<string, unknown>;
    const id = document.id ?? 0;
    if (typeof id !== "number") {
        return { error: `cannot unmarshal ${typeof id} into Go struct field GitLabUser.id of type int64` };
    }
    if (!Number.isSafeInteger(id)) {
        return { error: "id is not an int64 Mattermost can read" };
    }
    if (id === 0) {
        return { error: "user id can't be 0" };
    }
    const email = typeof document.email === "string" ? document.email : "";
    if (email === "") {
        return { error: "email is empty" };
    }
    const text = (value: unknown) => (typeof value === "string" ? value : "");
    const username = text(document.username) || text(document.login);
    const [firstName = "", ...rest] = text(document.name).split(" ");
    return { authData: String(id), username, email: email.toLowerCase(), firstName, lastName: rest.join(" ") };
}

const alice: UserModel = {
    username: "alice",
    email: "Alice@Example.com",
    firstName: "Alice",
    lastName: "van Tester",
    attributes: { mattermostId: "1001" },
};

describe.each(["test", "prod"])("the %s realm", (stack) => {
    const realm = () => realmOf(stack === "test" ? test : prod);
    const client = () => realm().clients.find((candidate) => candidate.clientId === "mattermost")!;

    it("holds no secret, only placeholders keycloak-config-cli fills from a Secret", () => {
        const text = (stack === "test" ? test : prod).file(path.join("files", "keycloak", "realm.json"));
        expect(text).not.toMatch(/<secret:/);
        expect(client().secret).toBe("$(env:MATTERMOST_CLIENT_SECRET)");
    });

    it("has a confidential client with the standard flow only", () => {
        expect(client()).toMatchObject({
            publicClient: false,
            clientAuthenticatorType: "client-secret",
            standardFlowEnabled: true,
            implicitFlowEnabled: false,
            directAccessGrantsEnabled: false,
            serviceAccountsEnabled: false,
        });
    });

    it("puts id (a long), username, email and name on userinfo", () => {
        const byClaim = Object.fromEntries(
            client().protocolMappers.map((mapper) => [mapper.config["claim.name"] ?? mapper.protocolMapper, mapper]),
        );
        expect(byClaim.id).toMatchObject({
            protocolMapper: "oidc-usermodel-attribute-mapper",
            config: expect.objectContaining({
                "user.attribute": "mattermostId",
                "jsonType.label": "long",
                "userinfo.token.claim": "true",
            }),
        });
        expect(byClaim.username?.config).toMatchObject({
            "user.attribute": "username",
            "userinfo.token.claim": "true",
        });
        expect(byClaim.email?.config).toMatchObject({ "user.attribute": "email", "userinfo.token.claim": "true" });
        expect(byClaim["oidc-full-name-mapper"]?.config).toMatchObject({ "userinfo.token.claim": "true" });
    });

    it("gives Mattermost's GitLab provider a userinfo document it links by the numeric id", () => {
        expect(mattermostGitLabUser(userinfo(client().protocolMappers, alice))).toEqual({
            authData: "1001",
            username: "alice",
            email: "alice@example.com",
            firstName: "Alice",
            lastName: "van Tester",
        });
    });

    it("declares the id attribute in the user profile, numeric, admin-only", () => {
        const [profile] = realm().components["org.keycloak.userprofile.UserProfileProvider"] ?? [];
        const config = JSON.parse(profile?.config["kc.user.profile.config"]?.[0] ?? "{}") as {
            attributes: { name: string; validations?: unknown; permissions: unknown }[];
        };
        expect(config.attributes.find((attribute) => attribute.name === "mattermostId")).toEqual({
            name: "mattermostId",
            displayName: "Mattermost id",
            validations: { pattern: { pattern: "^[1-9][0-9]{0,17}$", "error-message": "a positive whole number" } },
            permissions: { view: ["admin"], edit: ["admin"] },
        });
    });
});

describe("the userinfo rules themselves", () => {
    const mappers = (): Mapper[] => realmOf(test).clients[0].protocolMappers;

    it("refuse an id sent as a string, as Mattermost does", () => {
        const stringId = mappers().map((mapper) =>
            mapper.config["claim.name"] === "id"
                ? { ...mapper, config: { ...mapper.config, "jsonType.label": "String" } }
                : mapper,
        );
        expect(mattermostGitLabUser(userinfo(stringId, alice))).toEqual({
            error: "cannot unmarshal string into Go struct field GitLabUser.id of type int64",
        });
    });

    it("refuse a user without the id attribute (id 0)", () => {
        expect(mattermostGitLabUser(userinfo(mappers(), { ...alice, attributes: {} }))).toEqual({
            error: "user id can't be 0",
        });
    });

    it("refuse an id mapper left off userinfo", () => {
        const offUserinfo = mappers().map((mapper) =>
            mapper.config["claim.name"] === "id"
                ? { ...mapper, config: { ...mapper.config, "userinfo.token.claim": "false" } }
                : mapper,
        );
        expect(mattermostGitLabUser(userinfo(offUserinfo, alice))).toEqual({ error: "user id can't be 0" });
    });
});

describe("mode by mode", () => {
    it("gitlab (test): exact GitLab redirect URIs, the default client scope named openid, and basic for `sub`", () => {
        const realm = realmOf(test);
        expect(realm.clients[0]?.redirectUris).toEqual([
            "https://chat.test.example.com/login/gitlab/complete",
            "https://chat.test.example.com/signup/gitlab/complete",
        ]);
        expect(realm.clients[0]?.defaultClientScopes).toEqual(["openid", "basic"]);
        expect(realm.clientScopes).toEqual([
            expect.objectContaining({
                name: "openid",
                protocol: "openid-connect",
                attributes: expect.objectContaining({ "include.in.token.scope": "true" }),
            }),
        ]);
        const settings = test.file(path.join("files", "mattermost", "mattermost-settings.env"));
        expect(settings).toContain("MM_GITLABSETTINGS_SCOPE=\n");
        expect(settings).toContain(
            "MM_GITLABSETTINGS_USERAPIENDPOINT=https://chat.test.example.com/auth/realms/mattermost/protocol/openid-connect/userinfo\n",
        );
        expect(test.file(path.join("files", "mattermost", "mattermost-secrets.env"))).toContain(
            "MM_GITLABSETTINGS_SECRET=<secret:random:keycloak-client-secret>\n",
        );
    });

    it("openid (prod): OpenID redirect URIs, discovery on the public URL, no GitLab settings", () => {
        const realm = realmOf(prod);
        expect(realm.clients[0]?.redirectUris).toEqual([
            "https://chat.example.com/login/openid/complete",
            "https://chat.example.com/signup/openid/complete",
        ]);
        const settings = prod.file(path.join("files", "mattermost", "mattermost-settings.env"));
        expect(settings).toContain(
            "MM_OPENIDSETTINGS_DISCOVERYENDPOINT=https://chat.example.com/auth/realms/mattermost/.well-known/openid-configuration\n",
        );
        expect(settings).not.toContain("GITLAB");
        expect(settings).toContain("MM_EMAILSETTINGS_ENABLESIGNINWITHEMAIL=false\n");
        expect(prod.file(path.join("files", "mattermost", "mattermost-secrets.env"))).toContain(
            "MM_OPENIDSETTINGS_SECRET=<secret:random:keycloak-client-secret>\n",
        );
    });
});

describe("where the users come from", () => {
    it("prod federates AD read-only, live enabled flag, numeric id from the configured attribute", () => {
        const [ad] = realmOf(prod).components["org.keycloak.storage.UserStorageProvider"] ?? [];
        expect(ad?.providerId).toBe("ldap");
        expect(ad?.config).toMatchObject({
            vendor: ["ad"],
            editMode: ["READ_ONLY"],
            connectionUrl: ["ldaps://dc1.corp.example.com:636 ldaps://dc2.corp.example.com:636"],
            usernameLDAPAttribute: ["sAMAccountName"],
            uuidLDAPAttribute: ["objectGUID"],
            pagination: ["true"],
            fullSyncPeriod: ["86400"],
            changedSyncPeriod: ["300"],
            bindCredential: ["$(env:AD_BIND_PASSWORD)"],
            customUserSearchFilter: ["(&(employeeID=*)(memberOf=CN=Chat-Users,OU=Groups,DC=corp,DC=example,DC=com))"],
        });
        const mappers = ad?.subComponents?.["org.keycloak.storage.ldap.mappers.LDAPStorageMapper"] ?? [];
        expect(
            mappers.find((mapper) => mapper.providerId === "msad-user-account-control-mapper")?.config,
        ).toMatchObject({
            "always.read.enabled.value.from.ldap": ["true"],
        });
        expect(mappers.find((mapper) => mapper.name === "mattermostId")?.config).toMatchObject({
            "ldap.attribute": ["employeeID"],
            "user.model.attribute": ["mattermostId"],
            "read.only": ["true"],
        });
        // No local user in prod: only the deprovisioning job's service account.
        expect(realmOf(prod).users?.map((user) => user.username)).toEqual(["service-account-mattermost-deprovision"]);
    });

    it("test has no AD, and local users with numeric ids and a placeholder password", () => {
        const realm = realmOf(test);
        expect(realm.components["org.keycloak.storage.UserStorageProvider"]).toBeUndefined();
        expect(
            realm.users
                ?.filter((user) => !user.serviceAccountClientId)
                .map((user) => [user.username, user.attributes?.mattermostId, user.credentials?.[0]?.value]),
        ).toEqual([
            ["alice", ["1001"], "$(env:TEST_USER_PASSWORD)"],
            ["bob", ["1002"], "$(env:TEST_USER_PASSWORD)"],
        ]);
    });

    it("gives the deprovisioning job a service account with only the roles it needs, and no login of its own", () => {
        const realm = realmOf(prod) as unknown as {
            clients: {
                clientId: string;
                serviceAccountsEnabled: boolean;
                standardFlowEnabled: boolean;
                secret: string;
            }[];
        };
        expect(realm.clients.find((client) => client.clientId === "mattermost-deprovision")).toMatchObject({
            serviceAccountsEnabled: true,
            standardFlowEnabled: false,
            secret: "$(env:DEPROVISION_CLIENT_SECRET)",
        });
        const account = realmOf(prod).users?.find((user) => user.serviceAccountClientId === "mattermost-deprovision");
        expect(account?.clientRoles).toEqual({
            // Reading users only: manage-users would let a stolen secret make a user claiming anyone's id.
            "realm-management": ["view-users"],
        });
    });

    it("keeps SSO sessions short, from config", () => {
        expect(realmOf(test)).toMatchObject({ ssoSessionIdleTimeout: 30 * 60, ssoSessionMaxLifespan: 10 * 3600 });
    });
});
