/**
 * The failover benchmark (DESIGN decision 4): real nginx in front of two fake Mattermost
 * servers, each in a network namespace of its own, with users polling the API and holding websockets,
 * under a fault of the primary. It runs either the original design's configuration (a fixture: its
 * upstream with Mattermost's recommended proxy settings) or the project's rendered nginx.conf with the
 * failover guard beside it, both exactly as rendered apart from addresses, ports and paths.
 *
 * Namespaces: the front (nginx, the guard, the users) 10.92.0.1, the primary 10.92.0.2, the backup
 * 10.92.0.3, joined by a bridge in the front's namespace. Nothing leaves them.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { bridgedNamespaces, removeNamespaces } from "../helpers/netns";
import {
    fakeMattermostCommand,
    localize,
    makeRuntimeDir,
    prepareGuard,
    renderedPodNames,
} from "../helpers/nginxHarness";
import { projectDir, type Rendered } from "../helpers/render";

export type Fault = "killed" | "hung" | "blackholed" | "flapping";
export type Design = "original" | "project";

export const faults: readonly Fault[] = ["killed", "hung", "blackholed", "flapping"];

export interface ScenarioOptions {
    readonly design: Design;
    readonly fault: Fault;
    /** The test stack's render: its nginx.conf, the guard's program and its Deployment's arguments. */
    readonly rendered: Rendered;
    readonly faultMs?: number;
    /** How long after the primary's return the clients are watched. */
    readonly observeMs?: number;
    readonly websockets?: number;
    /** Websockets opened one by one after the primary returns. */
    readonly lateWebsockets?: number;
    /** nginx pods, each with its guard (project design); the users go through the first. */
    readonly replicas?: number;
}

/** What one polling client saw, from the fault on. */
export interface PollMeasures {
    /** Polls that failed (error or a status other than 200) from the fault on. */
    readonly failedRequests: number;
    /** Each failed poll: when it started and ended after the fault, and why. */
    readonly failures: readonly string[];
    readonly longestRequestMs: number;
    /** The longest request was still waiting when the run ended: its time is a lower bound. */
    readonly longestStillWaiting: boolean;
    /** From the fault to the first answer from the backup; null: none before the return. */
    readonly firstBackupAnswerMs: number | null;
}

export interface ScenarioResult {
    readonly design: Design;
    readonly fault: Fault;
    /** The kept-alive client's polls (a browser tab's one connection); the fields below are the other's. */
    readonly keptAlive?: PollMeasures;
    /** Polls that failed (error or a status other than 200) from the fault on. */
    readonly failedRequests: number;
    /** Each failed poll: when it started and ended after the fault, and why. */
    readonly failures: readonly string[];
    readonly longestRequestMs: number;
    /** The longest request was still waiting when the run ended: its time is a lower bound. */
    readonly longestStillWaiting: boolean;
    /** From the fault to the first answer from the backup; null: none before the return. */
    readonly firstBackupAnswerMs: number | null;
    /** From the fault until every websocket open before it is served again; null: not before the return. */
    readonly websocketsServedAgainMs: number | null;
    /** After the return: how long connected websockets were served by different servers. */
    readonly splitWindowMs: number;
    /** Still split in the last 5 s of the measurement. */
    readonly splitAtEnd: boolean;
    readonly reloads: number;
    /** The most nginx reloads in any 30 s. */
    readonly maxReloadsIn30s: number;
    /** Each nginx pod's guard: what it marked and when, from the fault. */
    readonly guardTimelines: readonly (readonly { readonly marked: string; readonly atMs: number }[])[];
    readonly faultMs: number;
    readonly observeMs: number;
}

const address = { front: "10.92.0.1", primary: "10.92.0.2", backup: "10.92.0.3" } as const;
const mattermostPort = 8065;
const listenPort = 8080;
const healthPort = 8081;
/** A websocket is being served while its server's ticks (every 250 ms) keep coming. */
const tickMs = 250;
const servedWithinMs = 1000;
const flapMs = 3000;

let runs = 0;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Network {
    readonly names: Record<"front" | "primary" | "backup", string>;

    constructor() {
        runs += 1;
        const suffix = `${process.pid}-${runs}`;
        this.names = { front: `mmfb-front-${suffix}`, primary: `mmfb-pri-${suffix}`, backup: `mmfb-bak-${suffix}` };
        bridgedNamespaces(
            { namespace: this.names.front, address: address.front },
            {
                primary: { namespace: this.names.primary, address: address.primary },
                backup: { namespace: this.names.backup, address: address.backup },
            },
        );
    }

    spawn(where: keyof Network["names"], command: string[], logFile?: string): ChildProcess {
        const logFd = logFile ? fs.openSync(logFile, "a") : undefined;
        const child = spawn("ip", ["netns", "exec", this.names[where], ...command], {
            cwd: projectDir,
            stdio: logFd === undefined ? "pipe" : ["ignore", logFd, logFd],
        });
        if (logFd !== undefined) {
            fs.closeSync(logFd);
        }
        return child;
    }

    run(where: keyof Network["names"], command: string[]) {
        return spawnSync("ip", ["netns", "exec", this.names[where], ...command], { encoding: "utf8", timeout: 10000 });
    }

    /** Drops every packet to and from the primary, as when its node dies. */
    blackhole(on: boolean): void {
        const nft = (script: string) => {
            const result = spawnSync("ip", ["netns", "exec", this.names.primary, "nft", "-f", "-"], {
                input: script,
                encoding: "utf8",
            });
            if (result.status !== 0) {
                throw new Error(`nft failed: ${result.stderr}`);
            }
        };
        nft(
            on
                ? "table inet blackhole {\n chain input { type filter hook input priority -100; policy drop; }\n chain output { type filter hook output priority -100; policy drop; }\n}\n"
                : "delete table inet blackhole\n",
        );
    }

    destroy(): void {
        removeNamespaces(Object.values(this.names));
    }
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await sleep(50);
    }
}

/** Where a scenario's servers and front run, and how the primary is faulted. */
export interface BenchServers {
    /** Both servers answering, for a new scenario. */
    prepare(dir: string): Promise<void>;
    /** How nginx reaches each server. */
    readonly upstreams: Readonly<Record<"primary" | "backup", { readonly host: string; readonly port: number }>>;
    /** nginx's listen and health ports, for replica 0 (replica n listens on them + 100 n). */
    readonly frontPorts: { readonly listen: number; readonly health: number };
    /** Runs a command where the front runs (nginx, the guard, the users), from the project directory. */
    spawnInFront(command: string[], logFile?: string): ChildProcess;
    runInFront(command: string[]): SpawnSyncReturns<string>;
    /** The users' extra arguments (e.g. a session token). */
    readonly clientArgs: readonly string[];
    kill(): Promise<void>;
    /** A killed primary back: a new process, listening again. */
    restart(dir: string): Promise<void>;
    pause(): void;
    resume(): void;
    /** Every packet to and from the primary dropped (on), or let through again (off). */
    blackhole(on: boolean): void;
    /** Which server answered each poll, from nginx's access log, where the answers do not say. */
    attribute?(polls: readonly PollEvent[], accessLog: string): void;
    /** After a scenario: stops what it alone started. */
    finish(): Promise<void>;
}

/** The fake servers (tests/helpers/fakeMattermost.ts), each in a network namespace of its own. */
export class FakeServers implements BenchServers {
    readonly upstreams = {
        primary: { host: address.primary, port: mattermostPort },
        backup: { host: address.backup, port: mattermostPort },
    };
    readonly frontPorts = { listen: listenPort, health: healthPort };
    readonly clientArgs: readonly string[] = [];
    private network: Network | undefined;
    private primary: ChildProcess | undefined;
    private dir = "";

    async prepare(dir: string): Promise<void> {
        this.dir = dir;
        this.network = new Network();
        this.primary = this.startServer("primary");
        this.startServer("backup");
        await this.serverReady("primary", 1);
        await this.serverReady("backup", 1);
    }

    private get net(): Network {
        if (!this.network) {
            throw new Error("the fake servers are not prepared");
        }
        return this.network;
    }

    private startServer(name: "primary" | "backup"): ChildProcess {
        return this.net.spawn(
            name,
            fakeMattermostCommand({ name, host: address[name], port: mattermostPort, tickMs }),
            path.join(this.dir, `${name}.log`),
        );
    }

    private async serverReady(name: string, readyLines: number): Promise<void> {
        const logFile = path.join(this.dir, `${name}.log`);
        await waitUntil(
            () => fs.existsSync(logFile) && fs.readFileSync(logFile, "utf8").split("ready").length - 1 >= readyLines,
            20000,
            `the fake ${name} to listen`,
        );
    }

    spawnInFront(command: string[], logFile?: string): ChildProcess {
        return this.net.spawn("front", command, logFile);
    }

    runInFront(command: string[]): SpawnSyncReturns<string> {
        return this.net.run("front", command);
    }

    kill(): Promise<void> {
        this.primary?.kill("SIGKILL");
        return Promise.resolve();
    }

    async restart(): Promise<void> {
        this.primary = this.startServer("primary");
        await this.serverReady("primary", 2);
    }

    pause(): void {
        process.kill(this.primary?.pid ?? 0, "SIGSTOP");
    }

    resume(): void {
        process.kill(this.primary?.pid ?? 0, "SIGCONT");
    }

    blackhole(on: boolean): void {
        this.net.blackhole(on);
    }

    finish(): Promise<void> {
        this.network?.destroy();
        this.network = undefined;
        return Promise.resolve();
    }
}

/**
 * The original design: Mattermost's recommended proxy settings around an upstream with a backup. With
 * `accessLog`, nginx also logs each request with its upstream (the rendered conf's format), to tell the
 * servers' answers apart where they do not name themselves.
 */
export function originalConf(
    dir: string,
    upstreams: BenchServers["upstreams"],
    ports: { readonly listen: number; readonly health: number },
    accessLog = false,
): string {
    const conf = fs
        .readFileSync(path.join(projectDir, "tests", "fixtures", "original-nginx.conf"), "utf8")
        .replace(/\{\{PRIMARY\}\}/g, `${upstreams.primary.host}:${upstreams.primary.port}`)
        .replace(/\{\{BACKUP\}\}/g, `${upstreams.backup.host}:${upstreams.backup.port}`)
        .replace(/\{\{LISTEN\}\}/g, `127.0.0.1:${ports.listen}`)
        .replace(/\{\{HEALTH\}\}/g, `127.0.0.1:${ports.health}`)
        .replace(/\{\{RUN\}\}/g, dir);
    if (!accessLog) {
        return conf;
    }
    const logged = conf.replace(
        /^(\s*)access_log off;$/m,
        `$1log_format upstreamlog '$remote_addr [$time_local] "$request" $status $body_bytes_sent upstream=$upstream_addr';\n$1access_log /dev/stdout upstreamlog;`,
    );
    if (logged === conf) {
        throw new Error("the original conf has no `access_log off;` line to log requests in place of");
    }
    return logged;
}

/**
 * One nginx pod: nginx, and for the project's design the guard, its upstream file first written by the
 * guard's init run. Replica n listens on the ports + 100 n. Returns the guard's log file.
 */
async function startFront(
    servers: BenchServers,
    options: ScenarioOptions,
    dir: string,
    replica: number,
): Promise<string | undefined> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    const ports = {
        listen: servers.frontPorts.listen + 100 * replica,
        health: servers.frontPorts.health + 100 * replica,
    };
    const confFile = path.join(dir, "nginx.conf");
    let guardCommand: string[] | undefined;
    if (options.design === "project") {
        const local = {
            listenPort: ports.listen,
            healthPort: ports.health,
            primaryPort: servers.upstreams.primary.port,
            backupPort: servers.upstreams.backup.port,
            primaryHost: servers.upstreams.primary.host,
            backupHost: servers.upstreams.backup.host,
            keycloakPort: 8090,
            runtimeDir: dir,
        };
        const pod = renderedPodNames(options.rendered);
        fs.writeFileSync(confFile, localize(options.rendered.file("files/nginx/nginx.conf"), pod, local));
        guardCommand = prepareGuard(options.rendered, pod, local);
    } else {
        fs.writeFileSync(confFile, originalConf(dir, servers.upstreams, ports, servers.attribute !== undefined));
    }
    servers.spawnInFront(["nginx", "-e", "stderr", "-c", confFile], path.join(dir, "nginx.log"));
    await waitUntil(
        () =>
            servers.runInFront(["curl", "-sf", "-o", "/dev/null", `http://127.0.0.1:${ports.health}/healthz`])
                .status === 0,
        10000,
        "nginx to answer",
    );
    if (!guardCommand) {
        return undefined;
    }
    const guardLog = path.join(dir, "guard.log");
    servers.spawnInFront(guardCommand, guardLog);
    return guardLog;
}

export interface PollEvent {
    type: "poll";
    /** Which user polled: a new connection per request (the default) or the kept-alive one. */
    client?: "new-connection" | "kept-alive";
    id: number;
    start: number;
    end: number;
    status?: number;
    server?: string;
    error?: string;
}
export interface WsEvent {
    type: "ws";
    id: number;
    event: "open" | "close" | "message";
    server?: string;
    t: number;
}

export async function runScenario(
    options: ScenarioOptions,
    servers: BenchServers = new FakeServers(),
): Promise<ScenarioResult> {
    const faultMs = options.faultMs ?? 15000;
    const observeMs = options.observeMs ?? 60000;
    const dir = makeRuntimeDir();
    const events: (PollEvent | WsEvent)[] = [];
    let clients: ChildProcess | undefined;
    try {
        await servers.prepare(dir);
        const replicas = options.design === "project" ? (options.replicas ?? 1) : 1;
        const guardLogs: string[] = [];
        for (let replica = 0; replica < replicas; replica++) {
            const guardLog = await startFront(
                servers,
                options,
                replica === 0 ? dir : path.join(dir, `replica-${replica}`),
                replica,
            );
            if (guardLog) {
                guardLogs.push(guardLog);
            }
        }

        clients = servers.spawnInFront([
            process.execPath,
            "--import",
            "tsx",
            "tests/benchmarks/failoverClients.ts",
            "--port",
            String(servers.frontPorts.listen),
            "--websockets",
            String(options.websockets ?? 5),
            ...servers.clientArgs,
        ]);
        readline.createInterface({ input: clients.stdout! }).on("line", (line) => {
            const event = JSON.parse(line) as PollEvent | WsEvent | { type: string };
            if (event.type === "poll" || event.type === "ws") {
                events.push(event as PollEvent | WsEvent);
            }
        });
        const websockets = options.websockets ?? 5;
        await waitUntil(
            () =>
                new Set(
                    events
                        .filter((event): event is WsEvent => event.type === "ws" && event.server === "primary")
                        .map((event) => event.id),
                ).size >= websockets,
            10000,
            "every websocket on the primary",
        );
        await sleep(2000);

        // The fault.
        const faultAt = Date.now();
        if (options.fault === "killed") {
            await servers.kill();
        } else if (options.fault === "hung") {
            servers.pause();
        } else if (options.fault === "blackholed") {
            servers.blackhole(true);
        } else {
            // Flapping: hung 3 s, fine 3 s, for the whole fault: long enough for checks to fail and pass.
            while (Date.now() - faultAt < faultMs - flapMs) {
                servers.pause();
                await sleep(flapMs);
                servers.resume();
                await sleep(flapMs);
            }
        }
        await sleep(Math.max(0, faultAt + faultMs - Date.now()));

        // The return: for a killed primary, when its new process listens; else when it is let go.
        let returnAt = Date.now();
        if (options.fault === "killed") {
            await servers.restart(dir);
            returnAt = Date.now();
        } else if (options.fault === "hung") {
            servers.resume();
        } else if (options.fault === "blackholed") {
            servers.blackhole(false);
        }
        // New users keep arriving after the return, one every lateEveryMs.
        const late = options.lateWebsockets ?? 5;
        const lateEveryMs = Math.min(10000, Math.floor((observeMs - 5000) / late));
        for (let i = 0; i < late; i++) {
            await sleep(Math.max(0, returnAt + 2000 + i * lateEveryMs - Date.now()));
            clients.stdin!.write("add 1\n");
        }
        await sleep(Math.max(0, returnAt + observeMs - Date.now()));
        const endAt = Date.now();
        clients.stdin!.write("stop\n");
        await new Promise((resolve) => clients!.once("exit", resolve));
        servers.attribute?.(
            events.filter((event): event is PollEvent => event.type === "poll"),
            fs.readFileSync(path.join(dir, "nginx.log"), "utf8"),
        );

        const guardTimelines = guardLogs.map((guardLog) =>
            fs
                .readFileSync(guardLog, "utf8")
                .split("\n")
                .filter((line) => line.includes('"event":"reloaded"'))
                .map((line) => JSON.parse(line) as { time: string; marked: string })
                .map((entry) => ({ marked: entry.marked, atMs: Date.parse(entry.time) - faultAt })),
        );
        const reloadTimes = (guardTimelines[0] ?? []).map((reload) => reload.atMs + faultAt);
        if (process.env.FAILOVER_BENCH_EVENTS) {
            // For looking into a run: every event, and what nginx and the guard logged.
            const logs = Object.fromEntries(
                ["nginx.log", "error.log", "guard.log"]
                    .filter((file) => fs.existsSync(path.join(dir, file)))
                    .map((file) => [file, fs.readFileSync(path.join(dir, file), "utf8")]),
            );
            fs.writeFileSync(
                process.env.FAILOVER_BENCH_EVENTS,
                JSON.stringify({ faultAt, returnAt, endAt, reloadTimes, logs, events }, null, 1),
            );
        }
        return {
            design: options.design,
            fault: options.fault,
            ...measure(events, { faultAt, returnAt, endAt, websockets }),
            reloads: reloadTimes.length,
            maxReloadsIn30s: Math.max(
                0,
                ...reloadTimes.map(
                    (time) => reloadTimes.filter((other) => other >= time && other < time + 30000).length,
                ),
            ),
            guardTimelines,
            faultMs,
            observeMs,
        };
    } finally {
        clients?.kill("SIGKILL");
        await servers.finish();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

interface Moments {
    readonly faultAt: number;
    readonly returnAt: number;
    readonly endAt: number;
    readonly websockets: number;
}

/** The numbers of one run, from the users' events. Exported for its unit test. */
export function measure(
    events: readonly (PollEvent | WsEvent)[],
    moments: Moments,
): Pick<
    ScenarioResult,
    | "failedRequests"
    | "failures"
    | "longestRequestMs"
    | "longestStillWaiting"
    | "firstBackupAnswerMs"
    | "websocketsServedAgainMs"
    | "splitWindowMs"
    | "splitAtEnd"
    | "keptAlive"
> {
    const { faultAt, returnAt, endAt, websockets } = moments;
    const polls = (client: PollEvent["client"]) =>
        measurePolls(
            events.filter(
                (event): event is PollEvent =>
                    event.type === "poll" && (event.client ?? "new-connection") === client && event.end >= faultAt,
            ),
            moments,
        );
    const keptAlive = events.some((event) => event.type === "poll" && event.client === "kept-alive")
        ? { keptAlive: polls("kept-alive") }
        : {};

    // Each early websocket is unserved from a close until its next message, and while its server is
    // silent for longer than servedWithinMs (a hung or unreachable server closes nothing). It is served
    // again at the end of the last such stretch the fault caused; null if that had not ended at the return.
    let servedAgain: number | null = 0;
    for (let id = 0; id < websockets; id++) {
        const own = events
            .filter((event): event is WsEvent => event.type === "ws" && event.id === id && event.t <= returnAt)
            .sort((a, b) => a.t - b.t);
        let lastMessage = own.filter((event) => event.event === "message" && event.t < faultAt).at(-1)?.t ?? faultAt;
        let closedAt: number | undefined;
        let clientServedAgain = 0;
        for (const event of own.filter((candidate) => candidate.t >= faultAt)) {
            if (event.event === "close") {
                closedAt = event.t;
            } else if (event.event === "message") {
                if (closedAt !== undefined || event.t - lastMessage > servedWithinMs) {
                    clientServedAgain = event.t - faultAt;
                }
                closedAt = undefined;
                lastMessage = event.t;
            }
        }
        const unservedAtReturn = closedAt !== undefined || returnAt - lastMessage > servedWithinMs;
        servedAgain = unservedAtReturn || servedAgain === null ? null : Math.max(servedAgain, clientServedAgain);
    }

    // After the return, every 100 ms: which servers the websockets are being served by.
    const wsMessages = events.filter(
        (event): event is WsEvent => event.type === "ws" && event.event === "message" && event.t >= returnAt - 2000,
    );
    let split = 0;
    let splitAtEnd = false;
    for (let t = returnAt; t <= endAt; t += 100) {
        const latest = new Map<number, WsEvent>();
        for (const message of wsMessages) {
            if (message.t <= t && message.t > t - servedWithinMs) {
                latest.set(message.id, message);
            }
        }
        const servers = new Set([...latest.values()].map((message) => message.server));
        if (servers.size > 1) {
            split += 100;
            if (t > endAt - 5000) {
                splitAtEnd = true;
            }
        }
    }
    return {
        ...polls("new-connection"),
        ...keptAlive,
        websocketsServedAgainMs: servedAgain,
        splitWindowMs: split,
        splitAtEnd,
    };
}

/** One client's polls that ended after the fault. */
function measurePolls(polls: readonly PollEvent[], moments: Moments): PollMeasures {
    const { faultAt, returnAt } = moments;
    const failed = polls.filter((poll) => poll.error !== undefined || poll.status !== 200);
    const longest = polls.reduce<PollEvent | undefined>(
        (worst, poll) => (!worst || poll.end - poll.start > worst.end - worst.start ? poll : worst),
        undefined,
    );
    const fromBackup = polls
        .filter((poll) => poll.server === "backup" && poll.end < returnAt)
        .map((poll) => poll.end - faultAt);
    return {
        failedRequests: failed.length,
        failures: failed.map(
            (poll) =>
                `${poll.start - faultAt}..${poll.end - faultAt} ms after the fault: ${poll.error ?? `status ${poll.status}`}`,
        ),
        longestRequestMs: longest ? longest.end - longest.start : 0,
        longestStillWaiting: longest?.error === "still waiting at the end",
        firstBackupAnswerMs: fromBackup.length > 0 ? Math.min(...fromBackup) : null,
    };
}
