import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderGuardScript } from "../../config/guard";
import { GuardState, parseOptions, upstreamServers, type CheckResult } from "../../scripts/failoverGuard";

const options = { fall: 2, rise: 3, holdDownMs: 30000 };

/** Feeds one check result per second and returns the reloads, as [second, marked]. */
function run(results: CheckResult[], state = new GuardState(options)): [number, string][] {
    const reloads: [number, string][] = [];
    results.forEach((result, second) => {
        const decision = state.observe(result, second * 1000);
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
        // No reload at the failure (it would cut the websockets that just moved); one when it is back.
        expect(reloads).toEqual([[17, "primary"]]);
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

describe("the upstream file", () => {
    const servers = { primary: "mattermost-1:8065", backup: "mattermost-2:8065" };

    it("lists the primary with the backup as backup, or the backup alone", () => {
        expect(upstreamServers(servers, "primary")).toContain(
            "server mattermost-1:8065 max_fails=1 fail_timeout=10s;\nserver mattermost-2:8065 backup;\n",
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
