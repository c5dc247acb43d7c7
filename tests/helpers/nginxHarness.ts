/**
 * Real nginx running the rendered nginx.conf in front of fake Mattermost servers and a fake Keycloak,
 * all on loopback. The conf is changed only where a test host must differ from a pod: listen ports,
 * writable paths and upstream addresses; `localize` refuses any other difference.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { projectDir, type Rendered } from "./render";

export const nginxBinary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].find((candidate) =>
    fs.existsSync(candidate),
);

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once("error", reject);
        probe.listen(0, "127.0.0.1", () => {
            const { port } = probe.address() as net.AddressInfo;
            probe.close(() => resolve(port));
        });
    });
}

export interface Addresses {
    readonly listenPort: number;
    readonly healthPort: number;
    readonly primaryPort: number;
    readonly backupPort: number;
    readonly keycloakPort: number;
    /** Where the two servers listen, when not on loopback (the failover benchmark's namespaces). */
    readonly primaryHost?: string;
    readonly backupHost?: string;
    readonly runtimeDir: string;
    /** Where this test listens for the syslog lines a log-shipping nginx.conf sends its sidecar. */
    readonly syslogPorts?: { readonly access: number; readonly error: number };
}

export interface PodNames {
    /** host:port of the primary and backup Services, and the Keycloak URL, as the pods see them. */
    readonly primary: string;
    readonly backup: string;
    readonly keycloakUrl: string;
    readonly resolver: string;
}

type GuardContainer = { name: string; command: string[] };

function guardContainers(manifests: readonly Record<string, unknown>[]): { init: GuardContainer; run: GuardContainer } {
    const nginx = manifests.find(
        (manifest) => manifest.kind === "Deployment" && (manifest.metadata as { name: string }).name === "nginx",
    ) as
        | { spec: { template: { spec: { initContainers: GuardContainer[]; containers: GuardContainer[] } } } }
        | undefined;
    const podSpec = nginx?.spec.template.spec;
    const init = podSpec?.initContainers.find((container) => container.name === "failover-guard-init");
    const run = podSpec?.containers.find((container) => container.name === "failover-guard");
    if (!init || !run) {
        throw new Error("the rendered nginx Deployment has no failover guard");
    }
    return { init, run };
}

/**
 * How the rendered nginx pod addresses its upstreams, read from the render: the guard's --primary and
 * --backup, the conf's Keycloak URL and resolver.
 */
export function renderedPodNames(rendered: Pick<Rendered, "manifests" | "file">): PodNames {
    const command = guardContainers(rendered.manifests).run.command;
    const argument = (flag: string) => {
        const value = command[command.indexOf(flag) + 1];
        if (!command.includes(flag) || !value) {
            throw new Error(`the rendered failover guard has no ${flag}`);
        }
        return value;
    };
    const conf = rendered.file("files/nginx/nginx.conf");
    const keycloakUrl = /set \$keycloak (\S+);/.exec(conf)?.[1];
    const resolver = /^\s*resolver (\S+) /m.exec(conf)?.[1];
    if (!keycloakUrl || !resolver) {
        throw new Error("the rendered nginx.conf names no Keycloak URL or no resolver");
    }
    return { primary: argument("--primary"), backup: argument("--backup"), keycloakUrl, resolver };
}

function replaceExactly(text: string, from: string | RegExp, to: string, times: number): string {
    const pattern =
        typeof from === "string"
            ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g")
            : new RegExp(from.source, from.flags.includes("g") ? from.flags : `${from.flags}g`);
    const found = text.match(pattern)?.length ?? 0;
    if (found !== times) {
        throw new Error(`expected ${times} occurrence(s) of ${String(from)} in nginx.conf, found ${found}`);
    }
    return text.replace(pattern, to);
}

/** The pod's nginx.conf, made runnable on this host; throws if anything else would have to change. */
export function localize(conf: string, pod: PodNames, local: Addresses): string {
    let text = conf;
    text = replaceExactly(text, /^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${local.listenPort};`, 1);
    text = replaceExactly(text, /^(\s*)listen 8081;$/m, `$1listen 127.0.0.1:${local.healthPort};`, 1);
    text = replaceExactly(text, / \/tmp\//g, ` ${local.runtimeDir}/`, 9);
    text = replaceExactly(text, pod.keycloakUrl, `http://127.0.0.1:${local.keycloakPort}`, 2);
    text = replaceExactly(text, `resolver ${pod.resolver} `, "resolver 127.0.0.1 ", 1);
    if (local.syslogPorts) {
        text = replaceExactly(
            text,
            "syslog:server=127.0.0.1:5140,",
            `syslog:server=127.0.0.1:${local.syslogPorts.access},`,
            1,
        );
        text = replaceExactly(
            text,
            "syslog:server=127.0.0.1:5141,",
            `syslog:server=127.0.0.1:${local.syslogPorts.error},`,
            1,
        );
    }
    const changed = conf.split("\n").filter((line, index) => line !== text.split("\n")[index]);
    const allowed =
        /^\s*(listen|pid|\w+_temp_path|include|set \$keycloak|resolver|access_log syslog:|error_log syslog:)/;
    const unexpected = changed.filter((line) => !allowed.test(line));
    if (unexpected.length > 0 || text.includes("svc.cluster.local")) {
        throw new Error(`localize changed more than ports, paths and upstream addresses: ${unexpected.join(" | ")}`);
    }
    return text;
}

/**
 * The failover guard's commands from the rendered nginx Deployment (its init container's and its own),
 * made runnable here as the conf is: the upstream addresses and the runtime directory change, and the
 * script is the ConfigMap's file written out; anything else would have to stay as rendered.
 */
export function localGuardCommands(
    manifests: readonly Record<string, unknown>[],
    scriptPath: string,
    pod: PodNames,
    local: Addresses,
): { init: string[]; run: string[] } {
    const { init, run } = guardContainers(manifests);
    const localized = (command: string[]) => {
        const [node, script, ...args] = command;
        if (node !== "node" || script !== "/etc/nginx/mattermost/failover-guard.js") {
            throw new Error(`unexpected guard command: ${command.join(" ")}`);
        }
        return [
            process.execPath,
            scriptPath,
            ...args.map((arg) =>
                arg === pod.primary
                    ? `${local.primaryHost ?? "127.0.0.1"}:${local.primaryPort}`
                    : arg === pod.backup
                      ? `${local.backupHost ?? "127.0.0.1"}:${local.backupPort}`
                      : arg.startsWith("/tmp/")
                        ? `${local.runtimeDir}/${arg.slice("/tmp/".length)}`
                        : arg,
            ),
        ];
    };
    return { init: localized(init.command), run: localized(run.command) };
}

/**
 * The guard's program as the ConfigMap holds it, written into the runtime directory, and its init run,
 * which writes the upstream file nginx includes; returns the guard's own command.
 */
export function prepareGuard(
    rendered: Pick<Rendered, "manifests" | "file">,
    pod: PodNames,
    local: Addresses,
): string[] {
    const script = path.join(local.runtimeDir, "failover-guard.js");
    fs.writeFileSync(script, rendered.file("files/nginx/failover-guard.js"));
    const commands = localGuardCommands(rendered.manifests, script, pod, local);
    const [program, ...args] = commands.init;
    const init = spawnSync(program ?? process.execPath, args, { encoding: "utf8" });
    if (init.status !== 0) {
        throw new Error(`the guard's init run failed: ${init.stdout}${init.stderr}`);
    }
    return commands.run;
}

export interface RunningGuard {
    readonly process: ChildProcess;
    readonly log: () => string;
    stop(): Promise<void>;
}

export function startGuard(command: string[], logFile: string): RunningGuard {
    const logFd = fs.openSync(logFile, "a");
    const [program, ...args] = command;
    const child = spawn(program ?? process.execPath, args, { stdio: ["ignore", logFd, logFd] });
    fs.closeSync(logFd);
    return { process: child, log: () => fs.readFileSync(logFile, "utf8"), stop: () => stopProcess(child) };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await check().catch(() => false)) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface HttpResult {
    readonly status: number;
    readonly body: string;
    readonly headers: http.IncomingHttpHeaders;
}

export function request(port: number, options: http.RequestOptions & { body?: string } = {}): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
        const outgoing = http.request(
            { host: "127.0.0.1", port, agent: false, timeout: 5000, ...options },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () =>
                    resolve({
                        status: response.statusCode ?? 0,
                        body: Buffer.concat(chunks).toString("utf8"),
                        headers: response.headers,
                    }),
                );
            },
        );
        outgoing.on("timeout", () => outgoing.destroy(new Error("request timed out")));
        outgoing.on("error", reject);
        outgoing.end(options.body);
    });
}

export interface FakeServer {
    readonly process: ChildProcess;
    readonly output: () => string;
}

/**
 * The command line of a fake Mattermost server (tests/helpers/fakeMattermost.ts), run from the project
 * directory: one node process with tsx's loader (not the tsx CLI, which forks), so killing it kills the server.
 */
export function fakeMattermostCommand(options: {
    name: string;
    port: number;
    host?: string;
    dieOnPost?: boolean;
    tickMs?: number;
}): string[] {
    return [
        process.execPath,
        "--import",
        "tsx",
        "tests/helpers/fakeMattermost.ts",
        "--name",
        options.name,
        "--port",
        String(options.port),
        ...(options.host ? ["--host", options.host] : []),
        ...(options.dieOnPost ? ["--die-on-post"] : []),
        ...(options.tickMs ? ["--tick-ms", String(options.tickMs)] : []),
    ];
}

export async function startFakeMattermost(
    name: string,
    port: number,
    options: { dieOnPost?: boolean } = {},
): Promise<FakeServer> {
    const [program, ...args] = fakeMattermostCommand({ name, port, dieOnPost: options.dieOnPost });
    const child = spawn(program ?? process.execPath, args, {
        cwd: projectDir,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => Promise.resolve(output.includes("ready")), 15000, `fake ${name} to listen`);
    return { process: child, output: () => output };
}

export interface FakeKeycloak {
    readonly server: http.Server;
    readonly seen: { path: string; headers: http.IncomingHttpHeaders }[];
}

export function startFakeKeycloak(port: number): Promise<FakeKeycloak> {
    const seen: FakeKeycloak["seen"] = [];
    const server = http.createServer((incoming, response) => {
        seen.push({ path: incoming.url ?? "", headers: incoming.headers });
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ keycloak: true, path: incoming.url }));
    });
    return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ server, seen })));
}

export interface RunningNginx {
    readonly process: ChildProcess;
    readonly log: () => string;
    stop(): Promise<void>;
}

/** `nginx -t`, with its output in a file for the reason given at startNginx. */
export function checkConf(confFile: string): { status: number | null; output: string } {
    const logFile = path.join(path.dirname(confFile), "nginx-t.log");
    const logFd = fs.openSync(logFile, "w");
    const run = spawnSync(nginxBinary ?? "nginx", ["-t", "-e", "stderr", "-c", confFile], {
        stdio: ["ignore", logFd, logFd],
    });
    fs.closeSync(logFd);
    return { status: run.status, output: fs.readFileSync(logFile, "utf8") };
}

export async function startNginx(confFile: string, healthPort: number): Promise<RunningNginx> {
    // The conf logs to /dev/stdout and /dev/stderr, as containers do. Those must be files or pipes:
    // node's own stdio pipes are sockets, which cannot be opened through /dev/std*.
    const logFile = path.join(path.dirname(confFile), "nginx.log");
    const logFd = fs.openSync(logFile, "a");
    const child = spawn(nginxBinary ?? "nginx", ["-e", "stderr", "-c", confFile], { stdio: ["ignore", logFd, logFd] });
    fs.closeSync(logFd);
    const log = () => fs.readFileSync(logFile, "utf8");
    try {
        await waitFor(
            async () => (await request(healthPort, { path: "/healthz" })).status === 200,
            10000,
            "nginx to answer",
        );
    } catch (error) {
        await stopProcess(child);
        throw new Error(`${String(error)}; nginx said: ${log()}`);
    }
    return { process: child, log, stop: () => stopProcess(child) };
}

export function makeRuntimeDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nginx-run-"));
    // nginx's workers drop root and must still write temporary bodies here.
    fs.chmodSync(dir, 0o777);
    return dir;
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
        }
        child.once("exit", () => resolve());
        child.kill(signal);
    });
}

/** The rendered nginx pod (nginx and the failover guard beside it) on this host, in front of given ports. */
export interface RunningFront {
    readonly addresses: Addresses;
    readonly nginx: RunningNginx;
    readonly guard: RunningGuard;
    /** The guard's "reloaded" events that marked `marked` (e.g. "backup-only", "primary"). */
    reloads(marked: string): number;
    /** The pids of nginx's workers now (a reload replaces them; the old ones finish their requests first). */
    workers(): number[];
    stop(): Promise<void>;
}

export async function startRenderedFront(
    rendered: Pick<Rendered, "manifests" | "file">,
    ports: {
        readonly primaryPort: number;
        readonly backupPort: number;
        readonly keycloakPort: number;
        /** Where nginx listens (a free port when absent). */
        readonly listenPort?: number;
    },
): Promise<RunningFront> {
    const pod = renderedPodNames(rendered);
    const addresses: Addresses = {
        healthPort: await freePort(),
        ...ports,
        listenPort: ports.listenPort ?? (await freePort()),
        runtimeDir: makeRuntimeDir(),
    };
    const confFile = path.join(addresses.runtimeDir, "nginx.conf");
    fs.writeFileSync(confFile, localize(rendered.file("files/nginx/nginx.conf"), pod, addresses));
    const guardCommand = prepareGuard(rendered, pod, addresses);
    const nginx = await startNginx(confFile, addresses.healthPort);
    const guard = startGuard(guardCommand, path.join(addresses.runtimeDir, "guard.log"));
    return {
        addresses,
        nginx,
        guard,
        reloads: (marked) =>
            guard
                .log()
                .split("\n")
                .filter((line) => line.includes('"event":"reloaded"') && line.includes(`"marked":"${marked}"`)).length,
        workers: () => childProcesses(nginx.process.pid ?? 0),
        async stop() {
            await guard.stop();
            await nginx.stop();
            fs.rmSync(addresses.runtimeDir, { recursive: true, force: true });
        },
    };
}

/** The pids of a process's children. */
function childProcesses(parentPid: number): number[] {
    const children: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // The parent's pid is the second field after the command, which is in parentheses.
            if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parentPid) {
                children.push(Number(entry));
            }
        } catch {
            // the process ended while being read
        }
    }
    return children;
}
