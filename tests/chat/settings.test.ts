/**
 * The rendered settings, as Mattermost itself takes them: the real server (Team Edition) starts with every
 * setting and secret of the test stack's render, which it refuses to do when the resulting configuration
 * fails its own validation (config.Store.Load runs Config.IsValid on it), and it reports which of its
 * configuration fields the environment set, so a variable that names no field shows. The store is the real
 * SeaweedFS started with the rendered flags.
 */
import { renderStack, type Rendered } from "../helpers/render";
import { mattermostEnvironment, startMattermost } from "../helpers/mattermostServer";
import { StackSecrets } from "../identity/fixture";
import { storeAddress } from "../helpers/seaweedServer";
import { adminBot, Api, offlineOverrides, startChat, type Chat } from "./fixture";

/** `MM_SECTION_FIELD` → `["Section", "Field"]`, as found in Mattermost's map of environment overrides. */
function overriddenField(map: Record<string, unknown>, variable: string): string[] | undefined {
    const walk = (node: unknown, rest: string, pathSoFar: string[]): string[] | undefined => {
        if (node === true) {
            return rest === "" ? pathSoFar : undefined;
        }
        if (!node || typeof node !== "object") {
            return undefined;
        }
        for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
            const upper = key.toUpperCase();
            if (rest === upper || rest.startsWith(`${upper}_`)) {
                const found = walk(child, rest.slice(upper.length + 1), [...pathSoFar, key]);
                if (found) {
                    return found;
                }
            }
        }
        return undefined;
    };
    return walk(map, variable.replace(/^MM_/, ""), []);
}

describe("the test stack's settings on the real Mattermost", () => {
    let rendered: Rendered;
    let chat: Chat;
    let admin: Api;

    beforeAll(async () => {
        rendered = renderStack("test");
        chat = await startChat(rendered);
        admin = new Api(chat.primary, (await adminBot(chat.primary)).token);
    });
    afterAll(async () => {
        await chat?.stop();
    });

    it("takes every rendered MM_ variable as a field of its configuration", async () => {
        const { status, json } = await admin.call("GET", "/config/environment");
        expect(status).toBe(200);
        const env = mattermostEnvironment(rendered, "mattermost-1", chat.secrets);
        // MM_CONFIG is where the configuration lives, not a field of it.
        const variables = Object.keys(env).filter((name) => name.startsWith("MM_") && name !== "MM_CONFIG");
        expect(variables.length).toBeGreaterThan(40);
        const unknown = variables.filter((name) => !overriddenField(json as Record<string, unknown>, name));
        expect(unknown).toEqual([]);
    });

    it("takes the prod stack's settings too, as far as Team Edition 11 has them", async () => {
        const prod = renderStack("prod");
        // The prod stack's database is the company's: here it is the test stack's, the one thing changed.
        const server = await startMattermost({
            rendered: prod,
            deployment: "mattermost-1",
            secrets: new StackSecrets(prod),
            database: { host: "127.0.0.1", port: chat.postgres.port },
            overrides: {
                ...offlineOverrides,
                MM_CONFIG: chat.primary.env.MM_CONFIG,
                MM_SQLSETTINGS_DATASOURCE: chat.primary.env.MM_SQLSETTINGS_DATASOURCE,
            },
        });
        try {
            const { status, json } = await new Api(server, admin.token).call("GET", "/config/environment");
            expect(status).toBe(200);
            const env = mattermostEnvironment(prod, "mattermost-1", new StackSecrets(prod));
            const variables = Object.keys(env).filter((name) => name.startsWith("MM_") && name !== "MM_CONFIG");
            expect(variables).toContain("MM_OPENIDSETTINGS_DISCOVERYENDPOINT");
            expect(variables.filter((name) => !overriddenField(json as Record<string, unknown>, name))).toEqual([]);
        } finally {
            await server.remove();
        }
    });

    it("runs with the rendered values (read back from the running configuration)", async () => {
        const { json: config } = await admin.call("GET", "/config");
        expect(config.ServiceSettings.SiteURL).toBe("https://chat.test.example.com");
        expect(config.FileSettings.DriverName).toBe("amazons3");
        expect(config.GitLabSettings.Enable).toBe(true);
        expect(config.PluginSettings.Enable).toBe(false);
        expect(config.JobSettings.RunJobs).toBe(true);
        // Secrets are masked even to a system admin.
        expect(config.FileSettings.AmazonS3SecretAccessKey).toBe("********************************");
    });

    it("starts the backup with jobs and the scheduler off, on the same database", async () => {
        const backup = await chat.startServer("mattermost-2");
        const backupAdmin = new Api(backup, admin.token);
        const { json: config } = await backupAdmin.call("GET", "/config");
        expect(config.JobSettings.RunJobs).toBe(false);
        expect(config.JobSettings.RunScheduler).toBe(false);
        // The same people: the bot made on the primary is known to the backup.
        expect((await backupAdmin.call("GET", "/users/me")).status).toBe(200);
    });

    it("keeps SeaweedFS reachable from outside its pod on the S3 gateway's ports alone, and admits only S3", () => {
        const s3Port = Number(chat.store.endpoint.split(":")[1]);
        const outside = chat.store
            .listeners()
            .filter(({ address }) => !address.startsWith("127.") && address !== "::1")
            .map(({ port }) => port);
        // The gateway's own gRPC service (its IAM cache, at port + 10000) always listens where the gateway
        // does: SeaweedFS has no switch for it. The store's NetworkPolicy admits the S3 port alone.
        expect([...outside].sort((a, b) => a - b)).toEqual([s3Port, s3Port + 10000]);
        const policy = rendered.manifests.find(
            (m: Record<string, any>) => m.kind === "NetworkPolicy" && m.metadata?.name === "mattermost-file-store",
        ) as Record<string, any>;
        expect(policy.spec.ingress.flatMap((rule: any) => rule.ports.map((p: any) => p.port))).toEqual([s3Port]);
        expect(chat.store.endpoint.startsWith(storeAddress)).toBe(true);
    });
});
