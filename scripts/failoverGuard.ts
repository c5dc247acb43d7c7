/**
 * The failover guard, beside nginx in each nginx pod. nginx's passive `backup`
 * switching handles a primary that refuses connections, but not one that hangs or whose packets are
 * dropped: requests on kept-alive connections then wait for the read timeout. And after any failover,
 * websockets opened on the backup stay there while new users land on the primary.
 *
 * The guard asks the primary and the backup `GET /api/v4/system/ping` every interval. It rewrites the
 * servers of nginx's `upstream mattermost` (a file nginx.conf includes) and reloads nginx gracefully
 * (SIGHUP to its master; nginx.conf's short `worker_shutdown_timeout` then closes whatever the old
 * workers held):
 *   - primary hung or answering errors (`fall` checks in a row): the primary is taken out, at once, but
 *     only while the backup answers; with both failing the upstream stays as it is, nginx's own
 *     switching still works, and a backup that fails while the primary is out brings both back in (a
 *     healthy primary without waiting for `holdDown`);
 *   - primary refusing connections (`fall` in a row): nothing to do, nginx already sends everything to
 *     the backup, and a reload now would cut the websockets that just reconnected there;
 *   - either, then healthy again: the primary is put back and the reload moves every websocket back to
 *     it. Never sooner than `holdDown` after the last reload, and, when the guard had taken it out,
 *     only after `rise` healthy checks and once it has stayed healthy for `holdDown` without a break (it
 *     serves nobody meanwhile); a primary that nginx itself sends traffic to again is put back at its
 *     first healthy check, since until then its users and the backup's are split.
 * So a flapping primary causes one reload when it is first taken out and one when it has stayed healthy
 * for `holdDown`, never a loop: reloads come at least `holdDown` apart, except that a primary failing
 * right after being put back is taken out at once. Two nginx pods run a guard each; both see the same
 * primary and come to the same decision.
 *
 * It fails safe: a file it cannot write, or a pid file that names no nginx (empty, stale, 0: kill(0)
 * would signal its own process group), is logged and retried the next round, never fatal and never a
 * signal to anything else. Each round it writes a heartbeat file (the container's liveness probe reads
 * its age) that also records what nginx was last made to load; a restarted guard takes its state from
 * the upstream file and that record, and owes nginx the reload a predecessor may have died before.
 *
 * Self-contained (Node's standard library only), so the ConfigMap holds the whole program:
 *   node failover-guard.js --primary <host:port> --backup <host:port> --upstream-file <path>
 *       --nginx-pid-file <path> [--heartbeat-file <upstream file's directory>/heartbeat.json]
 *       [--interval-ms 1000] [--timeout-ms 1000] [--fall 2] [--rise 3] [--hold-down-ms 30000] [--init]
 * --init writes the upstream file for a healthy primary and exits (the pod's init container), so nginx
 * finds it at start. Outside Kubernetes, the same arguments point it at a local nginx.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { parseArgs } from "node:util";

export interface GuardOptions {
    readonly primary: string;
    readonly backup: string;
    readonly upstreamFile: string;
    readonly nginxPidFile: string;
    readonly heartbeatFile: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly fall: number;
    readonly rise: number;
    readonly holdDownMs: number;
}

/** How a check failed: `refused` nginx handles by itself; `unhealthy` (hung, dropped, erroring) it does not. */
export type CheckResult = "ok" | "refused" | "unhealthy";

export type Marked = "primary" | "backup-only";

const markedStates: readonly Marked[] = ["primary", "backup-only"];

/** The servers of `upstream mattermost` in each state. */
export function upstreamServers(options: Pick<GuardOptions, "primary" | "backup">, marked: Marked): string {
    const header = "# Written by the failover guard (scripts/failoverGuard.ts); nginx.conf includes it.\n";
    if (marked === "primary") {
        // A request the primary refuses or does not answer in time (nginx.conf's quick reads) goes to the
        // backup, and one such failure keeps the primary out for 10 s, so nginx's later requests skip it at
        // once, while this guard is still counting its checks.
        // The backup is never counted out (max_fails=0): when both are slow alike (a database both share
        // stalls), nginx would otherwise mark both down and answer every request "no live upstreams".
        return `${header}server ${options.primary} max_fails=1 fail_timeout=10s;\nserver ${options.backup} backup max_fails=0;\n`;
    }
    return `${header}server ${options.backup};\n`;
}

export interface Decision {
    readonly reload?: { readonly marked: Marked; readonly reason: string };
    readonly log?: string;
}

/** The guard's memory between checks: pure state, so the decisions are tested without a network. */
export class GuardState {
    private failures = 0;
    private successes = 0;
    private healthySince = 0;
    /** The primary was out (refused or taken out) since the last reload: the websockets must come back. */
    private needsFailback = false;
    private lastReloadAt = Number.NEGATIVE_INFINITY;
    private backupFailures = 0;
    /** Said once per episode that a failing primary stays in because the backup is failing too. */
    private keptInLogged = false;

    constructor(
        private readonly options: Pick<GuardOptions, "fall" | "rise" | "holdDownMs">,
        public marked: Marked = "primary",
    ) {
        this.needsFailback = marked === "backup-only";
    }

    /** One round of checks: the primary's result, and the backup's, which the primary's way out depends on. */
    observe(result: CheckResult, now: number, backup: CheckResult): Decision {
        this.backupFailures = backup === "ok" ? 0 : this.backupFailures + 1;
        // The primary out and the backup failing too: both back in is never worse than the backup alone
        // (nginx still tries the backup whenever the primary fails), and the primary may answer some.
        if (this.marked === "backup-only" && result !== "ok" && this.backupFailures >= this.options.fall) {
            this.successes = 0;
            this.failures = this.options.fall;
            this.needsFailback = true;
            this.marked = "primary";
            this.lastReloadAt = now;
            this.keptInLogged = true;
            return {
                reload: {
                    marked: "primary",
                    reason: `backup ${backup} for ${this.backupFailures} checks while the primary is out (${result}): both servers back in`,
                },
            };
        }
        if (result === "ok") {
            if (this.successes === 0) {
                this.healthySince = now;
            }
            this.failures = 0;
            this.successes += 1;
            this.keptInLogged = false;
            const heldOut = this.marked === "backup-only";
            // A primary nginx can reach again gets traffic from nginx itself (its fail_timeout over) while
            // the websockets stay on the backup: every check waited for is split time, so the first
            // healthy one puts it back. One the guard holds out serves nobody until put back: `rise`.
            if (!this.needsFailback || (heldOut && this.successes < this.options.rise)) {
                return {};
            }
            // Waiting out the hold-down while the backup fails would serve nobody: take the healthy one back.
            if (heldOut && this.backupFailures >= this.options.fall) {
                return this.reload(
                    "primary",
                    `backup ${backup} for ${this.backupFailures} checks; primary healthy`,
                    now,
                );
            }
            if (
                now - this.lastReloadAt < this.options.holdDownMs ||
                (heldOut && now - this.healthySince < this.options.holdDownMs)
            ) {
                return {};
            }
            return this.reload("primary", `primary healthy for ${this.successes} checks`, now);
        }
        this.successes = 0;
        this.failures += 1;
        if (this.failures < this.options.fall) {
            return {};
        }
        const first = !this.needsFailback;
        this.needsFailback = true;
        if (result === "unhealthy" && this.marked === "primary") {
            if (backup !== "ok") {
                // With the backup alone in the upstream nobody would be served; as it is, nginx still tries
                // the backup whenever the primary refuses, and the primary may still answer some.
                if (this.keptInLogged) {
                    return {};
                }
                this.keptInLogged = true;
                return { log: `primary ${result} for ${this.failures} checks, but backup ${backup}: primary kept in` };
            }
            return this.reload("backup-only", `primary ${result} for ${this.failures} checks`, now);
        }
        return first ? { log: `primary ${result} for ${this.failures} checks; nginx fails over by itself` } : {};
    }

    private reload(marked: Marked, reason: string, now: number): Decision {
        this.marked = marked;
        this.lastReloadAt = now;
        this.keptInLogged = false;
        if (marked === "primary") {
            this.needsFailback = false;
        }
        return { reload: { marked, reason } };
    }
}

/** One health check of a server, bounded by the timeout. */
export function checkServer(address: string, timeoutMs: number): Promise<CheckResult> {
    const [host, port] = splitHostPort(address);
    return new Promise((resolve) => {
        const request = http.get(
            { host, port, path: "/api/v4/system/ping", timeout: timeoutMs, agent: false },
            (response) => {
                response.resume();
                resolve(response.statusCode === 200 ? "ok" : "unhealthy");
            },
        );
        request.on("timeout", () => {
            // Node runs expired timers before it reads sockets: a guard that did not get the CPU for longer
            // than the timeout would call a reply already waiting unread a timeout. setImmediate runs after
            // the sockets are read, so such a reply settles the check first.
            setImmediate(() => {
                request.destroy();
                resolve("unhealthy");
            });
        });
        request.on("error", (error: NodeJS.ErrnoException) => {
            resolve(error.code === "ECONNREFUSED" || error.code === "ECONNRESET" ? "refused" : "unhealthy");
        });
    });
}

function splitHostPort(address: string): [string, number] {
    const colon = address.lastIndexOf(":");
    const port = Number(address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port)) {
        throw new Error(`${address} is not host:port`);
    }
    return [address.slice(0, colon), port];
}

/** Replaces the file whole, through a file in the same directory (a rename within one file system), so
 * nginx never reads half of it; on failure nothing is left behind and the old file stands. */
function replaceFile(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    try {
        fs.writeFileSync(temporary, text);
        fs.renameSync(temporary, file);
    } catch (error) {
        fs.rmSync(temporary, { force: true });
        throw error;
    }
}

export function writeUpstream(options: GuardOptions, marked: Marked): void {
    replaceFile(options.upstreamFile, upstreamServers(options, marked));
}

/** Which state the upstream file is in, by its servers; undefined if missing, empty or not this guard's. */
export function readUpstream(options: Pick<GuardOptions, "primary" | "backup" | "upstreamFile">): Marked | undefined {
    let text: string;
    try {
        text = fs.readFileSync(options.upstreamFile, "utf8");
    } catch {
        return undefined;
    }
    const servers = (upstream: string) =>
        upstream
            .split("\n")
            .map((line) => line.trim())
            .filter((line) => line.startsWith("server "))
            .join("\n");
    return markedStates.find((marked) => servers(upstreamServers(options, marked)) === servers(text));
}

/** What the guard writes every round: the liveness probe reads its age, an operator its contents. */
export interface Heartbeat {
    readonly time: string;
    readonly pid: number;
    /** What the guard has decided, and what nginx was last made to load (they differ while `pending`). */
    readonly marked: Marked;
    readonly applied: Marked;
    readonly pending: boolean;
    readonly primary: CheckResult | null;
    readonly backup: CheckResult | null;
}

/** Where the heartbeat goes unless --heartbeat-file says otherwise: beside the upstream file. */
export function defaultHeartbeatFile(upstreamFile: string): string {
    return path.posix.join(path.posix.dirname(upstreamFile), "heartbeat.json");
}

function readHeartbeat(file: string): Partial<Heartbeat> | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Heartbeat>;
    } catch {
        return undefined;
    }
}

export interface Pending {
    readonly marked: Marked;
    readonly reason: string;
    /** The upstream file says `marked` already; only nginx's reload is missing. */
    readonly written: boolean;
}

export interface Recovered {
    readonly marked: Marked;
    readonly applied: Marked;
    readonly pending?: Pending;
}

/**
 * The state a (re)starting guard takes over. The upstream file says what was decided; the last heartbeat
 * says what nginx was made to load. A guard that stopped between writing the file and signalling nginx
 * left the two apart, and nginx still runs the old servers: the reload is owed. No heartbeat is a pod's
 * first guard: nginx started after the init run and read the file itself.
 */
export function recover(fileMarked: Marked | undefined, last: Partial<Heartbeat> | undefined): Recovered {
    const lastApplied: unknown = last?.applied;
    if (fileMarked === undefined) {
        // Missing, empty or foreign: nginx cannot be trusted to run anything sensible; the init's state.
        return {
            marked: "primary",
            applied: "primary",
            pending: { marked: "primary", reason: "upstream file unrecognised", written: false },
        };
    }
    if (markedStates.includes(lastApplied as Marked) && lastApplied !== fileMarked) {
        return {
            marked: fileMarked,
            applied: lastApplied as Marked,
            pending: { marked: fileMarked, reason: "upstream file written, nginx not reloaded", written: true },
        };
    }
    if (last?.pending === true) {
        // Its predecessor had a reload still owed when it stopped (nginx's pid file named no nginx, say):
        // whatever nginx runs is not known to be the file.
        return {
            marked: fileMarked,
            applied: fileMarked,
            pending: { marked: fileMarked, reason: "a reload was still owed", written: true },
        };
    }
    return { marked: fileMarked, applied: fileMarked };
}

/**
 * The pid of nginx's master from its pid file, or why there is none to signal. An empty file reads as 0,
 * and kill(0) signals the guard's whole process group, kill(-1) every process it may signal; a stale file
 * names whatever process got the number since, in a process namespace shared with the pod's others.
 */
export function nginxMasterPid(pidFile: string, procDir = "/proc"): { pid: number } | { problem: string } {
    let text: string;
    try {
        text = fs.readFileSync(pidFile, "utf8").trim();
    } catch (error) {
        return { problem: `cannot read ${pidFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
    }
    const pid = Number(text);
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(pid) || pid <= 0) {
        return { problem: `${pidFile} holds ${JSON.stringify(text.slice(0, 20))}, not a process id` };
    }
    if (pid === process.pid) {
        return { problem: `${pidFile} names the guard itself` };
    }
    if (fs.existsSync(path.join(procDir, "self"))) {
        let name: string;
        try {
            name = fs.readFileSync(path.join(procDir, String(pid), "comm"), "utf8").trim();
        } catch {
            return { problem: `${pidFile} names process ${pid}, which is not running` };
        }
        if (!name.startsWith("nginx")) {
            return { problem: `${pidFile} names process ${pid}, which is ${name}, not nginx` };
        }
    }
    return { pid };
}

function log(event: string, fields: Record<string, unknown> = {}): void {
    console.log(JSON.stringify({ time: new Date().toISOString(), component: "failover-guard", event, ...fields }));
}

/** Logs a failure once until it changes or clears, so a retry every round does not flood the log. */
class Problems {
    private last?: string;

    report(event: string, fields: Record<string, unknown>): void {
        const key = JSON.stringify([event, fields]);
        if (key !== this.last) {
            this.last = key;
            log(event, { ...fields, retrying: true });
        }
    }

    clear(): void {
        this.last = undefined;
    }
}

export function parseOptions(argv: string[]): GuardOptions & { init: boolean } {
    const { values } = parseArgs({
        args: argv,
        options: {
            primary: { type: "string" },
            backup: { type: "string" },
            "upstream-file": { type: "string" },
            "nginx-pid-file": { type: "string" },
            "heartbeat-file": { type: "string" },
            "interval-ms": { type: "string", default: "1000" },
            "timeout-ms": { type: "string", default: "1000" },
            fall: { type: "string", default: "2" },
            rise: { type: "string", default: "3" },
            "hold-down-ms": { type: "string", default: "30000" },
            init: { type: "boolean", default: false },
        },
    });
    const required = (name: "primary" | "backup" | "upstream-file" | "nginx-pid-file") => {
        const value = values[name];
        if (!value) {
            throw new Error(`--${name} is required`);
        }
        return value;
    };
    const count = (name: "interval-ms" | "timeout-ms" | "fall" | "rise" | "hold-down-ms") => {
        const value = Number(values[name]);
        if (!Number.isInteger(value) || value < 0) {
            throw new Error(`--${name} must be a whole number, not ${values[name]}`);
        }
        return value;
    };
    const upstreamFile = required("upstream-file");
    const options = {
        primary: required("primary"),
        backup: required("backup"),
        upstreamFile,
        nginxPidFile: required("nginx-pid-file"),
        heartbeatFile: values["heartbeat-file"] || defaultHeartbeatFile(upstreamFile),
        intervalMs: count("interval-ms"),
        timeoutMs: count("timeout-ms"),
        fall: Math.max(1, count("fall")),
        rise: Math.max(1, count("rise")),
        holdDownMs: count("hold-down-ms"),
        init: values.init ?? false,
    };
    splitHostPort(options.primary);
    splitHostPort(options.backup);
    return options;
}

/**
 * Makes nginx run `pending`: the upstream file, then SIGHUP to nginx's master (it re-reads the
 * configuration and retires the old workers gracefully). Returns what is still owed, for the next round.
 */
function apply(options: GuardOptions, pending: Pending, problems: Problems): Pending | undefined {
    let owed = pending;
    if (!owed.written) {
        try {
            writeUpstream(options, owed.marked);
        } catch (error) {
            problems.report("write-failed", { marked: owed.marked, error: String(error) });
            return owed;
        }
        owed = { ...owed, written: true };
    }
    const master = nginxMasterPid(options.nginxPidFile);
    if ("problem" in master) {
        // Also nginx not (yet) running: once it is, it has read the file, and the reload costs nothing.
        problems.report("reload-skipped", { marked: owed.marked, problem: master.problem });
        return owed;
    }
    try {
        process.kill(master.pid, "SIGHUP");
    } catch (error) {
        problems.report("reload-failed", { marked: owed.marked, error: String(error) });
        return owed;
    }
    problems.clear();
    log("reloaded", { marked: owed.marked, reason: owed.reason });
    return undefined;
}

export async function main(argv: string[]): Promise<void> {
    const options = parseOptions(argv);
    if (options.init) {
        writeUpstream(options, "primary");
        log("initialised", { upstreamFile: options.upstreamFile });
        return;
    }
    const recovered = recover(readUpstream(options), readHeartbeat(options.heartbeatFile));
    const state = new GuardState(options, recovered.marked);
    let applied = recovered.applied;
    let pending = recovered.pending;
    log("started", {
        primary: options.primary,
        backup: options.backup,
        marked: state.marked,
        ...(pending ? { owed: pending.reason } : {}),
    });
    let stopping = false;
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.on(signal, () => {
            stopping = true;
        });
    }
    const problems = new Problems();
    let heartbeatProblem: string | undefined;
    while (!stopping) {
        const started = Date.now();
        const [primary, backup] = await Promise.all([
            checkServer(options.primary, options.timeoutMs),
            checkServer(options.backup, options.timeoutMs),
        ]);
        const decision = state.observe(primary, Date.now(), backup);
        if (decision.log) {
            log("observed", { message: decision.log });
        }
        if (decision.reload) {
            pending = { ...decision.reload, written: false };
        }
        if (pending) {
            const marked = pending.marked;
            pending = apply(options, pending, problems);
            if (!pending) {
                applied = marked;
            }
        }
        const heartbeat: Heartbeat = {
            time: new Date().toISOString(),
            pid: process.pid,
            marked: state.marked,
            applied,
            pending: pending !== undefined,
            primary,
            backup,
        };
        try {
            replaceFile(options.heartbeatFile, `${JSON.stringify(heartbeat)}\n`);
            heartbeatProblem = undefined;
        } catch (error) {
            // The liveness probe sees it by the heartbeat's age; the log says why.
            if (String(error) !== heartbeatProblem) {
                heartbeatProblem = String(error);
                log("heartbeat-failed", { error: heartbeatProblem });
            }
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, options.intervalMs - (Date.now() - started))));
    }
    log("stopped");
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((error: unknown) => {
        log("failed", { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
    });
}
