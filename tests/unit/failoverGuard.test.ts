import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderGuardScript } from "../../config/guard";
import {
    checkServer,
    GuardState,
    nginxMasterPid,
    parseOptions,
    readUpstream,
    recover,
    upstreamServers,
    type CheckResult,
} from "../../scripts/failoverGuard";

const options = { fall: 2, rise: 3, holdDownMs: 30000 };

/**
 * Feeds one check result per second (the primary's; the backup's from `backup`, healthy where it is
 * shorter) and returns the reloads, as [second, marked].
 */
function run(results: CheckResult[], state = new GuardState(options), backup: CheckResult[] = []): [number, string][] {
    const reloads: [number, string][] = [];
    results.forEach((result, second) => {
        const decision = state.observe(result, second * 1000, backup[second] ?? "ok");
        if (decision.reload) {
            reloads.push([second, decision.reload.marked]);
        }
    });
    return reloads;
}

const repeat = (result: CheckResult, times: number): CheckResult[] => Array<CheckResult>(times).fill(result);

describe("the failover guard's decisions", () => {
    it("takes a hung primary out after `fall` failed checks, and puts it back after 30 s of health", () => {
        const reloads = run([...repeat("ok", 5), ...repeat("unhealthy", 15), ...repeat("ok", 40)]);
        // Out at the second failure (second 6); healthy from second 20, back 30 s later.
        expect(reloads).toEqual([
            [6, "backup-only"],
            [50, "primary"],
        ]);
    });

    it("ignores a single failed check", () => {
        expect(run([...repeat("ok", 3), "unhealthy", ...repeat("ok", 10), "refused", ...repeat("ok", 10)])).toEqual([]);
    });

    it("leaves a refusing primary to nginx, and brings the websockets back once it answers again", () => {
        const reloads = run([...repeat("ok", 5), ...repeat("refused", 10), ...repeat("ok", 5)]);
        // No reload at the failure (it would cut the websockets that just moved); one at its first healthy
        // check, since nginx may already be sending newcomers to it while the websockets stay on the backup.
        expect(reloads).toEqual([[15, "primary"]]);
    });

    it("reloads nginx once per flapping episode, not once per flap", () => {
        const flapping = Array.from({ length: 10 }, () => [...repeat("unhealthy", 3), ...repeat("ok", 3)]).flat();
        const reloads = run([...repeat("ok", 3), ...flapping, ...repeat("ok", 40)]);
        expect(reloads).toEqual([
            [4, "backup-only"],
            // The last flap's healthy 3 s run into the end: healthy from second 60.
            [90, "primary"],
        ]);
        const seconds = reloads.map(([second]) => second);
        expect(seconds[1] - seconds[0]).toBeGreaterThanOrEqual(30);
    });

    it("starting with the primary held out, it waits for the primary to be healthy before putting it back", () => {
        const state = new GuardState(options, "backup-only");
        expect(run([...repeat("unhealthy", 5), ...repeat("ok", 31)], state)).toEqual([[35, "primary"]]);
    });

    it("keeps reloads 30 s apart when a refusing primary keeps coming back and crashing", () => {
        const crashLoop = Array.from({ length: 8 }, () => [...repeat("refused", 5), ...repeat("ok", 5)]).flat();
        const reloads = run([...repeat("ok", 3), ...crashLoop]).map(([second]) => second);
        expect(reloads.length).toBeGreaterThan(1);
        for (let i = 1; i < reloads.length; i++) {
            expect(reloads[i] - reloads[i - 1]).toBeGreaterThanOrEqual(30);
        }
    });
});

describe("the failover guard with a failing backup", () => {
    it("keeps a hung primary in while the backup fails too, and takes it out once the backup answers", () => {
        const state = new GuardState(options);
        const primary = [...repeat("ok", 3), ...repeat("unhealthy", 12)];
        const backup = [...repeat("ok", 3), ...repeat("unhealthy", 4), ...repeat("refused", 4), ...repeat("ok", 4)];
        // Both failing from second 3; the backup answers again at second 11.
        expect(run(primary, state, backup)).toEqual([[11, "backup-only"]]);
    });

    it("says once why a failing primary stays in", () => {
        const state = new GuardState(options);
        const logs = [0, 1, 2, 3, 4, 5].map((second) => state.observe("unhealthy", second * 1000, "unhealthy").log);
        expect(logs.filter((log) => log !== undefined)).toEqual([
            "primary unhealthy for 2 checks, but backup unhealthy: primary kept in",
        ]);
    });

    it("puts a healthy primary back without the hold-down when the backup it was left with fails", () => {
        const state = new GuardState(options);
        const primary = [...repeat("ok", 3), ...repeat("unhealthy", 4), ...repeat("ok", 10)];
        const backup = [...repeat("ok", 9), ...repeat("unhealthy", 8)];
        // Out at second 4; the primary healthy from second 7 (3 checks: second 9), the backup failing from
        // second 9 (2 checks: second 10): back at second 10, not 30 s later.
        expect(run(primary, state, backup)).toEqual([
            [4, "backup-only"],
            [10, "primary"],
        ]);
    });
});

describe("the failover guard with the backup failing after it took the primary out", () => {
    it("puts both back in while the primary is still failing, rather than leave the backup alone", () => {
        const state = new GuardState(options);
        const primary = [...repeat("ok", 3), ...repeat("unhealthy", 10)];
        const backup = [...repeat("ok", 6), ...repeat("unhealthy", 7)];
        // Out at second 4; the backup failing from second 6 (2 checks: second 7): both back in at once.
        expect(run(primary, state, backup)).toEqual([
            [4, "backup-only"],
            [7, "primary"],
        ]);
    });
});

describe("a restarted guard owing a reload", () => {
    it("sends it when its predecessor's last heartbeat says one was still owed", () => {
        expect(recover("primary", { applied: "primary", pending: true })).toEqual({
            marked: "primary",
            applied: "primary",
            pending: { marked: "primary", reason: "a reload was still owed", written: true },
        });
    });
});

describe("a health check", () => {
    it("counts a reply that came while the guard was busy past its timeout, rather than calling it a timeout", async () => {
        // The server in a process of its own, so that it answers while this one is busy; 100 ms late, so
        // that its reply comes in the middle of that.
        const server = spawn(
            process.execPath,
            [
                "-e",
                "require('http').createServer((q, r) => setTimeout(() => r.end('ok'), 100)).listen(0, '127.0.0.1', function () { console.log(this.address().port); });",
            ],
            { stdio: ["ignore", "pipe", "inherit"] },
        );
        try {
            const port = await new Promise<string>((resolve) =>
                server.stdout.once("data", (data) => resolve(String(data).trim())),
            );
            const check = checkServer(`127.0.0.1:${port}`, 300);
            // Busy (a collection, a throttled CPU limit) from 50 ms to 650 ms: the reply arrives at 100 ms
            // and waits unread, and the check's timer is due at 300 ms. Node then runs due timers before
            // it reads sockets.
            await new Promise((resolve) => setTimeout(resolve, 50));
            await new Promise<void>((resolve) =>
                setImmediate(() => {
                    const busyUntil = Date.now() + 600;
                    while (Date.now() < busyUntil) {
                        // busy
                    }
                    resolve();
                }),
            );
            await expect(check).resolves.toBe("ok");
        } finally {
            server.kill();
        }
    });
});

describe("the nginx pid file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guard-pid-"));
    // A /proc of its own: process 4242 is nginx, 4343 the Filebeat sidecar that got a stale number.
    const proc = path.join(dir, "proc");
    for (const [pid, comm] of [
        ["self", "node"],
        ["4242", "nginx"],
        ["4343", "filebeat"],
    ]) {
        fs.mkdirSync(path.join(proc, pid), { recursive: true });
        fs.writeFileSync(path.join(proc, pid, "comm"), `${comm}\n`);
    }
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const pidFrom = (text: string) => {
        const file = path.join(dir, "nginx.pid");
        fs.writeFileSync(file, text);
        return nginxMasterPid(file, proc);
    };

    it("gives nginx's master from a pid file that names it", () => {
        expect(pidFrom("4242\n")).toEqual({ pid: 4242 });
    });

    // Number("") is 0; kill(0) signals the guard's process group, kill(-1) every process it may signal.
    it.each(["", "\n", "0", "-1", "-4242", "4242.5", "1e3", "abc", "0x10", "99999999999999999999"])(
        "refuses %j: no process id, so nothing is signalled",
        (text) => {
            expect(pidFrom(text)).toEqual({ problem: expect.stringContaining("not a process id") });
        },
    );

    it("refuses a stale number: no such process, or one that is not nginx", () => {
        expect(pidFrom("4141")).toEqual({ problem: expect.stringContaining("which is not running") });
        expect(pidFrom("4343")).toEqual({ problem: expect.stringContaining("which is filebeat, not nginx") });
        expect(pidFrom(String(process.pid))).toEqual({ problem: expect.stringContaining("the guard itself") });
    });

    it("says why when there is no pid file", () => {
        expect(nginxMasterPid(path.join(dir, "absent.pid"), proc)).toEqual({
            problem: expect.stringContaining("ENOENT"),
        });
    });
});

describe("a restarted guard's state", () => {
    const servers = { primary: "mattermost-1:8065", backup: "mattermost-2:8065" };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guard-recover-"));
    const upstreamFile = path.join(dir, "upstream.conf");
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const fileSaying = (text: string) => {
        fs.writeFileSync(upstreamFile, text);
        return readUpstream({ ...servers, upstreamFile });
    };

    it("reads which servers the upstream file lists, and nothing from a file that is not the guard's", () => {
        expect(fileSaying(upstreamServers(servers, "primary"))).toBe("primary");
        expect(fileSaying(upstreamServers(servers, "backup-only"))).toBe("backup-only");
        expect(fileSaying("")).toBeUndefined();
        expect(fileSaying(upstreamServers({ ...servers, backup: "elsewhere:8065" }, "backup-only"))).toBeUndefined();
        expect(readUpstream({ ...servers, upstreamFile: path.join(dir, "absent.conf") })).toBeUndefined();
    });

    it("takes the file's state; owes nginx nothing when it loaded that file, the reload when it did not", () => {
        expect(recover("backup-only", undefined)).toEqual({ marked: "backup-only", applied: "backup-only" });
        expect(recover("primary", { applied: "primary" })).toEqual({ marked: "primary", applied: "primary" });
        // A predecessor wrote the file and stopped before signalling nginx: nginx runs the old servers.
        expect(recover("backup-only", { applied: "primary" })).toEqual({
            marked: "backup-only",
            applied: "primary",
            pending: { marked: "backup-only", reason: expect.any(String), written: true },
        });
    });

    it("rewrites a file it does not recognise as the init run would", () => {
        expect(recover(undefined, { applied: "backup-only" })).toEqual({
            marked: "primary",
            applied: "primary",
            pending: { marked: "primary", reason: "upstream file unrecognised", written: false },
        });
    });
});

describe("the upstream file", () => {
    const servers = { primary: "mattermost-1:8065", backup: "mattermost-2:8065" };

    it("lists the primary with the backup as backup, or the backup alone", () => {
        expect(upstreamServers(servers, "primary")).toContain(
            "server mattermost-1:8065 max_fails=1 fail_timeout=10s;\nserver mattermost-2:8065 backup max_fails=0;\n",
        );
        expect(upstreamServers(servers, "backup-only")).toMatch(/\nserver mattermost-2:8065;\n$/);
        expect(upstreamServers(servers, "backup-only")).not.toContain("mattermost-1");
    });

    it("is written by the transpiled program's --init, as the pod's init container runs it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guard-"));
        const script = path.join(dir, "failover-guard.js");
        fs.writeFileSync(script, renderGuardScript());
        const upstreamFile = path.join(dir, "guard", "upstream.conf");
        const args = ["--primary", servers.primary, "--backup", servers.backup, "--upstream-file", upstreamFile];
        const init = spawnSync(
            process.execPath,
            [script, ...args, "--nginx-pid-file", path.join(dir, "nginx.pid"), "--init"],
            {
                encoding: "utf8",
            },
        );
        expect(init.status).toBe(0);
        expect(fs.readFileSync(upstreamFile, "utf8")).toBe(upstreamServers(servers, "primary"));
        // A missing argument stops it with the argument's name.
        const missing = spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });
        expect(missing.status).toBe(1);
        expect(missing.stdout).toContain("--nginx-pid-file is required");
    });

    it("refuses an address without a port", () => {
        expect(() =>
            parseOptions([
                "--primary",
                "mattermost-1",
                "--backup",
                "b:1",
                "--upstream-file",
                "f",
                "--nginx-pid-file",
                "p",
            ]),
        ).toThrow("mattermost-1 is not host:port");
    });
});

describe("renderGuardScript", () => {
    it("is the same text every time", () => {
        expect(renderGuardScript()).toBe(renderGuardScript());
    });
});
