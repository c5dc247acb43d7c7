/**
 * The test stack's realm (local test users, GitLab mode) applied to the real Keycloak by the rendered
 * realm-apply Job's program, and what Mattermost then gets from it: the permanent admin in place of the
 * bootstrap one, a second apply that changes nothing, changes and removals applied exactly, Keycloak's
 * unwanted defaults gone, the GitLab-emulation login as Mattermost does it, the deprovisioning client's
 * exact rights, and the admin console's own address.
 */
import { deprovisionClientId, deprovisionRoles, idAttribute } from "../../config/realm";
import { renderStack, type Rendered } from "../helpers/render";
import * as crypto from "node:crypto";
import { browserLogin, mattermostLogin, publicFetch } from "../helpers/ssoLogin";
import { AdminApi, applied, applyRealm, gitlabClient, startIdentity, StackSecrets, type Identity } from "./fixture";

let rendered: Rendered;
let identity: Identity;
let admin: AdminApi;
let firstApply: string[];

beforeAll(async () => {
    rendered = renderStack("test");
    identity = await startIdentity(rendered, new StackSecrets(rendered));
    admin = new AdminApi(identity);
    firstApply = applied(await applyRealm(identity));
}, 900000);

afterAll(async () => {
    await identity?.stop();
}, 120000);

function realmText(): string {
    return rendered.file("files/keycloak/realm.json");
}

/** The rendered test users: username, id, email, name (Pulumi.test.yaml). */
function testUsers(): { username: string; id: string; email: string; name: string }[] {
    const realm = JSON.parse(realmText()) as { users: any[] };
    return realm.users
        .filter((user) => !user.serviceAccountClientId)
        .map((user) => ({
            username: user.username,
            id: user.attributes[idAttribute][0],
            email: user.email,
            name: `${user.firstName} ${user.lastName}`.trim(),
        }));
}

describe("the rendered realm-apply Job against the real Keycloak", () => {
    it("puts a permanent admin in place of the temporary bootstrap admin", async () => {
        expect(firstApply.slice(0, 2)).toEqual([
            "permanent admin admin in place of bootstrap-admin",
            `master realm's frontend URL set to ${identity.env.KC_HOSTNAME_ADMIN}`,
        ]);
        expect((await admin.grant("bootstrap-admin", identity.keys.KC_BOOTSTRAP_ADMIN_PASSWORD)).status).toBe(401);
        const masterUsers = (await admin.get("/master/users")) as { username: string }[];
        expect(masterUsers.map((user) => user.username)).toEqual(["admin"]);
    });

    it("changes nothing when applied again, and again after a Keycloak restart", async () => {
        expect(applied(await applyRealm(identity))).toEqual([]);
        await identity.keycloak.restart();
        // The bootstrap admin is not created again: Keycloak sees an admin in master.
        expect((await admin.grant("bootstrap-admin", identity.keys.KC_BOOTSTRAP_ADMIN_PASSWORD)).status).toBe(401);
        expect(applied(await applyRealm(identity))).toEqual([]);
    });

    it("leaves each client exactly the client scopes the realm lists: Keycloak's defaults are taken off", async () => {
        const realm = JSON.parse(realmText()) as { clients: any[] };
        for (const wanted of realm.clients) {
            const client = await admin.client(wanted.clientId);
            for (const kind of ["default", "optional"]) {
                const scopes = (await admin.get(`/mattermost/clients/${client.id}/${kind}-client-scopes`)) as any[];
                expect({ client: wanted.clientId, kind, scopes: scopes.map((scope) => scope.name).sort() }).toEqual({
                    client: wanted.clientId,
                    kind,
                    scopes: [...wanted[`${kind}ClientScopes`]].sort(),
                });
            }
        }
    });

    it("applies a changed realm exactly: a new user, a changed mapper, a removed mapper", async () => {
        const realm = JSON.parse(realmText());
        const mattermost = realm.clients.find((client: any) => client.clientId === "mattermost");
        mattermost.protocolMappers = mattermost.protocolMappers.filter((mapper: any) => mapper.name !== "name");
        mattermost.protocolMappers.find((mapper: any) => mapper.name === "email").config["claim.name"] = "mail";
        realm.users.push({
            ...realm.users[realm.users.length - 1],
            username: "carol",
            email: "carol@test.example.com",
        });
        realm.users[realm.users.length - 1].attributes = { [idAttribute]: ["1003"] };
        expect(applied(await applyRealm(identity, JSON.stringify(realm)))).toEqual([
            "client mattermost: protocol mapper email updated",
            "client mattermost: protocol mapper name removed",
            "user carol created",
        ]);
        const mappers = (await admin.get(
            `/mattermost/clients/${(await admin.client("mattermost")).id}/protocol-mappers/models`,
        )) as any[];
        expect(mappers.map((mapper) => mapper.name).sort()).toEqual(["email", "mattermost id", "username"]);
        expect((await admin.user("carol")).attributes[idAttribute]).toEqual(["1003"]);
        // Back to the rendered realm: the mapper returns; the extra local user is the operator's to remove.
        expect(applied(await applyRealm(identity))).toEqual([
            "client mattermost: protocol mapper email updated",
            "client mattermost: protocol mapper name created",
        ]);
    });
});

describe("a Mattermost GitLab login through Keycloak", () => {
    it("gives Mattermost's GitLab provider a JSON number id, username, email and name", async () => {
        const [person] = testUsers();
        const { user, userText, accessToken } = await mattermostLogin(
            publicFetch(identity.route),
            gitlabClient(identity),
            {
                username: person.username,
                password: identity.keys.TEST_USER_PASSWORD,
            },
        );
        // The id must be a JSON number: Mattermost decodes it into an int64 and refuses a string.
        expect(userText).toMatch(new RegExp(`"id":${person.id}[,}]`));
        expect(user).toMatchObject({
            id: Number(person.id),
            username: person.username,
            email: person.email,
            name: person.name,
        });
        // Keycloak 25+ puts `sub` in tokens only through the basic client scope.
        const claims = JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString()) as Record<
            string,
            unknown
        >;
        expect(claims.sub).toEqual(expect.any(String));
        expect(claims.iss).toBe(`${identity.env.KC_HOSTNAME}/realms/mattermost`);
    });

    it("refuses a wrong password", async () => {
        const [person] = testUsers();
        await expect(
            mattermostLogin(publicFetch(identity.route), gitlabClient(identity), {
                username: person.username,
                password: "wrong",
            }),
        ).rejects.toThrow("Invalid username or password.");
    });
});

describe("the deprovisioning job's service account", () => {
    async function jobToken(): Promise<string> {
        const response = await fetch(
            `${identity.keycloak.httpUrl}/auth/realms/mattermost/protocol/openid-connect/token`,
            {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded" },
                body: new URLSearchParams({
                    grant_type: "client_credentials",
                    client_id: deprovisionClientId,
                    client_secret: identity.keys.KEYCLOAK_CLIENT_SECRET,
                }).toString(),
            },
        );
        expect(response.status).toBe(200);
        return ((await response.json()) as { access_token: string }).access_token;
    }

    it("holds exactly its roles, on the account and in the client's scope", async () => {
        const client = await admin.client(deprovisionClientId);
        const account = await admin.get(`/mattermost/clients/${client.id}/service-account-user`);
        const management = await admin.client("realm-management");
        const names = (roles: any[]) => roles.map((role) => role.name).sort();
        expect(
            names(await admin.get(`/mattermost/users/${account.id}/role-mappings/clients/${management.id}`)),
        ).toEqual([...deprovisionRoles].sort());
        expect(
            names(await admin.get(`/mattermost/clients/${client.id}/scope-mappings/clients/${management.id}`)),
        ).toEqual([...deprovisionRoles].sort());
    });

    it("may do what the job does, and nothing an administrator of the realm could", async () => {
        const token = await jobToken();
        const [person] = testUsers();
        const target = await admin.user(person.username);
        const allowed = [
            ["GET", "/mattermost/users/count"],
            ["GET", "/mattermost/users?briefRepresentation=false&first=0&max=10"],
        ];
        const refused = [
            // A user of its own making claiming a person's id would log in to Mattermost as that person.
            [
                "POST",
                "/mattermost/users",
                { username: "claimant", enabled: true, attributes: { [idAttribute]: ["9999"] } },
            ],
            ["PUT", `/mattermost/users/${target.id}`, { enabled: false }],
            ["POST", `/mattermost/users/${target.id}/logout`],
            ["GET", "/mattermost/components?type=org.keycloak.storage.UserStorageProvider"],
            ["GET", "/mattermost/clients"],
            ["PUT", "/mattermost", { displayName: "taken over" }],
            [
                "POST",
                "/mattermost/components",
                { name: "x", providerId: "ldap", providerType: "org.keycloak.storage.UserStorageProvider" },
            ],
            ["GET", "/master/users"],
            ["POST", `/mattermost/clients/${(await admin.client("mattermost")).id}/client-secret`],
        ];
        for (const [method, path, body] of allowed) {
            const { status } = await admin.call(method, path, body, token);
            expect({ method, path, status: status < 300 }).toEqual({ method, path, status: true });
        }
        for (const [method, path, body] of refused) {
            const { status } = await admin.call(method as string, path as string, body, token);
            expect({ method, path, status }).toEqual({ method, path, status: 403 });
        }
    });
});

describe("the admin console", () => {
    it("sends administrators to the port-forwarded address the Deployment names, not the public one", async () => {
        const adminUrl = identity.env.KC_HOSTNAME_ADMIN;
        expect(adminUrl).toBe("http://localhost:8080/auth");
        const page = await fetch(`${identity.keycloak.httpUrl}/auth/admin/master/console/`);
        expect(page.status).toBe(200);
        const html = await page.text();
        const environment = JSON.parse(/<script id="environment" type="application\/json">([^<]*)</.exec(html)![1]);
        // The console, its API calls and its login (the master realm's pages) all go to the admin address.
        expect(environment).toMatchObject({
            adminBaseUrl: adminUrl,
            authUrl: adminUrl,
            serverBaseUrl: adminUrl,
        });
    });

    it("lets the permanent admin log in to the console through that address, as a port-forward reaches the pod", async () => {
        const adminUrl = identity.env.KC_HOSTNAME_ADMIN;
        const consoleUrl = `${adminUrl}/admin/master/console/`;
        const verifier = crypto.randomBytes(32).toString("base64url");
        const query = new URLSearchParams({
            client_id: "security-admin-console",
            redirect_uri: consoleUrl,
            response_type: "code",
            scope: "openid",
            state: "console-state",
            code_challenge: crypto.createHash("sha256").update(verifier).digest("base64url"),
            code_challenge_method: "S256",
        });
        const portForward = publicFetch({
            publicOrigin: new URL(adminUrl).origin,
            origin: identity.keycloak.httpUrl,
            direct: true,
        });
        const back = await browserLogin(
            portForward,
            `${adminUrl}/realms/master/protocol/openid-connect/auth?${query.toString()}`,
            {
                username: "admin",
                password: identity.keys.ADMIN_PASSWORD,
            },
        );
        expect(`${back.origin}${back.pathname}`).toBe(consoleUrl);
        expect(back.searchParams.get("code")).toEqual(expect.any(String));
    });
});
