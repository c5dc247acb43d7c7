/**
 * The rendered deprovisioning job against the real Keycloak and the real Mattermost, both started from the
 * test stack's render: a person disabled in Keycloak is deactivated in Mattermost, which ends their
 * sessions and personal access tokens and disables their bots; active people, local accounts and the
 * allow-list are untouched; the job maps each Mattermost account to its Keycloak user by what the server's
 * user list really returns.
 *
 * The test stack has no AD (its people are Keycloak's own test users), and the SSO accounts are made over
 * Mattermost's local-mode socket as its GitLab login makes them (auth_service gitlab, auth_data the
 * person's numeric id): the login itself through Keycloak is the identity suite's (tests/identity/).
 */
import * as fs from "node:fs";
import { renderStack, type Rendered } from "../helpers/render";
import { renderedProgram, runProgram } from "../helpers/renderedProgram";
import {
    AdminApi,
    applied,
    applyRealm,
    local as keycloakUrl,
    startIdentity,
    StackSecrets,
    type Identity,
} from "../identity/fixture";
import { adminBot, Api, local, startChat, type Chat } from "./fixture";

let rendered: Rendered;
let identity: Identity;
let chat: Chat;
let token: string;
let keycloak: AdminApi;

/** The test stack's people (testUsers), as Keycloak has them after the realm is applied. */
async function keycloakUser(username: string): Promise<{ id: string; attributes: Record<string, string[]> }> {
    const [user] = (await keycloak.get(`/mattermost/users?username=${username}&exact=true`)) as {
        id: string;
        attributes: Record<string, string[]>;
    }[];
    if (!user) {
        throw new Error(`Keycloak has no user ${username}`);
    }
    return user;
}

/** The Mattermost account of a Keycloak person, as the GitLab login creates it. */
async function ssoAccount(username: string): Promise<string> {
    const person = await keycloakUser(username);
    const user = await local(chat.primary, "POST", "/users", {
        username,
        email: `${username}@test.example.com`,
        auth_service: "gitlab",
        auth_data: person.attributes.mattermostId?.[0],
    });
    return user.id as string;
}

async function setEnabled(username: string, enabled: boolean): Promise<void> {
    const person = await keycloakUser(username);
    const { status } = await keycloak.call("PUT", `/mattermost/users/${person.id}`, { enabled });
    expect(status).toBe(204);
}

/** The rendered CronJob's program, with Keycloak and Mattermost at their local addresses. */
async function deprovision(overrides: Record<string, string> = {}) {
    const program = renderedProgram(rendered, "CronJob", "deprovision", identity.keys);
    const run = await runProgram(program, {
        KEYCLOAK_URL: keycloakUrl(identity, program.env.KEYCLOAK_URL),
        MATTERMOST_URL: chat.primary.url,
        // The test stack sets no mattermostAdminToken (the CronJob is rendered suspended): the test's bot's.
        MATTERMOST_TOKEN: token,
        ...overrides,
    });
    fs.rmSync(program.dir, { recursive: true, force: true });
    const summary = run.lines.find((line) => line.event === "deprovision-summary");
    if (!summary) {
        throw new Error(`the deprovisioning job printed no summary (${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
    return summary;
}

beforeAll(async () => {
    rendered = renderStack("test");
    const secrets = new StackSecrets(rendered);
    identity = await startIdentity(rendered, secrets);
    try {
        applied(await applyRealm(identity));
        keycloak = new AdminApi(identity);
        // People's personal access tokens are off in the test stack; on here so that one exists to be revoked.
        chat = await startChat(rendered, { secrets, overrides: { MM_SERVICESETTINGS_ENABLEUSERACCESSTOKENS: "true" } });
        token = (await adminBot(chat.primary)).token;
    } catch (error) {
        await identity.stop();
        throw error;
    }
});

afterAll(async () => {
    await chat?.stop();
    await identity?.stop();
});

describe("the deprovisioning job against the real Keycloak and Mattermost", () => {
    let alice: string;
    let bob: string;
    let bobToken: string;
    let bobBot: string;

    beforeAll(async () => {
        alice = await ssoAccount("alice");
        bob = await ssoAccount("bob");
        bobToken = (await local(chat.primary, "POST", `/users/${bob}/tokens`, { description: "bob's script" })).token;
        const bot = await local(chat.primary, "POST", "/users", {
            username: "bob-bot",
            email: "bob-bot@test.example.com",
            password: `Pw-bob-bot-${process.pid}-x9!`,
        });
        await local(chat.primary, "POST", `/users/${bot.id}/convert_to_bot`);
        await local(chat.primary, "POST", `/bots/${bot.id}/assign/${bob}`);
        bobBot = bot.id as string;
    });

    it("maps every SSO account to its Keycloak user, and changes nothing while everyone is enabled", async () => {
        const summary = await deprovision();
        expect(summary).toMatchObject({
            outcome: "ok",
            mattermostSsoAccounts: 2,
            orphans: [],
            disabled: [],
            deactivated: [],
            // The first run's view is kept as a preference of the job's bot, through the real API.
            lastGood: null,
            recordedAsGood: true,
        });
        // The site's first person and the tests' admin bot are local accounts (bots are not counted).
        expect(summary.localAccountsIgnored).toBe(1);
    });

    it("leaves an allow-listed person alone", async () => {
        await setEnabled("bob", false);
        const summary = await deprovision({ ALLOW_LIST: "bob" });
        expect(summary).toMatchObject({ outcome: "ok", allowListed: ["bob"], deactivated: [] });
        expect((await local(chat.primary, "GET", `/users/${bob}`)).delete_at).toBe(0);
    });

    it("deactivates the disabled person: their token stops working and their bot is disabled", async () => {
        const asBob = new Api(chat.primary, bobToken);
        expect((await asBob.call("GET", "/users/me")).status).toBe(200);

        const summary = await deprovision();
        expect(summary).toMatchObject({
            outcome: "ok",
            disabled: ["bob"],
            deactivated: ["bob"],
        });
        expect((await local(chat.primary, "GET", `/users/${bob}`)).delete_at).toBeGreaterThan(0);
        expect((await asBob.call("GET", "/users/me")).status).toBe(401);
        const bot = await local(chat.primary, "GET", `/bots/${bobBot}?include_deleted=true`);
        expect(bot.delete_at).toBeGreaterThan(0);
        // Everyone else as they were.
        expect((await local(chat.primary, "GET", `/users/${alice}`)).delete_at).toBe(0);
        expect((await local(chat.primary, "GET", `/users/${chat.siteAdmin.id}`)).delete_at).toBe(0);
    });

    it("changes nothing on the next run", async () => {
        const summary = await deprovision();
        expect(summary).toMatchObject({ outcome: "ok", mattermostSsoAccounts: 1, deactivated: [] });
        // Read back from Mattermost: the view kept since bob was disabled, unchanged since, so not rewritten.
        expect(summary.lastGood).toMatchObject({
            enabledUsers: summary.enabledKeycloakUsers,
            users: summary.keycloakUsers,
        });
        expect(summary.recordedAsGood).toBe(false);
    });
});
