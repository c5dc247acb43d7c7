/**
 * Active Directory itself (Samba's AD domain controller, in a network namespace of its own, LDAPS with
 * its own CA) federated by the real Keycloak, configured by a stack that points the program at that DC
 * and trusts its CA through companyCaCertificates. The realm is applied by the rendered realm-apply Job's
 * program; people log in as Mattermost's GitLab and OpenID providers do; the rendered deprovisioning
 * job runs against this Keycloak and the real Mattermost (Team Edition, started from the same render by
 * the chat suite's fixture), whose SSO accounts are made over its local-mode socket as its GitLab login
 * makes them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";
import { idAttribute } from "../../config/realm";
import { startFaultProxy, type FaultProxy } from "../helpers/faultProxy";
import { renderStack, projectDir, type Rendered } from "../helpers/render";
import { makeCertificateAuthority } from "../helpers/certificates";
import { renderedProgram, runProgram } from "../helpers/renderedProgram";
import { startDomainController, type DomainController, type Person } from "../helpers/sambaDc";
import { LoginRefused, mattermostLogin, publicFetch } from "../helpers/ssoLogin";
import { adminBot, local, startChat, type Chat } from "../chat/fixture";
import { AdminApi, applied, applyRealm, gitlabClient, startIdentity, StackSecrets, type Identity } from "./fixture";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const people: Record<string, Mutable<Person>> = {
    anna: {
        username: "anna.ad",
        givenName: "Anna",
        surname: "Berg",
        mail: "anna@corp.test",
        employeeId: "2001",
        password: "Anna-Pass-2024!",
    },
    ben: {
        username: "ben.ad",
        givenName: "Ben",
        surname: "Carl",
        mail: "ben@corp.test",
        employeeId: "2002",
        password: "Ben-Pass-2024!",
    },
    dora: {
        username: "dora.ad",
        givenName: "Dora",
        surname: "Ek",
        mail: "dora@corp.test",
        employeeId: "2003",
        password: "Dora-Pass-2024!",
    },
    erik: {
        username: "erik.ad",
        givenName: "Erik",
        surname: "Falk",
        mail: "erik@corp.test",
        employeeId: "2004",
        password: "Erik-Pass-2024!",
    },
    // In the chat group, but with no numeric id in AD.
    nina: {
        username: "nina.ad",
        givenName: "Nina",
        surname: "Grip",
        mail: "nina@corp.test",
        password: "Nina-Pass-2024!",
    },
    // An id AD holds, but not a number.
    pia: {
        username: "pia.ad",
        givenName: "Pia",
        surname: "Ivar",
        mail: "pia@corp.test",
        employeeId: "E-77",
        password: "Pia-Pass-2024!",
    },
    // In AD, not in the chat group: the user filter keeps her out.
    olga: {
        username: "olga.ad",
        givenName: "Olga",
        surname: "Holm",
        mail: "olga@corp.test",
        employeeId: "2009",
        password: "Olga-Pass-2024!",
        chatUser: false,
    },
};
/** Colleagues who stay: the chat must never look emptied by one person leaving. */
const staff: Mutable<Person>[] = Array.from({ length: 4 }, (_, i) => ({
    username: `staff${i}.ad`,
    givenName: `Staff${i}`,
    surname: "Member",
    mail: `staff${i}@corp.test`,
    employeeId: String(2100 + i),
    password: `Staff${i}-Pass-2024!`,
}));

let dc: DomainController;
let workDir: string;
let rendered: Rendered;
let identity: Identity;
let admin: AdminApi;
let firstApply: string[];
let chat: Chat;
let mattermostToken: string;

/** The test stack, pointed at this DC: LDAPS URL, bind account, people, group filter, id attribute, CA. */
function stackFile(ssoMode: "gitlab" | "openid"): string {
    const document = yaml.parse(fs.readFileSync(path.join(projectDir, "Pulumi.test.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    Object.assign(document.config, {
        "mattermost:ssoMode": ssoMode,
        ...(ssoMode === "openid"
            ? {
                  "mattermost:mattermostEdition": "enterprise",
                  "mattermost:mattermostImage": "mattermost/mattermost-enterprise-edition:10.11.10",
              }
            : {}),
        "mattermost:adUrls": [dc.url],
        // The network policies let Keycloak reach the DCs at these addresses only.
        "mattermost:adCidrs": [`${dc.address}/32`],
        "mattermost:adBindDn": dc.bindDn,
        "mattermost:adUsersDn": dc.usersDn,
        "mattermost:adUserFilter": `(memberOf=${dc.groupDn})`,
        "mattermost:adIdAttribute": "employeeID",
        "mattermost:companyCaCertificates": dc.caPem,
    });
    const file = path.join(workDir, `Pulumi.directory-${ssoMode}.yaml`);
    fs.writeFileSync(file, yaml.stringify(document));
    return file;
}

beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "identity-directory-"));
    dc = await startDomainController();
    for (const person of [...Object.values(people), ...staff]) {
        dc.addPerson(person);
    }
    rendered = renderStack("test", stackFile("gitlab"));
    const secrets = new StackSecrets(rendered, { adBindPassword: dc.bindPassword });
    identity = await startIdentity(rendered, secrets, {
        javaOptions: [`-Djdk.net.hosts.file=${dc.hostsFile}`],
    });
    admin = new AdminApi(identity);
    firstApply = applied(await applyRealm(identity));
    chat = await startChat(rendered, { secrets });
    mattermostToken = (await adminBot(chat.primary)).token;
}, 900000);

afterAll(async () => {
    await chat?.stop();
    await identity?.stop();
    await dc?.close();
    fs.rmSync(workDir, { recursive: true, force: true });
}, 120000);

function login(person: Person, password = person.password) {
    return mattermostLogin(publicFetch(identity.route), gitlabClient(identity), {
        username: person.username,
        password,
    });
}

async function providerId(): Promise<string> {
    const [provider] = (await admin.get(
        "/mattermost/components?type=org.keycloak.storage.UserStorageProvider",
    )) as any[];
    return provider.id as string;
}

describe("the realm's AD federation, as applied", () => {
    it("has exactly the realm's LDAP mappers: Keycloak's defaults, added when the provider is made, are removed", async () => {
        expect(firstApply).toContain("user storage active-directory created");
        const realm = JSON.parse(rendered.file("files/keycloak/realm.json"));
        const [provider] = realm.components["org.keycloak.storage.UserStorageProvider"];
        const wanted = provider.subComponents["org.keycloak.storage.ldap.mappers.LDAPStorageMapper"].map(
            (m: any) => m.name,
        );
        const mappers = (await admin.get(
            `/mattermost/components?parent=${await providerId()}&type=org.keycloak.storage.ldap.mappers.LDAPStorageMapper`,
        )) as any[];
        expect(mappers.map((mapper) => mapper.name).sort()).toEqual([...wanted].sort());
        expect(firstApply.filter((change) => change.endsWith("removed") && change.includes("mapper"))).not.toEqual([]);
        expect(applied(await applyRealm(identity))).toEqual([]);
    });

    it("binds with a password holding quotes, backslashes and placeholder text, exactly as given", async () => {
        expect(dc.bindPassword).toMatch(/["\\]|\$\(/);
        const { status } = await admin.call("POST", "/mattermost/testLDAPConnection", {
            action: "testAuthentication",
            componentId: await providerId(),
            connectionUrl: dc.url,
            bindDn: dc.bindDn,
            bindCredential: "**********",
            useTruststoreSpi: "always",
        });
        expect(status).toBe(204);
    });

    it("verifies the DC's certificate through the trust bundle", async () => {
        const { status, json } = await admin.call(
            "POST",
            `/mattermost/user-storage/${await providerId()}/sync?action=triggerFullSync`,
        );
        expect(status).toBe(200);
        // The group filter: everyone in Chat-Users, not Olga.
        expect(json).toMatchObject({ failed: 0 });
        expect(await admin.user(people.olga.username)).toBeUndefined();
        expect((await admin.user(people.anna.username)).attributes[idAttribute]).toEqual(["2001"]);
    });
});

describe("a person from AD logging in to Mattermost", () => {
    it("through the GitLab emulation: a JSON number id equal to the AD attribute, username, email, name", async () => {
        const { user, userText } = await login(people.anna);
        expect(userText).toMatch(/"id":2001[,}]/);
        expect(user).toMatchObject({ id: 2001, username: "anna.ad", email: "anna@corp.test", name: "Anna Berg" });
    });

    it("is refused once disabled in AD through userAccountControl", async () => {
        await login(people.dora);
        dc.disable(people.dora.username);
        await expect(login(people.dora)).rejects.toThrow(LoginRefused);
    });

    it("uses the new password once it changes in AD, and no longer the old one", async () => {
        dc.setPassword(people.ben.username, "Ben-New-Pass-2025!");
        await expect(login(people.ben)).rejects.toThrow("Invalid username or password.");
        const { user } = await login(people.ben, "Ben-New-Pass-2025!");
        expect(user.id).toBe(2002);
        people.ben.password = "Ben-New-Pass-2025!";
    });

    it("without the numeric id attribute is unknown to Keycloak: no login that Mattermost would refuse later", async () => {
        await expect(login(people.nina)).rejects.toThrow("Invalid username or password.");
        expect(await admin.user(people.nina.username)).toBeUndefined();
    });
});

/** Mattermost's SSO accounts of the people with ids, and a bot (what the job must not touch, with the site's admin). */
async function mattermostAccounts(): Promise<void> {
    const withIds = [...Object.values(people), ...staff].filter(
        (person) => /^\d+$/.test(person.employeeId ?? "") && person.chatUser !== false,
    );
    for (const person of withIds) {
        const username = person.username.replace(".ad", "");
        await local(chat.primary, "POST", "/users", {
            username,
            email: `${username}@corp.test`,
            auth_service: "gitlab",
            auth_data: person.employeeId,
        });
    }
    const bot = await local(chat.primary, "POST", "/users", {
        username: "ci-bot",
        email: "ci-bot@corp.test",
        password: `Pw-ci-bot-${process.pid}-x9!`,
    });
    await local(chat.primary, "POST", `/users/${bot.id}/convert_to_bot`);
}

/** The usernames of Mattermost's deactivated accounts, sorted. */
async function deactivated(): Promise<string[]> {
    const users = (await local(chat.primary, "GET", "/users?inactive=true&per_page=200")) as { username: string }[];
    return users.map((user) => user.username).sort();
}

/** The rendered deprovisioning CronJob's program; Keycloak through `keycloakUrl` (the local server or a proxy). */
async function deprovision(keycloakUrl = identity.keycloak.httpUrl, overrides: Record<string, string> = {}) {
    const program = renderedProgram(rendered, "CronJob", "deprovision", identity.keys, {
        KEYCLOAK_URL: keycloakUrl + new URL(renderedKeycloakUrl()).pathname,
        MATTERMOST_URL: chat.primary.url,
    });
    // The test stack sets no mattermostAdminToken (the CronJob is rendered suspended): the test's bot's.
    const run = await runProgram(program, { MATTERMOST_TOKEN: mattermostToken, ...overrides });
    fs.rmSync(program.dir, { recursive: true, force: true });
    const summary = run.lines.find((line) => line.event === "deprovision-summary");
    if (!summary) {
        throw new Error(`the deprovisioning job printed no summary (${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
    return { run, summary };
}

function renderedKeycloakUrl(): string {
    const cronJob = (rendered.manifests as any[]).find((manifest) => manifest.kind === "CronJob");
    const env = cronJob.spec.jobTemplate.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    return env.find((entry) => entry.name === "KEYCLOAK_URL")!.value!;
}

async function sessions(username: string): Promise<number> {
    const user = await admin.user(username);
    return ((await admin.get(`/mattermost/users/${user.id}/sessions`)) as unknown[]).length;
}

describe("an id in AD that is not a number", () => {
    it("fails Keycloak's userinfo, so Mattermost refuses the login; the deprovisioning job names the person", async () => {
        await expect(login(people.pia)).rejects.toThrow("the user endpoint answered 500");
        const { summary } = await deprovision(identity.keycloak.httpUrl, { DRY_RUN: "true" });
        expect(summary.withoutValidId).toEqual([people.pia.username]);
    });
});

describe("the rendered deprovisioning job against the real Keycloak and AD", () => {
    beforeAll(() => mattermostAccounts());

    it("finds the disabled and the removed person, logs them out of Keycloak, and deactivates only them", async () => {
        await login(people.erik);
        dc.remove(people.erik.username);
        // Dora was disabled in AD above, after a login whose Keycloak session still exists.
        const { run, summary } = await deprovision();
        // Keycloak keeps a user AD removed (removeInvalidUsersEnabled false) and shows them disabled.
        expect(summary).toMatchObject({
            outcome: "ok",
            disabled: ["dora", "erik"],
            orphans: [],
            localAccountsIgnored: 1,
            loggedOutOfKeycloak: ["dora", "erik"],
        });
        expect(run.code).toBe(0);
        expect(await deactivated()).toEqual(["dora", "erik"]);
        expect(await sessions(people.dora.username)).toBe(0);
    });

    it("changes nothing when run again", async () => {
        const { summary } = await deprovision();
        expect(summary).toMatchObject({ outcome: "ok", deactivated: [] });
        expect(await deactivated()).toHaveLength(2);
    });

    it("with the DC stopped deactivates nobody and says why; the next run catches up", async () => {
        dc.disable(people.ben.username);
        await dc.stop();
        try {
            const { summary, run } = await deprovision();
            expect(summary.outcome).toBe("refused");
            expect(summary.error).toMatch(/^Keycloak shows every one of its \d+ users from AD as disabled/);
            expect(run.code).not.toBe(0);
            expect(await deactivated()).toHaveLength(2);
        } finally {
            await dc.start();
        }
        const { summary } = await deprovision();
        expect(summary).toMatchObject({ outcome: "ok", deactivated: ["ben"] });
    });
});

describe("Keycloak failing under the job", () => {
    let proxy: FaultProxy;

    beforeAll(async () => {
        proxy = await startFaultProxy(identity.keycloak.httpUrl);
        dc.disable(staff[0].username);
    });
    afterAll(() => proxy?.stop());

    const expectNobodyDeactivated = async () => expect(await deactivated()).toEqual(["ben", "dora", "erik"]);

    it("stopping mid-run: nobody is deactivated, and the run says why", async () => {
        proxy.rules = [{ match: /\/logout$/, fault: { kind: "drop" } }];
        const { summary } = await deprovision(proxy.url);
        expect(summary.outcome).toBe("failed");
        expect(summary.error).toMatch(/fetch failed|socket|ECONNRESET/);
        await expectNobodyDeactivated();
    });

    it("an empty user list: nobody is deactivated, whatever the per-run limit", async () => {
        proxy.rules = [
            { match: /^GET \/auth\/admin\/realms\/mattermost\/users\?/, fault: { kind: "rewrite", change: () => [] } },
            {
                match: /^GET \/auth\/admin\/realms\/mattermost\/users\/count/,
                fault: { kind: "rewrite", change: () => 0 },
            },
        ];
        const { summary } = await deprovision(proxy.url, { MAX_PER_RUN: "100000" });
        expect(summary.outcome).toBe("refused");
        expect(summary.error).toMatch(/every one of the \d+ SSO accounts/);
        await expectNobodyDeactivated();
    });

    it("a short page: nobody is deactivated, and the run names the count that did not match", async () => {
        proxy.rules = [
            {
                match: /^GET \/auth\/admin\/realms\/mattermost\/users\?/,
                fault: { kind: "rewrite", change: (users) => (users as unknown[]).slice(0, -2) },
            },
        ];
        const { summary } = await deprovision(proxy.url, { MAX_PER_RUN: "100000" });
        expect(summary.outcome).toBe("failed");
        expect(summary.error).toMatch(/listed \d+ users but counts \d+/);
        await expectNobodyDeactivated();
    });

    it("the next run, with Keycloak well, catches up", async () => {
        proxy.rules = [];
        const { summary } = await deprovision(proxy.url);
        expect(summary).toMatchObject({ outcome: "ok", deactivated: ["staff0"] });
    });
});

describe("the same directory in OpenID mode", () => {
    it("logs an AD person in through the discovery document, keyed on Keycloak's subject", async () => {
        const openid = renderStack("test", stackFile("openid"));
        try {
            expect(applied(await applyRealm(identity, openid.file("files/keycloak/realm.json")))).toContain(
                "client mattermost updated",
            );
            const setting = (name: string) => identity.secrets.mattermostSetting(`MM_OPENIDSETTINGS_${name}`, openid);
            const send = publicFetch(identity.route);
            const discovery = (await (await send(setting("DISCOVERYENDPOINT"))).json()) as Record<string, string>;
            const { user } = await mattermostLogin(
                send,
                {
                    clientId: setting("ID"),
                    clientSecret: setting("SECRET"),
                    redirectUri: `${identity.route.publicOrigin}/signup/openid/complete`,
                    authorizationEndpoint: discovery.authorization_endpoint,
                    tokenEndpoint: discovery.token_endpoint,
                    userEndpoint: discovery.userinfo_endpoint,
                    scope: "openid profile email",
                },
                { username: people.anna.username, password: people.anna.password },
            );
            expect(user).toMatchObject({
                sub: (await admin.user(people.anna.username)).id,
                email: "anna@corp.test",
                preferred_username: "anna.ad",
            });
        } finally {
            fs.rmSync(openid.dir, { recursive: true, force: true });
        }
    });
});

describe("LDAPS without the DC's CA in the trust bundle", () => {
    it("is refused: Keycloak does not trust the DC's certificate", async () => {
        const bundle = identity.keycloak.env.KC_TRUSTSTORE_PATHS;
        const other = makeCertificateAuthority(workDir, "some-other-ca");
        fs.writeFileSync(bundle, other.certificate);
        await identity.keycloak.restart();
        const { status, json } = await admin.call("POST", "/mattermost/testLDAPConnection", {
            action: "testConnection",
            connectionUrl: dc.url,
            useTruststoreSpi: "always",
        });
        expect(status).toBe(400);
        expect(json).toEqual({ errorMessage: "SSLHandshakeFailed" });
        // And nobody from AD gets in: Keycloak cannot check the password.
        await expect(login(people.anna)).rejects.toThrow(LoginRefused);
    });
});
