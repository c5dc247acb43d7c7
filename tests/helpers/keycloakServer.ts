/**
 * The real Keycloak (the distribution of the pinned image, cached by `npm run -s toolchain -- build`),
 * started on loopback exactly as the rendered Deployment starts it: the container's args and every env
 * entry as rendered, secret values from the test, and only what cannot be the same outside a pod
 * rewritten, each rewrite named below. Ready when the Deployment's own probes say so.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { quantityValue } from "../../config/schemas";
import { ensureKeycloak, keycloakJavaHome } from "../../scripts/toolchain/keycloak";
import { freePort, request } from "./nginxHarness";
import { sqlLiteral, type PostgresServer } from "./postgresServer";

/** The parts of a rendered Kubernetes container this harness reads. */
export interface EnvVar {
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } } & Record<
        string,
        unknown
    >;
}

export interface HttpGetProbe {
    readonly httpGet?: { readonly path?: string; readonly port: number | string; readonly scheme?: string };
    readonly initialDelaySeconds?: number;
    readonly periodSeconds?: number;
    readonly failureThreshold?: number;
}

export interface Container {
    readonly name: string;
    readonly image?: string;
    readonly command?: readonly string[];
    readonly args?: readonly string[];
    readonly env?: readonly EnvVar[];
    readonly envFrom?: readonly unknown[];
    readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
    readonly volumeMounts?: readonly {
        readonly name: string;
        readonly mountPath: string;
        readonly readOnly?: boolean;
    }[];
    readonly startupProbe?: HttpGetProbe;
    readonly readinessProbe?: HttpGetProbe;
    readonly livenessProbe?: HttpGetProbe;
    readonly resources?: { readonly limits?: Readonly<Record<string, string>> };
}

type Manifest = Record<string, unknown>;

/** The rendered Deployment `name` (default `keycloak`) among a render's manifests. */
export function findDeployment(manifests: readonly Manifest[], name = "keycloak"): Manifest {
    const found = manifests.find(
        (manifest) =>
            manifest.kind === "Deployment" && (manifest.metadata as { name?: string } | undefined)?.name === name,
    );
    if (!found) {
        throw new Error(`the render has no Deployment named ${name}`);
    }
    return found;
}

/** The Deployment's Keycloak container (named `keycloak`, else its only one). */
export function keycloakContainer(deployment: Manifest): Container {
    const containers = (deployment as { spec?: { template?: { spec?: { containers?: Container[] } } } }).spec?.template
        ?.spec?.containers;
    const container = containers?.find((candidate) => candidate.name === "keycloak") ?? containers?.[0];
    if (!container) {
        throw new Error("the Deployment has no containers");
    }
    return container;
}

/** Kubernetes' `$(VAR)` expansion of env values and args: defined names only, `$$` escapes. */
function expand(text: string, defined: Readonly<Record<string, string>>): string {
    return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name?: string) => {
        if (whole === "$$") {
            return "$";
        }
        return name !== undefined && name in defined ? (defined[name] ?? "") : whole;
    });
}

/**
 * The container's environment as the kubelet gives it: every entry in order, literal values as they
 * are, `secretKeyRef` values from `secrets` (by the Secret's key). Anything else is refused, never guessed.
 */
export function containerEnvironment(
    container: Container,
    secrets: Readonly<Record<string, string>>,
): Record<string, string> {
    if (container.envFrom?.length) {
        throw new Error(`container ${container.name}: envFrom is not supported by this harness`);
    }
    const env: Record<string, string> = {};
    for (const entry of container.env ?? []) {
        if (entry.valueFrom) {
            const ref = entry.valueFrom.secretKeyRef;
            if (!ref || Object.keys(entry.valueFrom).length !== 1) {
                throw new Error(
                    `env ${entry.name}: only secretKeyRef is supported, got ${JSON.stringify(entry.valueFrom)}`,
                );
            }
            const value = secrets[ref.key];
            if (value === undefined) {
                throw new Error(
                    `env ${entry.name} reads key ${ref.key} of Secret ${ref.name}, and the test supplied no value for ` +
                        `${ref.key} (supplied: ${Object.keys(secrets).join(", ") || "none"})`,
                );
            }
            env[entry.name] = value;
        } else {
            env[entry.name] = expand(entry.value ?? "", env);
        }
    }
    return env;
}

/** `jdbc:postgresql://host:port/database?parameters`, taken apart. */
export interface JdbcUrl {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    /** `?...` with its `?`, or empty. */
    readonly query: string;
}

export function parseJdbcPostgresUrl(url: string): JdbcUrl {
    const match = /^jdbc:postgresql:\/\/([^/:?]+)(?::(\d+))?\/([^?]+)(\?.*)?$/.exec(url);
    if (!match?.[1] || !match[3]) {
        throw new Error(`not a jdbc:postgresql://host[:port]/database URL: ${url}`);
    }
    return { host: match[1], port: Number(match[2] ?? 5432), database: match[3], query: match[4] ?? "" };
}

/**
 * Creates the database and user the render names (KC_DB_URL's database, KC_DB_USERNAME), with the
 * password the container gets for KC_DB_PASSWORD, owning the database as the in-cluster PostgreSQL's
 * POSTGRES_USER/POSTGRES_DB would.
 */
export function prepareKeycloakDatabase(
    postgres: PostgresServer,
    deployment: Manifest,
    secrets: Readonly<Record<string, string>>,
): { database: string; user: string } {
    const env = containerEnvironment(keycloakContainer(deployment), secrets);
    const { KC_DB_URL: url, KC_DB_USERNAME: user, KC_DB_PASSWORD: password } = env;
    if (!url || !user || password === undefined) {
        throw new Error("the Keycloak container names no KC_DB_URL, KC_DB_USERNAME and KC_DB_PASSWORD");
    }
    const { database } = parseJdbcPostgresUrl(url);
    const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
    postgres.sql(`CREATE ROLE ${identifier(user)} LOGIN PASSWORD ${sqlLiteral(password)}`);
    postgres.sql(`CREATE DATABASE ${identifier(database)} OWNER ${identifier(user)}`);
    return { database, user };
}

export interface StartKeycloakOptions {
    /** The rendered Deployment (see findDeployment). */
    readonly deployment: Manifest;
    /** Values of the container's secretKeyRef env entries, by the Secret's key name. */
    readonly secrets: Readonly<Record<string, string>>;
    /** The real PostgreSQL to use in place of the rendered host. */
    readonly database: { readonly host: string; readonly port: number };
    /** Files to place in the container's mounts, by their path in the container (e.g. the trust bundle). */
    readonly files?: Readonly<Record<string, string | Buffer>>;
    /** Extra JVM options, appended to JAVA_OPTS_APPEND (e.g. `-Djdk.net.hosts.file=...`). */
    readonly javaOptions?: readonly string[];
    /** Default: what the startupProbe allows (initialDelaySeconds + failureThreshold × periodSeconds). */
    readonly startTimeoutMs?: number;
}

export interface KeycloakServer {
    /** `http://127.0.0.1:<http port>`; Keycloak's paths are below KC_HTTP_RELATIVE_PATH (e.g. /auth). */
    readonly httpUrl: string;
    readonly managementUrl: string;
    readonly httpPort: number;
    readonly managementPort: number;
    /** kc.sh's pid, also its process group's. Changes at restart. */
    readonly pid: number;
    readonly logPath: string;
    /** The private copy of the distribution this server runs from. */
    readonly home: string;
    /** The environment kc.sh ran with (after the rewrites). */
    readonly env: Readonly<Record<string, string>>;
    readonly args: readonly string[];
    /** Milliseconds the private copy of the distribution took. */
    readonly copyMs: number;
    /** Milliseconds from spawning kc.sh to the probes passing, for the last start. */
    readonly startMs: number;
    log(): string;
    /** The messages of the log's WARN (and worse) records (the console log is JSON when rendered so). */
    warnings(): string[];
    stop(): Promise<void>;
    /** Stops it and removes its directory (the copy, its data and the log). */
    remove(): Promise<void>;
    /** Stops it and starts it again on the same copy, data and ports (no re-augmentation then). */
    restart(): Promise<void>;
}

/** Whether nothing listens on `port` on any address (Keycloak binds 0.0.0.0 unless told otherwise). */
function portIsFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen({ port, host: "0.0.0.0", exclusive: true }, () => server.close(() => resolve(true)));
    });
}

function namedPort(container: Container, name: string): number {
    const port = container.ports?.find((candidate) => candidate.name === name)?.containerPort;
    if (port === undefined) {
        throw new Error(`container ${container.name} has no port named ${name}`);
    }
    return port;
}

/** A Kubernetes memory quantity (`2Gi`, `512Mi`, `1G`...) in bytes, read as the program reads quantities. */
function quantityBytes(quantity: string): number {
    return Math.round(quantityValue(quantity));
}

function tail(text: string, lines = 40): string {
    return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Rewrites every comma-separated item of `value` that lies in a mount to the local directory behind it. */
function rewritePaths(value: string, mounts: readonly [string, string][]): string {
    return value
        .split(",")
        .map((item) => {
            const mount = mounts.find(([inPod]) => item === inPod || item.startsWith(`${inPod}/`));
            return mount ? mount[1] + item.slice(mount[0].length) : item;
        })
        .join(",");
}

/** Where the image has the distribution (its ENTRYPOINT is /opt/keycloak/bin/kc.sh). */
const imageHome = "/opt/keycloak";

/** The ENV of the quay.io/keycloak image (its Dockerfile), which the pod gets beneath the container's env. */
const imageEnvironment: Readonly<Record<string, string>> = { LANG: "en_US.UTF-8", KC_RUN_IN_CONTAINER: "true" };

export async function startKeycloak(options: StartKeycloakOptions): Promise<KeycloakServer> {
    const container = keycloakContainer(options.deployment);
    if (container.command?.length && container.command.join(" ") !== `${imageHome}/bin/kc.sh`) {
        throw new Error(`container ${container.name} overrides the image's command: ${container.command.join(" ")}`);
    }
    const rendered = containerEnvironment(container, options.secrets);
    const args = (container.args ?? []).map((arg) => expand(arg, rendered));

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keycloak-"));
    // A private copy of the distribution per server: the first `start` re-augments lib/quarkus for the
    // rendered build options (database, health, cache...), and the cached one must stay as unpacked.
    const home = path.join(dir, "keycloak");
    const copyStarted = Date.now();
    execFileSync("cp", ["-a", "--reflink=auto", ensureKeycloak((line) => process.stderr.write(`${line}\n`)), home]);

    const copyMs = Date.now() - copyStarted;

    // Rewrite: mount paths. /opt/keycloak/... is the distribution in the image, so its mounts (data) are the
    // same paths in the private copy, emptied as an emptyDir is; every other mount is a directory of this server.
    const mounts: [string, string][] = (container.volumeMounts ?? [])
        .map(({ mountPath }): [string, string] => {
            const inPod = mountPath.replace(/\/+$/, "");
            const local =
                inPod === imageHome || inPod.startsWith(`${imageHome}/`)
                    ? path.join(home, inPod.slice(imageHome.length))
                    : path.join(dir, "mounts", inPod);
            return [inPod, local];
        })
        .sort((a, b) => b[0].length - a[0].length);
    for (const [, local] of mounts) {
        fs.rmSync(local, { recursive: true, force: true });
        fs.mkdirSync(local, { recursive: true });
    }
    for (const [inPod, content] of Object.entries(options.files ?? {})) {
        const local = rewritePaths(inPod, mounts);
        if (local === inPod) {
            throw new Error(`${inPod} is in none of the container's mounts (${mounts.map(([p]) => p).join(", ")})`);
        }
        fs.mkdirSync(path.dirname(local), { recursive: true });
        fs.writeFileSync(local, content);
    }
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(rendered)) {
        env[name] = rewritePaths(value, mounts);
    }

    // Rewrite: the JDBC URL's host and port, to the loopback PostgreSQL; its database and parameters stay.
    if (env.KC_DB_URL) {
        const url = parseJdbcPostgresUrl(env.KC_DB_URL);
        env.KC_DB_URL = `jdbc:postgresql://${options.database.host}:${options.database.port}/${url.database}${url.query}`;
    } else if (env.KC_DB_URL_HOST !== undefined) {
        env.KC_DB_URL_HOST = options.database.host;
        env.KC_DB_URL_PORT = String(options.database.port);
    } else {
        throw new Error("the Keycloak container names its database neither by KC_DB_URL nor by KC_DB_URL_HOST");
    }

    // Rewrite: the ports, only when the rendered ones are taken here (the pod has its own network).
    const renderedHttp = namedPort(container, "http");
    const renderedManagement = namedPort(container, "management");
    const httpPort = (await portIsFree(renderedHttp)) ? renderedHttp : await freePort();
    if (httpPort !== renderedHttp) {
        env.KC_HTTP_PORT = String(httpPort);
    }
    let managementPort = (await portIsFree(renderedManagement)) ? renderedManagement : await freePort();
    while (managementPort === httpPort) {
        managementPort = await freePort();
    }
    if (managementPort !== renderedManagement) {
        env.KC_HTTP_MANAGEMENT_PORT = String(managementPort);
    }
    const portsByName: Record<string, number> = { http: httpPort, management: managementPort };
    // Rewrite: loopback only. In the pod every address is the pod's own; here the machine's are shared,
    // and the test admin's password must not be reachable from them (the management port follows it).
    env.KC_HTTP_HOST = "127.0.0.1";

    const javaOptions: string[] = [];
    // Rewrite: /tmp, an emptyDir in the pod, is the JVM's temporary directory there.
    const tmp = mounts.find(([inPod]) => inPod === "/tmp");
    if (tmp) {
        javaOptions.push(`-Djava.io.tmpdir=${tmp[1]}`);
    }
    // Rewrite: the container's memory limit, which the JVM reads from its cgroup in the pod (the image's
    // KC_RUN_IN_CONTAINER makes kc.sh size the heap as 70% of it).
    const memoryLimit = container.resources?.limits?.memory;
    if (memoryLimit) {
        javaOptions.push(`-XX:MaxRAM=${quantityBytes(memoryLimit)}`);
    }
    const appended = [rendered.JAVA_OPTS_APPEND, ...javaOptions, ...(options.javaOptions ?? [])].filter(Boolean);
    if (appended.length) {
        env.JAVA_OPTS_APPEND = appended.join(" ");
    }

    // Nothing of the test runner's environment (its KC_* least of all): the image's ENV, then the container's.
    const processEnv: Record<string, string> = {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        HOME: dir,
        ...imageEnvironment,
        ...env,
        JAVA_HOME: keycloakJavaHome(),
    };
    const logPath = path.join(dir, "keycloak.log");
    const kcSh = path.join(home, "bin", "kc.sh");

    const probes = [container.startupProbe, container.readinessProbe].filter(
        (probe): probe is HttpGetProbe => probe?.httpGet !== undefined,
    );
    if (probes.length === 0) {
        throw new Error(`container ${container.name} has no httpGet startupProbe or readinessProbe to wait on`);
    }
    const probeUrl = (probe: HttpGetProbe): { port: number; path: string } => {
        const get = probe.httpGet as NonNullable<HttpGetProbe["httpGet"]>;
        if ((get.scheme ?? "HTTP") !== "HTTP") {
            throw new Error(`probe scheme ${get.scheme} is not supported`);
        }
        const port = typeof get.port === "number" ? get.port : portsByName[get.port];
        if (port === undefined) {
            throw new Error(`probe port ${get.port} is none of the container's ports`);
        }
        return { port, path: get.path ?? "/" };
    };
    const startup = container.startupProbe ?? probes[0];
    const startTimeoutMs =
        options.startTimeoutMs ??
        ((startup?.initialDelaySeconds ?? 0) + (startup?.failureThreshold ?? 3) * (startup?.periodSeconds ?? 10)) *
            1000;

    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let startMs = 0;
    const log = () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, "utf8") : "");

    const stop = async (): Promise<void> => {
        const running = child;
        if (!running?.pid || running.exitCode !== null || running.signalCode !== null) {
            return;
        }
        // kc.sh forwards TERM to the JVM and waits for it; the group is killed so nothing outlives it.
        try {
            process.kill(-running.pid, "SIGTERM");
        } catch {
            // already gone
        }
        const killer = setTimeout(() => {
            try {
                process.kill(-(running.pid as number), "SIGKILL");
            } catch {
                // already gone
            }
        }, 30000);
        await exited;
        clearTimeout(killer);
    };

    const launch = async (): Promise<void> => {
        const logFd = fs.openSync(logPath, "a");
        const started = Date.now();
        const spawned = spawn(kcSh, [...args], {
            cwd: home,
            env: processEnv,
            detached: true,
            stdio: ["ignore", logFd, logFd],
        });
        fs.closeSync(logFd);
        child = spawned;
        let exitStatus: string | undefined;
        exited = new Promise((resolve) =>
            spawned.once("exit", (code, signal) => {
                exitStatus = signal ? `signal ${signal}` : `status ${code}`;
                resolve();
            }),
        );
        const deadline = started + startTimeoutMs;
        for (const probe of probes) {
            const { port, path: probePath } = probeUrl(probe);
            for (;;) {
                if (exitStatus) {
                    throw new Error(
                        `Keycloak exited (${exitStatus}) before ${probePath} answered; log:\n${tail(log())}`,
                    );
                }
                const status = await request(port, { path: probePath, timeout: 5000 }).then(
                    (result) => result.status,
                    () => 0,
                );
                if (status === 200) {
                    break;
                }
                if (Date.now() > deadline) {
                    await stop();
                    throw new Error(
                        `Keycloak's ${probePath} on port ${port} did not answer 200 within ${startTimeoutMs} ms ` +
                            `(last: ${status || "no answer"}); log:\n${tail(log())}`,
                    );
                }
                await new Promise((resolve) => setTimeout(resolve, 500));
            }
        }
        startMs = Date.now() - started;
    };

    try {
        await launch();
    } catch (error) {
        await stop();
        // The log is named in the error; the copy of the distribution is not worth keeping.
        fs.rmSync(home, { recursive: true, force: true });
        throw error;
    }
    const server: KeycloakServer = {
        httpUrl: `http://127.0.0.1:${httpPort}`,
        managementUrl: `http://127.0.0.1:${managementPort}`,
        httpPort,
        managementPort,
        get pid() {
            return child?.pid ?? -1;
        },
        logPath,
        home,
        env: processEnv,
        args,
        copyMs,
        get startMs() {
            return startMs;
        },
        log,
        warnings: () => logWarnings(log()),
        stop,
        async remove() {
            await stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
        async restart() {
            await stop();
            await launch();
        },
    };
    return server;
}

/** The messages of WARN/ERROR/FATAL records among JSON console lines (other lines, e.g. kc.sh's, are kept). */
export function logWarnings(text: string): string[] {
    const messages: string[] = [];
    for (const line of text.split("\n")) {
        if (!line.trim()) {
            continue;
        }
        try {
            const record = JSON.parse(line) as { level?: string; message?: string; loggerName?: string };
            if (record.level && /^(WARN|WARNING|ERROR|FATAL)$/.test(record.level)) {
                messages.push(`${record.level} ${record.loggerName ?? ""}: ${record.message ?? ""}`);
            }
        } catch {
            // kc.sh's and the JVM's own lines: warnings, and uncaught exceptions with their causes.
            if (/\b(WARN|WARNING|ERROR|SEVERE)\b|Exception|Error\b/.test(line)) {
                messages.push(line);
            }
        }
    }
    return messages;
}
