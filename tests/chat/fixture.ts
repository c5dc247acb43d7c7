/**
 * What the chat tests share: the test stack rendered, its secrets given values (StackSecrets), and the
 * real servers it runs, started from the render: PostgreSQL, SeaweedFS (the in-cluster S3 store) with a
 * certificate of a CA the test makes, and Mattermost (primary, and the backup when asked) trusting that
 * CA through the rendered trust bundle, after the rendered schema migration Job has run. The tests'
 * own eyes and hands on Mattermost are its local-mode socket (what `mmctl --local` uses in the pod)
 * and a system-admin bot's token made through it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeCertificateAuthority, makeServerCertificate, type Issued } from "../helpers/certificates";
import {
    prepareMattermostDatabase,
    runSchemaMigration,
    startMattermost,
    type MattermostServer,
    type StartMattermostOptions,
} from "../helpers/mattermostServer";
import { startPostgres, type PostgresServer } from "../helpers/postgresServer";
import type { Rendered } from "../helpers/render";
import { startSeaweed, storeAddress, type SeaweedServer } from "../helpers/seaweedServer";
import { StackSecrets } from "../identity/fixture";

type Manifest = Record<string, any>;

/**
 * Settings the tests change on top of the render, and why: these make the server call Mattermost's own
 * hosts at start (security bulletins, product notices), and the machines running the tests reach none.
 */
export const offlineOverrides: Readonly<Record<string, string>> = {
    MM_SERVICESETTINGS_ENABLESECURITYFIXALERT: "false",
    MM_ANNOUNCEMENTSETTINGS_ADMINNOTICESENABLED: "false",
    MM_ANNOUNCEMENTSETTINGS_USERNOTICESENABLED: "false",
};

/** The trust bundle ConfigMap's file, where the pod mounts it, with the test's CAs for its placeholders. */
function trustBundle(rendered: Rendered, cas: Readonly<Record<string, Issued>>): [string, string] {
    const configMap: Manifest | undefined = rendered.manifests.find(
        (m: Manifest) => m.kind === "ConfigMap" && String(m.metadata?.name).startsWith("trust-bundle"),
    );
    const [file, text] = Object.entries((configMap?.data ?? {}) as Record<string, string>)[0] ?? [];
    if (!file || text === undefined) {
        throw new Error("the render has no trust bundle ConfigMap");
    }
    const primary: Manifest | undefined = rendered.manifests.find(
        (m: Manifest) => m.kind === "Deployment" && m.metadata?.name === "mattermost-1",
    );
    const volume = (primary?.spec.template.spec.volumes as Manifest[]).find(
        (v) => v.configMap?.name === configMap!.metadata.name,
    );
    const mount = (primary?.spec.template.spec.containers as Manifest[])
        .flatMap((c) => c.volumeMounts as Manifest[])
        .find((m) => m.name === volume?.name);
    if (!mount) {
        throw new Error("the primary does not mount the trust bundle");
    }
    const filled = text.replace(/<certificate:([^>]+)>/g, (_whole, name: string) => {
        const ca = cas[name];
        if (!ca) {
            throw new Error(`the trust bundle names ${name}, and the test made no CA for it`);
        }
        return ca.certificate.trim();
    });
    return [path.join(mount.mountPath as string, file), filled];
}

/** The DNS names the rendered S3 store's certificate is requested for. */
function storeCertificateNames(rendered: Rendered): string[] {
    const request = rendered.resources.find(
        (r) => r.type.startsWith("tls:") && Array.isArray(r.inputs.dnsNames) && r.name.includes("s3"),
    );
    if (!request) {
        throw new Error("the render requests no certificate for the S3 store");
    }
    return request.inputs.dnsNames as string[];
}

export interface Chat {
    readonly rendered: Rendered;
    readonly secrets: StackSecrets;
    readonly postgres: PostgresServer;
    readonly store: SeaweedServer;
    readonly primary: MattermostServer;
    /** The chat's first person, its system admin. */
    readonly siteAdmin: { readonly id: string; readonly username: string; readonly password: string };
    /** The trust bundle as mounted, by path in the pod. */
    readonly trustFiles: Readonly<Record<string, string>>;
    /** Starts another server of the pair (or the primary again) on the same database and store. */
    startServer(deployment: string, extra?: Partial<StartMattermostOptions>): Promise<MattermostServer>;
    stop(): Promise<void>;
}

export async function startChat(
    rendered: Rendered,
    options: {
        overrides?: Record<string, string>;
        secrets?: StackSecrets;
        /** The stand-in for the cluster's router, for calls to the chat's public hostname (publicRouter.ts). */
        publicRouterProxy?: string;
    } = {},
): Promise<Chat> {
    // Shared with Keycloak's servers when a test runs both: one value per secret, as in the cluster.
    const secrets = options.secrets ?? new StackSecrets(rendered);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-ca-"));
    const storeCa = makeCertificateAuthority(dir, "mattermost-s3-ca");
    const pushCa = makeCertificateAuthority(dir, "push-host-ca");
    const names = [...storeCertificateNames(rendered), storeAddress];
    const storeCertificate = makeServerCertificate(dir, storeCa, "mattermost-s3", names);
    const [bundlePath, bundle] = trustBundle(rendered, { "mattermost-s3-ca": storeCa, "push-host-ca": pushCa });
    const trustFiles = { [bundlePath]: bundle };

    const started: { stop(): Promise<void> }[] = [];
    const stopAll = async () => {
        for (const server of started.reverse()) {
            await server.stop();
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        const postgres = await startPostgres();
        started.push(postgres);
        prepareMattermostDatabase(postgres, rendered, secrets);
        // As in the cluster, where the pair's Deployments wait for the schema migration Job.
        const migration = runSchemaMigration(rendered, secrets, { host: "127.0.0.1", port: postgres.port });
        if (migration.status !== 0) {
            throw new Error(`the schema migration exited ${migration.status}:\n${migration.output.slice(-4000)}`);
        }
        const store = await startSeaweed({
            rendered,
            secrets,
            certificate: storeCertificate.certificate,
            key: fs.readFileSync(storeCertificate.keyPath, "utf8"),
        });
        started.push(store);
        const servers: MattermostServer[] = [];
        started.push({ stop: async () => void (await Promise.all(servers.map((server) => server.remove()))) });
        const startServer = async (deployment: string, extra: Partial<StartMattermostOptions> = {}) => {
            const server = await startMattermost({
                rendered,
                deployment,
                secrets,
                database: { host: "127.0.0.1", port: postgres.port },
                s3Endpoint: store.endpoint,
                files: trustFiles,
                publicRouterProxy: options.publicRouterProxy,
                ...extra,
                overrides: { ...offlineOverrides, ...options.overrides, ...extra.overrides },
            });
            servers.push(server);
            return server;
        };
        const primary = await startServer("mattermost-1");
        // The first person to sign up in a new chat becomes its system admin (bots do not count): made
        // here, so that the people the tests make are plain members.
        const siteAdmin = await createPerson(primary, "site-admin");
        return { rendered, secrets, postgres, store, primary, siteAdmin, trustFiles, startServer, stop: stopAll };
    } catch (error) {
        await stopAll();
        throw error;
    }
}

/** An API client of one server: a token's bearer, or nobody. */
export class Api {
    constructor(
        readonly server: MattermostServer,
        readonly token?: string,
    ) {}

    async call(
        method: string,
        apiPath: string,
        body?: unknown,
    ): Promise<{ status: number; json: any; headers: Headers }> {
        const response = await fetch(`${this.server.url}/api/v4${apiPath}`, {
            method,
            headers: {
                ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
                ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(30000),
        });
        const text = await response.text();
        let json: unknown = text;
        try {
            json = text ? JSON.parse(text) : undefined;
        } catch {
            // not JSON: kept as text
        }
        return { status: response.status, json, headers: response.headers };
    }
}

/** A local-mode call that must succeed; returns its JSON. */
export async function local(server: MattermostServer, method: string, apiPath: string, body?: unknown): Promise<any> {
    const { status, json } = await server.local(method, apiPath, body);
    if (status >= 300) {
        throw new Error(`local ${method} ${apiPath} answered ${status}: ${JSON.stringify(json)}`);
    }
    return json;
}

let userCount = 0;

/** A person with a password login (local accounts: the test stack keeps local login on). */
export async function createPerson(
    server: MattermostServer,
    username: string,
    extra: Record<string, unknown> = {},
): Promise<{ id: string; username: string; password: string }> {
    userCount += 1;
    const password = `Pw-${username}-${process.pid}-${userCount}-x9!`;
    const user = await local(server, "POST", "/users", {
        username,
        email: `${username}@test.example.com`,
        password,
        ...extra,
    });
    return { id: user.id as string, username, password };
}

/** Logs a person in with their password; returns the session token. */
export async function passwordLogin(server: MattermostServer, loginId: string, password: string): Promise<string> {
    const response = await fetch(`${server.url}/api/v4/users/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ login_id: loginId, password }),
    });
    const token = response.headers.get("token");
    if (response.status !== 200 || !token) {
        throw new Error(`login of ${loginId} answered ${response.status}: ${await response.text()}`);
    }
    return token;
}

/**
 * A system-admin bot and its access token, made over the local-mode socket: a user, given the
 * system_admin role, converted to a bot, then a token for it. (Bots' tokens work with the rendered
 * EnableUserAccessTokens=false; people's do not.)
 */
export async function adminBot(
    server: MattermostServer,
    username = "chat-tests-admin",
): Promise<{ id: string; token: string }> {
    const user = await createPerson(server, username);
    await local(server, "PUT", `/users/${user.id}/roles`, { roles: "system_user system_admin" });
    await local(server, "POST", `/users/${user.id}/convert_to_bot`);
    const token = await local(server, "POST", `/users/${user.id}/tokens`, { description: "chat tests" });
    return { id: user.id, token: token.token as string };
}

/** A team and a public channel in it, made over the local-mode socket. */
export async function teamWithChannel(
    server: MattermostServer,
    team: string,
    channel: string,
): Promise<{ teamId: string; channelId: string }> {
    const created = await local(server, "POST", "/teams", { name: team, display_name: team, type: "O" });
    const made = await local(server, "POST", "/channels", {
        team_id: created.id,
        name: channel,
        display_name: channel,
        type: "O",
    });
    return { teamId: created.id as string, channelId: made.id as string };
}
