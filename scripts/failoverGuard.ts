/**
 * The failover guard (DESIGN decision 4), beside nginx in each nginx pod. nginx's passive `backup`
 * switching handles a primary that refuses connections, but not one that hangs or whose packets are
 * dropped: requests on kept-alive connections then wait for the read timeout. And after any failover,
 * websockets opened on the backup stay there while new users land on the primary.
 *
 * The guard asks the primary `GET /api/v4/system/ping` every interval. It rewrites the servers of
 * nginx's `upstream mattermost` (a file nginx.conf includes) and reloads nginx gracefully (SIGHUP to
 * its master; nginx.conf's short `worker_shutdown_timeout` then closes whatever the old workers held):
 *   - primary hung or answering errors (`fall` checks in a row): the primary is taken out, at once;
 *   - primary refusing connections (`fall` in a row): nothing to do, nginx already sends everything to
 *     the backup, and a reload now would cut the websockets that just reconnected there;
 *   - either, then healthy again: the primary is put back and the reload moves every websocket back to
 *     it. Never sooner than `holdDown` after the last reload, and, when the guard had taken it out,
 *     only once it has stayed healthy for `holdDown` without a break (it serves nobody meanwhile); a
 *     primary that nginx itself sends traffic to again is put back after `rise` healthy checks, since
 *     until then its users and the backup's are split.
 * So a flapping primary causes one reload when it is first taken out and one when it has stayed healthy
 * for `holdDown`, never a loop: reloads come at least `holdDown` apart, except that a primary failing
 * right after being put back is taken out at once. Two nginx pods run a guard each; both see the same
 * primary and come to the same decision.
 *
 * Self-contained (Node's standard library only), so the ConfigMap holds the whole program:
 *   node failover-guard.js --primary <host:port> --backup <host:port> --upstream-file <path>
 *       --nginx-pid-file <path> [--interval-ms 1000] [--timeout-ms 1000] [--fall 2] [--rise 3]
 *       [--hold-down-ms 30000] [--init]
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
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly fall: number;
    readonly rise: number;
    readonly holdDownMs: number;
}

/** How a check failed: `refused` nginx handles by itself; `unhealthy` (hung, dropped, erroring) it does not. */
export type CheckResult = "ok" | "refused" | "unhealthy";

export type Marked = "primary" | "backup-only";

/** The servers of `upstream mattermost` in each state. */
export function upstreamServers(options: Pick<GuardOptions, "primary" | "backup">, marked: Marked): string {
    const header = "# Written by the failover guard (scripts/failoverGuard.ts); nginx.conf includes it.\n";
    if (marked === "primary") {
        // A connection the primary refuses goes to the backup; one failure keeps it out for 10 s.
        return `${header}server ${options.primary} max_fails=1 fail_timeout=10s;\nserver ${options.backup} backup;\n`;
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

    constructor(
        private readonly options: Pick<GuardOptions, "fall" | "rise" | "holdDownMs">,
        public marked: Marked = "primary",
    ) {
        this.needsFailback = marked === "backup-only";
    }

    observe(result: CheckResult, now: number): Decision {
        if (result === "ok") {
            if (this.successes === 0) {
                this.healthySince = now;
            }
            this.failures = 0;
            this.successes += 1;
            if (!this.needsFailback || this.successes < this.options.rise) {
                return {};
            }
            const heldOut = this.marked === "backup-only";
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
            return this.reload("backup-only", `primary ${result} for ${this.failures} checks`, now);
        }
        return first ? { log: `primary ${result} for ${this.failures} checks; nginx fails over by itself` } : {};
    }

    private reload(marked: Marked, reason: string, now: number): Decision {
        this.marked = marked;
        this.lastReloadAt = now;
        if (marked === "primary") {
            this.needsFailback = false;
        }
        return { reload: { marked, reason } };
    }
}

/** One health check of the primary, bounded by the timeout. */
export function checkPrimary(primary: string, timeoutMs: number): Promise<CheckResult> {
    const [host, port] = splitHostPort(primary);
    return new Promise((resolve) => {
        const request = http.get(
            { host, port, path: "/api/v4/system/ping", timeout: timeoutMs, agent: false },
            (response) => {
                response.resume();
                resolve(response.statusCode === 200 ? "ok" : "unhealthy");
            },
        );
        request.on("timeout", () => {
            request.destroy();
            resolve("unhealthy");
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

/** Replaces the file whole, so nginx never reads half of it. */
export function writeUpstream(options: GuardOptions, marked: Marked): void {
    fs.mkdirSync(path.dirname(options.upstreamFile), { recursive: true });
    const temporary = `${options.upstreamFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, upstreamServers(options, marked));
    fs.renameSync(temporary, options.upstreamFile);
}

function readMarked(options: GuardOptions): Marked {
    try {
        return fs.readFileSync(options.upstreamFile, "utf8").includes(" backup;") ? "primary" : "backup-only";
    } catch {
        return "primary";
    }
}

function log(event: string, fields: Record<string, unknown> = {}): void {
    console.log(JSON.stringify({ time: new Date().toISOString(), component: "failover-guard", event, ...fields }));
}

export function parseOptions(argv: string[]): GuardOptions & { init: boolean } {
    const { values } = parseArgs({
        args: argv,
        options: {
            primary: { type: "string" },
            backup: { type: "string" },
            "upstream-file": { type: "string" },
            "nginx-pid-file": { type: "string" },
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
    const options = {
        primary: required("primary"),
        backup: required("backup"),
        upstreamFile: required("upstream-file"),
        nginxPidFile: required("nginx-pid-file"),
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

/** SIGHUP to nginx's master: it re-reads the configuration and retires the old workers gracefully. */
function reloadNginx(options: GuardOptions): void {
    const pid = Number(fs.readFileSync(options.nginxPidFile, "utf8").trim());
    process.kill(pid, "SIGHUP");
}

export async function main(argv: string[]): Promise<void> {
    const options = parseOptions(argv);
    if (options.init) {
        writeUpstream(options, "primary");
        log("initialised", { upstreamFile: options.upstreamFile });
        return;
    }
    const state = new GuardState(options, readMarked(options));
    log("started", { primary: options.primary, backup: options.backup, marked: state.marked });
    let stopping = false;
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.on(signal, () => {
            stopping = true;
        });
    }
    while (!stopping) {
        const started = Date.now();
        const result = await checkPrimary(options.primary, options.timeoutMs);
        const decision = state.observe(result, Date.now());
        if (decision.log) {
            log("observed", { message: decision.log });
        }
        if (decision.reload) {
            writeUpstream(options, decision.reload.marked);
            try {
                reloadNginx(options);
                log("reloaded", { marked: decision.reload.marked, reason: decision.reload.reason });
            } catch (error) {
                // nginx not (yet) running: it reads the file when it starts.
                log("reload-failed", { marked: decision.reload.marked, error: String(error) });
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
