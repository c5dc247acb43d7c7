/**
 * The commands a user runs around the engine: `npm run demo` (and `-- down`), and the pull-request
 * preview against a local cluster (`npm run diff:engine`). Each gets a cluster and directories of its
 * own, so neither touches the suite's cluster nor anything of the user's.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectDir } from "../../scripts/programCopy";

function npmRun(args: string[], env: NodeJS.ProcessEnv): { status: number; output: string } {
    const result = spawnSync("npm", ["run", "-s", ...args], {
        cwd: projectDir,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 900_000,
        maxBuffer: 64 * 1024 * 1024,
    });
    return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

function scratch(name: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
}

it("deploys the test stack with npm run demo, and takes it all away with demo -- down", () => {
    const env = { MM_DEMO_DIR: scratch("demo"), MM_CLUSTER_DIR: scratch("demo-cluster") };
    const demo = npmRun(["demo"], env);
    expect({ status: demo.status, tail: demo.status === 0 ? "" : demo.output.slice(-4000) }).toEqual({
        status: 0,
        tail: "",
    });
    expect(demo.output).toMatch(/Resources:\n\s+\+ \d+ created/);
    expect(demo.output).toContain(`source ${path.join(env.MM_DEMO_DIR, "env")}`);
    const envFile = fs.readFileSync(path.join(env.MM_DEMO_DIR, "env"), "utf8");
    const kubectl = spawnSync("bash", ["-c", `${envFile}\nkubectl get deployments -n mattermost-test -o name`], {
        encoding: "utf8",
    });
    expect(kubectl.stdout).toContain("deployment.apps/mattermost-1");
    const down = npmRun(["demo", "--", "down"], env);
    expect(down.status).toBe(0);
    expect(fs.existsSync(env.MM_DEMO_DIR)).toBe(false);
    expect(fs.existsSync(path.join(env.MM_CLUSTER_DIR, "state.json"))).toBe(false);
});

it("previews the checkout against the base deployed to a local cluster (npm run diff:engine)", () => {
    const out = path.join(scratch("engine-diff"), "engine-diff.md");
    const diff = npmRun(["diff:engine", "--", "--base", "HEAD", "--stack", "test", "--out", out], {
        MM_CLUSTER_DIR: scratch("diff-cluster"),
    });
    expect({ status: diff.status, tail: diff.status === 0 ? "" : diff.output.slice(-4000) }).toEqual({
        status: 0,
        tail: "",
    });
    const text = fs.readFileSync(out, "utf8");
    expect(text).toContain("### test");
    // The base is this checkout's HEAD: with the program as committed (as in CI), the engine sees no
    // change; with uncommitted changes of a developer's, it shows them.
    const committed = spawnSync(
        "git",
        ["diff", "--quiet", "HEAD", "--", "index.ts", "components", "config", "Pulumi.yaml", "Pulumi.test.yaml"],
        {
            cwd: projectDir,
        },
    );
    expect(text).toMatch(committed.status === 0 ? /Resources:\n\s+\d+ unchanged\n/ : /Resources:\n/);
    expect(text).not.toContain("The preview failed");
});
