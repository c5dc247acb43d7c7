/**
 * Active Directory itself (Samba's AD domain controller, in a network namespace of its own, LDAPS with
 * its own CA) federated by the real Keycloak, configured by a stack that points the program at that DC
 * and trusts its CA through companyCaCertificates. The realm is applied by the rendered realm-apply Job's
 * program. People press the GitLab button of the real Mattermost (Team Edition, the pair started from
 * the same render by the chat suite's fixture) behind the rendered nginx and failover guard: Mattermost
 * itself calls Keycloak back through the chat's public hostname, reached through a stand-in for the
 * cluster's router (tests/helpers/publicRouter.ts) whose certificate a company CA of the stack signs.
 * They chat, and the rendered deprovisioning job runs against this Keycloak and that Mattermost. Keycloak's
 * own answers are also read as Mattermost's GitLab and OpenID providers read them (ssoLogin.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";
import { idAttribute } from "../../config/realm";
import { startFaultProxy, type FaultProxy } from "../helpers/faultProxy";
import WebSocket from "ws";
import { renderStack, projectDir, type Rendered } from "../helpers/render";
import { makeCertificateAuthority, makeServerCertificate, type Issued } from "../helpers/certificates";
import type { MattermostServer } from "../helpers/mattermostServer";
import { freePort, startRenderedFront, type RunningFront } from "../helpers/nginxHarness";
import { sqlLiteral } from "../helpers/postgresServer";
import { startPublicRouter, type PublicRouter } from "../helpers/publicRouter";
import { filerFiles } from "../helpers/seaweedServer";
import { renderedProgram, runProgram } from "../helpers/renderedProgram";
import { startDomainController, type DomainController, type Person } from "../helpers/sambaDc";
import {
    browserLogin,
    chatLogin,
    CookieJar,
    LoginRefused,
    mattermostLogin,
    publicFetch,
    type PublicRoute,
} from "../helpers/ssoLogin";
import { adminBot, local, startChat, teamWithChannel, type Chat } from "../chat/fixture";
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
let backup: MattermostServer;
let front: RunningFront;
let router: PublicRouter;
/** The chat's public origin as a browser reaches it: the router's headers, then the rendered nginx. */
let chatRoute: PublicRoute;
/** The company CA that signs the chat's public certificate, trusted through companyCaCertificates. */
let companyCa: Issued;
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
        "mattermost:companyCaCertificates": `${dc.caPem.trim()}\n${companyCa.certificate.trim()}\n`,
    });
    const file = path.join(workDir, `Pulumi.directory-${ssoMode}.yaml`);
    fs.writeFileSync(file, yaml.stringify(document));
    return file;
}

beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "identity-directory-"));
    companyCa = makeCertificateAuthority(workDir, "corp-web-ca");
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
    await startTheChat(secrets);
}, 900000);

/** The pair behind the rendered nginx and guard, and the router in front, for the chat's public hostname. */
async function startTheChat(secrets: StackSecrets): Promise<void> {
    const publicOrigin = identity.route.publicOrigin;
    const nginxPort = await freePort();
    const certificate = makeServerCertificate(workDir, companyCa, "chat-public", [new URL(publicOrigin).hostname]);
    router = await startPublicRouter({
        publicOrigin,
        nginxPort,
        certificate: certificate.certificate,
        key: fs.readFileSync(certificate.keyPath, "utf8"),
    });
    chat = await startChat(rendered, { secrets, publicRouterProxy: router.proxyUrl });
    backup = await chat.startServer("mattermost-2");
    front = await startRenderedFront(rendered, {
        listenPort: nginxPort,
        primaryPort: chat.primary.port,
        backupPort: backup.port,
        keycloakPort: Number(new URL(identity.keycloak.httpUrl).port),
    });
    chatRoute = { publicOrigin, origin: `http://127.0.0.1:${nginxPort}` };
    mattermostToken = (await adminBot(chat.primary)).token;
}

afterAll(async () => {
    await front?.stop();
    await router?.stop();
    await chat?.stop();
    await identity?.stop();
    await dc?.close();
    fs.rmSync(workDir, { recursive: true, force: true });
}, 120000);

/** Keycloak's own answers, read as Mattermost's GitLab provider reads them. */
function login(person: Person, password = person.password) {
    return mattermostLogin(publicFetch(identity.route), gitlabClient(identity), {
        username: person.username,
        password,
    });
}

/** The person pressing the GitLab button of the real Mattermost, through nginx; their session's token. */
function chatLoginOf(person: Person, password = person.password) {
    return chatLogin(publicFetch(chatRoute), chatRoute.publicOrigin, { username: person.username, password });
}

/** An API call as the apps make it: to the public origin, through nginx. */
async function chatApi(method: string, apiPath: string, token: string, body?: FormData | object) {
    const form = body instanceof FormData;
    const response = await publicFetch(chatRoute)(`${chatRoute.publicOrigin}/api/v4${apiPath}`, {
        method,
        headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined || form ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined || form ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const json: any = text ? JSON.parse(text) : undefined;
    return { status: response.status, json };
}

/** What Mattermost's database holds for an account: its login service and the id it keys the person on. */
function storedAccount(username: string): { authService: string; authData: string } | undefined {
    const database = chat.secrets.keys("mattermost-postgres-credentials").POSTGRES_DB;
    const row = chat.postgres
        .sql(
            `SELECT authservice || '|' || coalesce(authdata, '') FROM users WHERE username = ${sqlLiteral(username)}`,
            database,
        )
        .trim();
    if (!row) {
        return undefined;
    }
    const [authService, authData] = row.split("|");
    return { authService: authService ?? "", authData: authData ?? "" };
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
    it("presses the GitLab button and lands in Mattermost as an SSO account keyed on the AD id", async () => {
        const { token, userId } = await chatLoginOf(people.anna);
        const me = await chatApi("GET", "/users/me", token);
        expect(me).toMatchObject({
            status: 200,
            json: { id: userId, username: "anna.ad", email: "anna@corp.test", auth_service: "gitlab" },
        });
        expect(storedAccount("anna.ad")).toEqual({ authService: "gitlab", authData: "2001" });
        // Mattermost itself called Keycloak back through the public hostname, and nothing else.
        const endpoint = (name: string) =>
            new URL(identity.secrets.mattermostSetting(`MM_GITLABSETTINGS_${name}`)).pathname;
        expect(router.forwarded).toEqual(
            expect.arrayContaining([`POST ${endpoint("TOKENENDPOINT")}`, `GET ${endpoint("USERAPIENDPOINT")}`]),
        );
        expect(router.refused).toEqual([]);
    });

    it("a second login finds the same account", async () => {
        const first = await chatLoginOf(people.anna);
        const again = await chatLoginOf(people.anna);
        expect(again.userId).toBe(first.userId);
        expect(again.token).not.toBe(first.token);
    });

    it("through the GitLab emulation: a JSON number id equal to the AD attribute, username, email, name", async () => {
        const { user, userText } = await login(people.anna);
        expect(userText).toMatch(/"id":2001[,}]/);
        expect(user).toMatchObject({ id: 2001, username: "anna.ad", email: "anna@corp.test", name: "Anna Berg" });
    });

    it("is refused once disabled in AD through userAccountControl, with a password or the Keycloak session", async () => {
        // Nobody logs a disabled person out of Keycloak (the deprovisioning job may not): Keycloak must
        // refuse their session cookie itself, or their next SSO login would re-activate their account.
        const client = gitlabClient(identity);
        const send = publicFetch(identity.route);
        const query = new URLSearchParams({
            response_type: "code",
            client_id: client.clientId,
            redirect_uri: client.redirectUri,
            state: "again",
        });
        const authorizationUrl = `${client.authorizationEndpoint}?${query.toString()}`;
        const jar = new CookieJar();
        const credentials = { username: people.dora.username, password: people.dora.password };
        await browserLogin(send, authorizationUrl, credentials, jar);
        const withSession = async () => {
            const answer = await send(authorizationUrl, { headers: { cookie: jar.header() } });
            const location = answer.headers.get("location");
            return { status: answer.status, code: location ? new URL(location).searchParams.has("code") : false };
        };
        // The session logs her in again without a password: the cookie is one that would matter.
        expect(await withSession()).toEqual({ status: 302, code: true });
        await chatLoginOf(people.dora);

        dc.disable(people.dora.username);
        await expect(chatLoginOf(people.dora)).rejects.toThrow(LoginRefused);
        const again = await withSession();
        expect(again.code).toBe(false);
        expect(again.status).not.toBe(302);
    });

    it("uses the new password once it changes in AD, and no longer the old one", async () => {
        dc.setPassword(people.ben.username, "Ben-New-Pass-2025!");
        await expect(login(people.ben)).rejects.toThrow("Invalid username or password.");
        const { user } = await login(people.ben, "Ben-New-Pass-2025!");
        expect(user.id).toBe(2002);
        people.ben.password = "Ben-New-Pass-2025!";
        await expect(chatLoginOf(people.ben, "Ben-Pass-2024!")).rejects.toThrow("Invalid username or password.");
        await chatLoginOf(people.ben);
        expect(storedAccount("ben.ad")).toEqual({ authService: "gitlab", authData: "2002" });
    });

    it("without the numeric id attribute is unknown to Keycloak: no login that Mattermost would refuse later", async () => {
        await expect(login(people.nina)).rejects.toThrow("Invalid username or password.");
        expect(await admin.user(people.nina.username)).toBeUndefined();
    });
});

describe("people from AD chatting, through nginx in front of the pair", () => {
    let anna: { token: string; userId: string };
    let ben: { token: string; userId: string };
    let channelId: string;

    beforeAll(async () => {
        anna = await chatLoginOf(people.anna);
        ben = await chatLoginOf(people.ben);
        const made = await teamWithChannel(chat.primary, "corp", "general-corp");
        channelId = made.channelId;
        for (const person of [anna, ben]) {
            await local(chat.primary, "POST", `/teams/${made.teamId}/members`, {
                team_id: made.teamId,
                user_id: person.userId,
            });
            await local(chat.primary, "POST", `/channels/${channelId}/members`, { user_id: person.userId });
        }
    });

    it("Anna posts, and Ben receives it over his websocket", async () => {
        const socket = new WebSocket(`ws://127.0.0.1:${front.addresses.listenPort}/api/v4/websocket`, {
            headers: { authorization: `Bearer ${ben.token}` },
            handshakeTimeout: 5000,
        });
        try {
            const hello = new Promise<void>((resolve, reject) => {
                socket.once("message", () => resolve());
                socket.once("error", reject);
            });
            const posted = new Promise<{ user_id: string; message: string }>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error("Ben heard no post in 30 s")), 30000);
                socket.on("message", (data: Buffer) => {
                    const event = JSON.parse(data.toString("utf8")) as { event?: string; data?: { post?: string } };
                    if (event.event === "posted" && event.data?.post) {
                        clearTimeout(timer);
                        resolve(JSON.parse(event.data.post) as { user_id: string; message: string });
                    }
                });
            });
            await hello;
            const post = await chatApi("POST", "/posts", anna.token, { channel_id: channelId, message: "hi Ben" });
            expect(post.status).toBe(201);
            expect(await posted).toMatchObject({ user_id: anna.userId, message: "hi Ben" });
        } finally {
            socket.close();
        }
    });

    it("Anna's upload lands in the S3 store, and Ben downloads it", async () => {
        const form = new FormData();
        form.append("channel_id", channelId);
        form.append("files", new Blob(["minutes\n"], { type: "text/plain" }), "minutes.txt");
        const upload = await chatApi("POST", "/files", anna.token, form);
        expect(upload.status).toBe(201);
        const fileId = upload.json.file_infos[0].id as string;
        expect(
            (await chatApi("POST", "/posts", anna.token, { channel_id: channelId, message: "", file_ids: [fileId] }))
                .status,
        ).toBe(201);
        const bucket = chat.secrets.mattermostSetting("MM_FILESETTINGS_AMAZONS3BUCKET");
        const stored = filerFiles(chat.store.namespace, `/buckets/${bucket}/`);
        expect(stored.filter((file) => file.endsWith(`/${fileId}/minutes.txt`))).toHaveLength(1);
        const download = await publicFetch(chatRoute)(`${chatRoute.publicOrigin}/api/v4/files/${fileId}`, {
            headers: { authorization: `Bearer ${ben.token}` },
        });
        expect(download.status).toBe(200);
        expect(await download.text()).toBe("minutes\n");
    });
});

/**
 * Mattermost's SSO accounts of everyone who can log in, made by their own logins, and a bot (what the job
 * must not touch, with the site's admin).
 */
async function mattermostAccounts(): Promise<void> {
    const canLogIn = [...Object.values(people), ...staff].filter(
        (person) => /^\d+$/.test(person.employeeId ?? "") && person.chatUser !== false,
    );
    // Dora, disabled in AD since, logged in before.
    for (const person of canLogIn) {
        if (!storedAccount(person.username)) {
            await chatLoginOf(person);
        }
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
        await expect(chatLoginOf(people.pia)).rejects.toThrow("Mattermost completed no login");
        expect(storedAccount(people.pia.username)).toBeUndefined();
        const { summary } = await deprovision(identity.keycloak.httpUrl, { DRY_RUN: "true" });
        expect(summary.withoutValidId).toEqual([people.pia.username]);
    });
});

describe("the rendered deprovisioning job against the real Keycloak and AD", () => {
    beforeAll(() => mattermostAccounts());

    it("finds the disabled and the removed person without asking Keycloak for a sync, and deactivates only them", async () => {
        await login(people.erik);
        dc.remove(people.erik.username);
        // Dora was disabled in AD above, after a login whose Keycloak session still exists.
        const { run, summary } = await deprovision();
        // Keycloak keeps a user AD removed (removeInvalidUsersEnabled false) and shows them disabled.
        expect(summary).toMatchObject({
            outcome: "ok",
            disabled: ["dora.ad", "erik.ad"],
            orphans: [],
            localAccountsIgnored: 1,
        });
        expect(run.code).toBe(0);
        expect(await deactivated()).toEqual(["dora.ad", "erik.ad"]);
        // Her Keycloak sessions stay (the job cannot end them); Keycloak refuses them, as shown above.
        expect(await sessions(people.dora.username)).toBeGreaterThan(0);
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
        expect(summary).toMatchObject({ outcome: "ok", deactivated: ["ben.ad"] });
    });
});

describe("Keycloak failing under the job", () => {
    let proxy: FaultProxy;

    beforeAll(async () => {
        proxy = await startFaultProxy(identity.keycloak.httpUrl);
        dc.disable(staff[0].username);
    });
    afterAll(() => proxy?.stop());

    const expectNobodyDeactivated = async () => expect(await deactivated()).toEqual(["ben.ad", "dora.ad", "erik.ad"]);

    it("stopping mid-run: nobody is deactivated, and the run says why", async () => {
        // The third count opens the second read of Keycloak's users, after Mattermost's were read.
        proxy.rules = [{ match: /\/users\/count$/, fault: { kind: "drop" }, after: 2 }];
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
        expect(summary).toMatchObject({ outcome: "ok", deactivated: ["staff0.ad"] });
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
