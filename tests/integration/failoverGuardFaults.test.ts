/**
 * The failover guard as the ConfigMap ships it (the transpiled program, with the arguments the render
 * gives it: config/guard.ts's guardArgs), run as a process against faults it must survive: a backup as
 * broken as the primary, an upstream file it cannot write, pid files that name no nginx, and its own
 * restart. The Mattermost servers are HTTP servers in this process that answer or hang on cue; nginx is a
 * process named nginx that counts the SIGHUPs it gets. Rounds are shortened (--interval-ms, --timeout-ms)
 * so each case takes seconds; the decisions are the same at any pace.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { guardArgs, guardHeartbeatFile, guardUpstreamFile, renderGuardScript } from "../../config/guard";
import { upstreamServers, type Marked } from "../../scripts/failoverGuard";
import { stopProcess, waitFor } from "../helpers/nginxHarness";

interface FakeServer {
    /** "ok" answers the ping; "hang" accepts and never answers (a hung or blackholed server). */
    mode: "ok" | "hang";
    readonly address: string;
    close(): Promise<void>;
}

async function fakeServer(mode: FakeServer["mode"]): Promise<FakeServer> {
    const server = http.createServer((_request, response) => {
        if (fake.mode === "ok") {
            response.end("{}");
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const fake: FakeServer = {
        mode,
        address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
    return fake;
}

interface FakeNginx {
    readonly process: ChildProcess;
    readonly reloads: () => number;
}

/** A process whose name is nginx (as its master's is), counting the reloads it is asked for. */
async function fakeNginx(): Promise<FakeNginx> {
    const child = spawn(
        process.execPath,
        [
            "-e",
            "process.title = 'nginx'; process.on('SIGHUP', () => console.log('reload')); setInterval(() => undefined, 1000); console.log('ready');",
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => Promise.resolve(output.includes("ready")), 10000, "the fake nginx");
    return { process: child, reloads: () => output.split("\n").filter((line) => line === "reload").length };
}

interface Pod {
    readonly dir: string;
    readonly primary: FakeServer;
    readonly backup: FakeServer;
    readonly nginx: FakeNginx;
    /** The two servers' addresses, as the guard is given them. */
    readonly servers: { readonly primary: string; readonly backup: string };
    readonly upstreamFile: string;
    readonly pidFile: string;
    readonly heartbeatFile: string;
    /** Starts the guard (as the container does, after the init run unless `init` is false). */
    start(options?: { holdDownMs?: number; init?: boolean }): ChildProcess;
    log(): string;
    upstream(): string;
    stop(): Promise<void>;
}

const pods: Pod[] = [];

async function pod(modes: { primary: FakeServer["mode"]; backup: FakeServer["mode"] }): Promise<Pod> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guard-faults-"));
    const script = path.join(dir, "failover-guard.js");
    fs.writeFileSync(script, renderGuardScript());
    const [primary, backup, nginx] = await Promise.all([
        fakeServer(modes.primary),
        fakeServer(modes.backup),
        fakeNginx(),
    ]);
    const input = { primary: primary.address, backup: backup.address, runtimeDir: dir };
    const pidFile = path.join(dir, "nginx.pid");
    fs.writeFileSync(pidFile, `${nginx.process.pid}\n`);
    const logFile = path.join(dir, "guard.log");
    const guards: ChildProcess[] = [];
    const created: Pod = {
        dir,
        primary,
        backup,
        nginx,
        servers: input,
        upstreamFile: guardUpstreamFile(dir),
        pidFile,
        heartbeatFile: guardHeartbeatFile(dir),
        start({ holdDownMs = 30000, init = true } = {}) {
            if (init) {
                const run = spawnSync(process.execPath, [script, ...guardArgs(input, true)], { encoding: "utf8" });
                expect(run.status).toBe(0);
            }
            const logFd = fs.openSync(logFile, "a");
            // Its own process group: a guard that signalled "process 0" would reach only itself, not jest.
            const guard = spawn(
                process.execPath,
                [
                    script,
                    ...guardArgs(input),
                    ...["--interval-ms", "100", "--timeout-ms", "300", "--hold-down-ms", String(holdDownMs)],
                ],
                { stdio: ["ignore", logFd, logFd], detached: true },
            );
            fs.closeSync(logFd);
            guards.push(guard);
            return guard;
        },
        log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : ""),
        upstream() {
            const text = fs.readFileSync(created.upstreamFile, "utf8");
            return (
                (["primary", "backup-only"] as const).find((marked) => text === upstreamServers(input, marked)) ?? text
            );
        },
        async stop() {
            await Promise.all(guards.map((guard) => stopProcess(guard)));
            await stopProcess(nginx.process);
            await Promise.all([primary.close(), backup.close()]);
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    pods.push(created);
    return created;
}

afterEach(async () => {
    await Promise.all(pods.splice(0).map((created) => created.stop()));
});

/** Waits for a line of the guard's log; on a timeout, says what the guard did log. */
async function logged(created: Pod, text: string, timeoutMs = 5000): Promise<void> {
    await waitFor(() => Promise.resolve(created.log().includes(text)), timeoutMs, `the guard to log ${text}`).catch(
        (error: unknown) => {
            throw new Error(`${String(error)}; the guard logged:\n${created.log()}`);
        },
    );
}

/** Some rounds of the guard, by its heartbeats (one a round). */
async function rounds(created: Pod, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
        const before = fs.existsSync(created.heartbeatFile) ? fs.readFileSync(created.heartbeatFile, "utf8") : "";
        await waitFor(
            () =>
                Promise.resolve(
                    fs.existsSync(created.heartbeatFile) && fs.readFileSync(created.heartbeatFile, "utf8") !== before,
                ),
            5000,
            "a round of the guard",
        );
    }
}

describe("the failover guard with a backup as broken as the primary", () => {
    it("keeps the hung primary in, and takes it out once the backup answers", async () => {
        const created = await pod({ primary: "hang", backup: "hang" });
        const guard = created.start();
        await logged(created, "primary kept in");
        await rounds(created, 3);
        expect(created.upstream()).toBe("primary");
        expect(created.nginx.reloads()).toBe(0);
        created.backup.mode = "ok";
        await waitFor(() => Promise.resolve(created.upstream() === "backup-only"), 5000, "the primary taken out");
        await waitFor(() => Promise.resolve(created.nginx.reloads() === 1), 5000, "nginx reloaded");
        expect(guard.exitCode).toBeNull();
    }, 30000);
});

describe("the failover guard with an upstream file it cannot write", () => {
    it("logs, keeps checking, and writes the file and reloads nginx once it can", async () => {
        const created = await pod({ primary: "ok", backup: "ok" });
        const guard = created.start();
        await logged(created, '"event":"started"');
        // A directory where the file is: the rename that replaces the file fails, as on a full or
        // read-only volume (the tests run as root, whom file modes do not stop).
        fs.rmSync(created.upstreamFile);
        fs.mkdirSync(path.join(created.upstreamFile, "in-the-way"), { recursive: true });
        created.primary.mode = "hang";
        await logged(created, '"event":"write-failed"');
        await rounds(created, 3);
        expect(guard.exitCode).toBeNull();
        expect(created.nginx.reloads()).toBe(0);
        // Nothing half-written left behind beside it.
        expect(fs.readdirSync(path.dirname(created.upstreamFile)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
        fs.rmSync(created.upstreamFile, { recursive: true });
        await waitFor(() => Promise.resolve(fs.existsSync(created.upstreamFile)), 5000, "the upstream file");
        expect(created.upstream()).toBe("backup-only");
        await waitFor(() => Promise.resolve(created.nginx.reloads() === 1), 5000, "nginx reloaded");
        expect(guard.exitCode).toBeNull();
    }, 30000);
});

describe("the failover guard with a pid file that names no nginx", () => {
    it("signals nothing for an empty file, 0 or a stale number, and reloads nginx once the file names it", async () => {
        const created = await pod({ primary: "hang", backup: "ok" });
        // What a stale pid file may name now: any other process of the pod (here one that a SIGHUP ends).
        const other = spawn("sleep", ["60"], { stdio: "ignore" });
        try {
            fs.writeFileSync(created.pidFile, "");
            const guard = created.start();
            await logged(created, 'holds \\"\\", not a process id');
            expect(created.upstream()).toBe("backup-only");
            fs.writeFileSync(created.pidFile, "0\n");
            await logged(created, 'holds \\"0\\", not a process id');
            fs.writeFileSync(created.pidFile, `${other.pid}\n`);
            await logged(created, "which is sleep, not nginx");
            await rounds(created, 3);
            expect(other.exitCode).toBeNull();
            expect(other.signalCode).toBeNull();
            expect(guard.exitCode).toBeNull();
            expect(guard.signalCode).toBeNull();
            expect(created.nginx.reloads()).toBe(0);
            fs.writeFileSync(created.pidFile, `${created.nginx.process.pid}\n`);
            await waitFor(() => Promise.resolve(created.nginx.reloads() === 1), 5000, "nginx reloaded");
            await rounds(created, 3);
            expect(created.nginx.reloads()).toBe(1);
        } finally {
            await stopProcess(other);
        }
    }, 30000);
});

describe("a restarted failover guard", () => {
    /** What its predecessor left: the upstream file and, if it ran a round, its last heartbeat. */
    function leftBehind(created: Pod, upstream: Marked | "", applied?: Marked): void {
        fs.mkdirSync(path.dirname(created.upstreamFile), { recursive: true });
        fs.writeFileSync(created.upstreamFile, upstream === "" ? "" : upstreamServers(created.servers, upstream));
        if (applied) {
            fs.writeFileSync(created.heartbeatFile, JSON.stringify({ applied }));
        }
    }

    it("whose upstream file holds the primary out keeps it out until it has been healthy for the hold-down", async () => {
        const created = await pod({ primary: "ok", backup: "ok" });
        leftBehind(created, "backup-only", "backup-only");
        const started = Date.now();
        created.start({ init: false, holdDownMs: 2000 });
        await rounds(created, 5);
        expect(created.upstream()).toBe("backup-only");
        expect(created.nginx.reloads()).toBe(0);
        await waitFor(() => Promise.resolve(created.nginx.reloads() === 1), 10000, "the primary put back");
        expect(created.upstream()).toBe("primary");
        expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    }, 30000);

    it("whose upstream file has the primary in, as nginx loaded it, leaves nginx alone", async () => {
        const created = await pod({ primary: "ok", backup: "ok" });
        leftBehind(created, "primary", "primary");
        created.start({ init: false });
        await rounds(created, 10);
        expect(created.upstream()).toBe("primary");
        expect(created.nginx.reloads()).toBe(0);
    }, 30000);

    it("reloads nginx when its predecessor wrote the upstream file and stopped before signalling nginx", async () => {
        const created = await pod({ primary: "hang", backup: "ok" });
        // The primary taken out in the file; nginx still runs the servers it loaded before.
        leftBehind(created, "backup-only", "primary");
        created.start({ init: false });
        await waitFor(() => Promise.resolve(created.nginx.reloads() === 1), 5000, "nginx reloaded").catch(
            (error: unknown) => {
                throw new Error(`${String(error)}; the guard logged:\n${created.log()}`);
            },
        );
        await rounds(created, 5);
        expect(created.nginx.reloads()).toBe(1);
        expect(created.upstream()).toBe("backup-only");
    }, 30000);

    it("whose upstream file is empty writes it as the init run does, without waiting for the hold-down", async () => {
        const created = await pod({ primary: "ok", backup: "ok" });
        leftBehind(created, "", "primary");
        created.start({ init: false, holdDownMs: 60000 });
        await waitFor(() => Promise.resolve(created.upstream() === "primary"), 5000, "the upstream file rewritten");
        await waitFor(() => Promise.resolve(created.nginx.reloads() === 1), 5000, "nginx reloaded");
    }, 30000);
});

describe("the failover guard's heartbeat", () => {
    it("is rewritten every round with what the guard saw, and stops when the guard does", async () => {
        const created = await pod({ primary: "ok", backup: "hang" });
        const guard = created.start();
        await rounds(created, 3);
        expect(JSON.parse(fs.readFileSync(created.heartbeatFile, "utf8"))).toMatchObject({
            marked: "primary",
            applied: "primary",
            pending: false,
            primary: "ok",
            backup: "unhealthy",
        });
        await stopProcess(guard);
        const last = fs.statSync(created.heartbeatFile).mtimeMs;
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(fs.statSync(created.heartbeatFile).mtimeMs).toBe(last);
    }, 30000);
});
