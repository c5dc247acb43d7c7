/**
 * The real Mattermost server (Team Edition, built from its Go module by `npm run -s toolchain -- build`),
 * started on loopback as a rendered Deployment (`mattermost-1`, the primary, or `mattermost-2`, the
 * backup) starts it: every entry of the container's env and envFrom (the settings ConfigMap and the
 * secrets Secret), placeholders filled with the test's values, configuration in PostgreSQL through
 * MM_CONFIG. Only what cannot be the same outside a pod is rewritten, each rewrite named below. Ready
 * when the Deployment's own readiness probe path answers.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { mattermostAssetDirs, mattermostBuild } from "../../scripts/toolchain/peers";
import { findDeployment, type Container } from "./keycloakServer";
import { freePort } from "./nginxHarness";
import { sqlLiteral, type PostgresServer } from "./postgresServer";
import type { Rendered } from "./render";

type Manifest = Record<string, any>;

/** Fills the render's `<secret:NAME>` placeholders (see tests/identity/fixture.ts, StackSecrets). */
export interface SecretFiller {
    fill(text: string): string;
}

/** The image's working directory: its mounts (config, logs, plugins) are relative to it there. */
const imageWorkingDir = "/mattermost";

function mattermostContainer(deployment: Manifest): Container {
    const container = (deployment.spec.template.spec.containers as Container[]).find((c) => c.name === "mattermost");
    if (!container) {
        throw new Error(`Deployment ${deployment.metadata.name} has no mattermost container`);
    }
    return container;
}

function byName(rendered: Rendered, kind: string, name: string): Manifest {
    const found = rendered.manifests.find((m: Manifest) => m.kind === kind && m.metadata?.name === name);
    if (!found) {
        throw new Error(`the render has no ${kind} ${name}`);
    }
    return found;
}

/**
 * The container's environment as the kubelet builds it: envFrom sources first, in order, then env
 * entries (literal values only here), which win.
 */
export function mattermostEnvironment(
    rendered: Rendered,
    deploymentName: string,
    secrets: SecretFiller,
): Record<string, string> {
    return containerEnvironment(
        rendered,
        mattermostContainer(findDeployment(rendered.manifests, deploymentName)),
        secrets,
    );
}

function containerEnvironment(rendered: Rendered, container: Container, secrets: SecretFiller): Record<string, string> {
    const env: Record<string, string> = {};
    for (const source of (container.envFrom ?? []) as Manifest[]) {
        const data = source.configMapRef
            ? byName(rendered, "ConfigMap", source.configMapRef.name).data
            : source.secretRef
              ? byName(rendered, "Secret", source.secretRef.name).stringData
              : undefined;
        if (!data) {
            throw new Error(
                `container ${container.name}: envFrom ${JSON.stringify(source)} is neither a ConfigMap nor a Secret`,
            );
        }
        for (const [name, value] of Object.entries(data as Record<string, string>)) {
            env[name] = secrets.fill(value);
        }
    }
    for (const entry of container.env ?? []) {
        if (entry.valueFrom) {
            throw new Error(`container ${container.name}: env ${entry.name} is not a literal value`);
        }
        env[entry.name] = entry.value ?? "";
    }
    return env;
}

/** `postgres://user:password@host:port/database?...` with the host and port replaced. */
function rewritePostgresHost(dsn: string, host: string, port: number): string {
    const url = new URL(dsn);
    url.hostname = host;
    url.port = String(port);
    return url.toString();
}

/** Rewrite: the database host and port, to the loopback PostgreSQL; user, password, database and parameters stay. */
function rewriteDatabase(env: Record<string, string>, database: { host: string; port: number }): void {
    for (const name of ["MM_CONFIG", "MM_SQLSETTINGS_DATASOURCE"]) {
        if (env[name]?.startsWith("postgres")) {
            env[name] = rewritePostgresHost(env[name], database.host, database.port);
        }
    }
}

/** Where the server's binary is in Mattermost's images; here, the build's. */
const imageBinary = "/mattermost/bin/mattermost";

export interface MigrationRun {
    readonly status: number | null;
    readonly output: string;
}

/**
 * The rendered schema migration Job's container, run as the cluster runs it before the pair rolls: its
 * command (the image's binary being the build's) with its environment, the database rewritten to the
 * loopback PostgreSQL.
 */
export function runSchemaMigration(
    rendered: Rendered,
    secrets: SecretFiller,
    database: { readonly host: string; readonly port: number },
): MigrationRun {
    const job: Manifest | undefined = rendered.manifests.find(
        (m: Manifest) => m.kind === "Job" && String(m.metadata?.name).startsWith("mattermost-schema-migration-"),
    );
    const container = (job?.spec.template.spec.containers as Container[] | undefined)?.find(
        (c) => c.name === "migrate",
    );
    const [binary, ...args] = container?.command ?? [];
    if (!container || binary !== imageBinary) {
        throw new Error(`the render has no schema migration Job running ${imageBinary}`);
    }
    const env = containerEnvironment(rendered, container, secrets);
    rewriteDatabase(env, database);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "schema-migration-"));
    try {
        const run = spawnSync(mattermostBuild().binary, args, {
            cwd: home,
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...env },
            encoding: "utf8",
            timeout: 300000,
        });
        return { status: run.status, output: `${run.stdout}${run.stderr}` };
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
}

/**
 * Creates the rendered database user and database (the in-cluster PostgreSQL's POSTGRES_USER, _PASSWORD,
 * _DB), as its image does at first start.
 */
export function prepareMattermostDatabase(postgres: PostgresServer, rendered: Rendered, secrets: SecretFiller): void {
    const credentials = rendered.manifests.find(
        (m: Manifest) => m.kind === "Secret" && String(m.metadata?.name).startsWith("mattermost-postgres-credentials"),
    );
    if (!credentials) {
        throw new Error("the render has no mattermost-postgres-credentials Secret (databaseMode is not inCluster?)");
    }
    const data = credentials.stringData as Record<string, string>;
    const user = secrets.fill(data.POSTGRES_USER);
    const database = secrets.fill(data.POSTGRES_DB);
    const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
    postgres.sql(`CREATE ROLE ${identifier(user)} LOGIN PASSWORD ${sqlLiteral(secrets.fill(data.POSTGRES_PASSWORD))}`);
    postgres.sql(`CREATE DATABASE ${identifier(database)} OWNER ${identifier(user)}`);
}

export interface StartMattermostOptions {
    readonly rendered: Rendered;
    /** `mattermost-1` (primary) or `mattermost-2` (backup). */
    readonly deployment: string;
    readonly secrets: SecretFiller;
    readonly database: { readonly host: string; readonly port: number };
    /** Where the S3 store listens here, in place of the rendered Service (absent: the rendered endpoint). */
    readonly s3Endpoint?: string;
    /** Files for the container's mounts, by their path in the pod (e.g. the trust bundle's PEM file). */
    readonly files?: Readonly<Record<string, string>>;
    /**
     * The test's stand-in for the cluster's router (tests/helpers/publicRouter.ts): where the server's
     * calls to the chat's public hostname go (absent: nowhere, as the hostname resolves to nothing here).
     */
    readonly publicRouterProxy?: string;
    /** Settings the test changes on top of the render (named in the test, e.g. to turn a feature on). */
    readonly overrides?: Readonly<Record<string, string>>;
    readonly startTimeoutMs?: number;
    /** The loopback port to listen on (a free one when absent), e.g. a killed server's, to come back on. */
    readonly port?: number;
    /**
     * A host name of its own, as a pod has (a UTS namespace): the server names it in its websocket hello
     * (`server_hostname`), which tells which server a socket reached through nginx is on.
     */
    readonly hostname?: string;
}

export interface MattermostServer {
    /** `http://127.0.0.1:<port>`: the API, as nginx reaches it. */
    readonly url: string;
    readonly port: number;
    readonly pid: number;
    /** The local-mode socket (ServiceSettings.LocalModeSocketLocation, rewritten into the server's dir). */
    readonly socket: string;
    readonly env: Readonly<Record<string, string>>;
    log(): string;
    /** Calls the API over the local-mode socket, as `mmctl --local` does: no token, the server's own admin. */
    local(method: string, apiPath: string, body?: unknown): Promise<{ status: number; json: any }>;
    stop(signal?: NodeJS.Signals): Promise<void>;
    /** SIGSTOP / SIGCONT: a hung server (sockets open, nothing answered). */
    pause(): void;
    resume(): void;
    remove(): Promise<void>;
}

function tail(text: string, lines = 40): string {
    return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function localCall(socket: string, method: string, apiPath: string, body?: unknown) {
    return new Promise<{ status: number; json: any }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request(
            {
                socketPath: socket,
                method,
                path: `/api/v4${apiPath}`,
                headers: payload ? { "content-type": "application/json" } : {},
                timeout: 30000,
            },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => (text += chunk));
                res.on("end", () =>
                    resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
                );
            },
        );
        req.on("timeout", () => req.destroy(new Error(`local ${method} ${apiPath} timed out`)));
        req.on("error", reject);
        req.end(payload);
    });
}

async function waitReady(url: string, child: ChildProcess, logPath: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(
                `mattermost exited (${child.exitCode ?? child.signalCode}):\n${tail(fs.readFileSync(logPath, "utf8"))}`,
            );
        }
        try {
            const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
            if (response.ok) {
                return;
            }
        } catch {
            // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`mattermost not ready in ${timeoutMs} ms:\n${tail(fs.readFileSync(logPath, "utf8"))}`);
}

export async function startMattermost(options: StartMattermostOptions): Promise<MattermostServer> {
    const build = mattermostBuild();
    const deployment = findDeployment(options.rendered.manifests, options.deployment);
    const container = mattermostContainer(deployment);
    if (container.command?.length || container.args?.length) {
        throw new Error("the mattermost container overrides the image's command, which this harness does not run");
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${options.deployment}-`));
    const work = path.join(dir, "mattermost");
    fs.mkdirSync(work);
    // The image's working directory holds the server's translations, templates and fonts; here they are
    // links to the build's copies. Its mounts below /mattermost are directories of this server.
    for (const asset of mattermostAssetDirs) {
        fs.symlinkSync(path.join(build.assets, asset), path.join(work, asset));
    }
    const mounts: [string, string][] = (container.volumeMounts ?? []).map(({ mountPath }) => [
        mountPath,
        mountPath.startsWith(`${imageWorkingDir}/`)
            ? path.join(work, mountPath.slice(imageWorkingDir.length + 1))
            : path.join(dir, "mounts", mountPath),
    ]);
    for (const [, local] of mounts) {
        fs.mkdirSync(local, { recursive: true });
    }
    const inMount = (inPod: string) => {
        const mount = mounts.find(([mountPath]) => inPod === mountPath || inPod.startsWith(`${mountPath}/`));
        return mount ? mount[1] + inPod.slice(mount[0].length) : undefined;
    };
    for (const [inPod, content] of Object.entries(options.files ?? {})) {
        const local = inMount(inPod);
        if (!local) {
            throw new Error(`${inPod} is in none of the container's mounts`);
        }
        fs.mkdirSync(path.dirname(local), { recursive: true });
        fs.writeFileSync(local, content);
    }

    const env = mattermostEnvironment(options.rendered, options.deployment, options.secrets);
    rewriteDatabase(env, options.database);
    // Rewrite: the listen address, to a free loopback port (a pod has its own network; here two servers
    // share one).
    const port = options.port ?? (await freePort());
    env.MM_SERVICESETTINGS_LISTENADDRESS = `127.0.0.1:${port}`;
    // Rewrite: the local-mode socket, into this server's directory (the pod's /var/tmp is its own).
    const socket = path.join(dir, "mattermost_local.socket");
    env.MM_SERVICESETTINGS_LOCALMODESOCKETLOCATION = socket;
    // Rewrite: the S3 endpoint, to the loopback store (the rendered one is a cluster Service name).
    if (options.s3Endpoint) {
        env.MM_FILESETTINGS_AMAZONS3ENDPOINT = options.s3Endpoint;
    }
    // Rewrite: paths in mounts to this server's directories: SSL_CERT_DIR's trust bundle directory, and
    // JSON strings naming a file in a mount (the advanced logging's file target).
    if (env.SSL_CERT_DIR) {
        env.SSL_CERT_DIR = env.SSL_CERT_DIR.split(":")
            .map((item) => inMount(item) ?? item)
            .join(":");
    }
    for (const [name, value] of Object.entries(env)) {
        env[name] = value.replace(/"(\/[^"]+)"/g, (whole, inPod: string) => {
            const local = inMount(inPod);
            return local ? JSON.stringify(local) : whole;
        });
    }
    // Added: the chat's public hostname is reached through the router (in the cluster the name resolves
    // to it, e.g. for the GitLab login's token and user calls); the S3 store is reached directly.
    if (options.publicRouterProxy) {
        env.HTTPS_PROXY = options.publicRouterProxy;
        env.NO_PROXY = new URL(`https://${env.MM_FILESETTINGS_AMAZONS3ENDPOINT ?? "localhost"}`).hostname;
    }
    Object.assign(env, options.overrides ?? {});

    const logPath = path.join(dir, "mattermost.log");
    const logFd = fs.openSync(logPath, "a");
    // unshare and sh exec in turn, so the child's pid is the server's own (signals reach it).
    const [program, ...args] = options.hostname
        ? ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$1"', options.hostname, build.binary]
        : [build.binary];
    const child = spawn(program ?? build.binary, args, {
        cwd: work,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env },
        stdio: ["ignore", logFd, logFd],
    });
    const url = `http://127.0.0.1:${port}`;
    const probe = container.readinessProbe?.httpGet?.path ?? "/api/v4/system/ping";
    try {
        await waitReady(`${url}${probe}`, child, logPath, options.startTimeoutMs ?? 180000);
    } catch (error) {
        child.kill("SIGKILL");
        fs.closeSync(logFd);
        throw error;
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const server: MattermostServer = {
        url,
        port,
        pid: child.pid!,
        socket,
        env,
        log: () => fs.readFileSync(logPath, "utf8"),
        local: (method, apiPath, body) => localCall(socket, method, apiPath, body),
        async stop(signal = "SIGTERM") {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGCONT");
                child.kill(signal);
                const killer = setTimeout(() => child.kill("SIGKILL"), 30000);
                await exited;
                clearTimeout(killer);
            }
        },
        pause: () => child.kill("SIGSTOP"),
        resume: () => child.kill("SIGCONT"),
        async remove() {
            await server.stop();
            fs.closeSync(logFd);
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    return server;
}
