/**
 * `npm run bench:engine [-- --write docs/benchmarks.md] [--cold]`: how long the real engine takes here.
 * The toolchain built again with Go's caches warm (every binary relinked), and with `--cold` from nothing
 * at all (empty Go build and module caches: every module downloaded, every package compiled); then, on an
 * empty local cluster, `pulumi up` of the test stack, a preview without changes, and one Mattermost
 * setting changed (preview and up). Each build runs into temporary caches, so the real ones stay as
 * they are.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { down as clusterDown, up as clusterUp } from "../../scripts/cluster";
import { readmeBlock } from "../engine/helpers/readme";
import { workspace } from "../engine/helpers/pulumiCli";
import { writeSection } from "./sections";

const projectDir = path.resolve(__dirname, "..", "..");

interface Measured {
    readonly what: string;
    readonly seconds: number;
    readonly target?: { seconds: number; text: string };
}

function timed(what: string, action: () => void, target?: Measured["target"]): Measured {
    const started = Date.now();
    action();
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    process.stderr.write(`bench: ${what}: ${seconds} s\n`);
    return { what, seconds, ...(target ? { target } : {}) };
}

/** The toolchain built by `npm run -s toolchain -- build` into caches of its own. */
function buildToolchain(caches: { go: "warm" | "cold" }): void {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-toolchain-"));
    const goEnv = (name: string) => execFileSync("go", ["env", name], { encoding: "utf8" }).trim();
    const env = {
        ...process.env,
        MM_TOOLCHAIN_CACHE: path.join(root, "toolchain"),
        GOCACHE: caches.go === "cold" ? path.join(root, "go-build") : goEnv("GOCACHE"),
        GOMODCACHE: caches.go === "cold" ? path.join(root, "go-mod") : goEnv("GOMODCACHE"),
    };
    try {
        const result = spawnSync("npm", ["run", "-s", "toolchain", "--", "build"], {
            cwd: projectDir,
            env,
            stdio: "inherit",
        });
        if (result.status !== 0) {
            throw new Error(`the ${caches.go} toolchain build exited ${result.status}`);
        }
    } finally {
        // The module cache is read-only by design; chmod first so that it can be removed.
        spawnSync("chmod", ["-R", "u+w", root]);
        fs.rmSync(root, { recursive: true, force: true });
    }
}

async function measureEngine(): Promise<Measured[]> {
    process.env.MM_CLUSTER_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cluster-"));
    await clusterUp();
    const ws = workspace({ stacks: ["test"] });
    try {
        const ok = (result: { status: number; output: string }, what: string) => {
            if (result.status !== 0) {
                throw new Error(`${what} exited ${result.status}:\n${result.output.slice(-4000)}`);
            }
        };
        const up = timed(
            "`pulumi up` of the test stack on an empty cluster (the README's commands)",
            () => ok(ws.bash(readmeBlock("local-deploy"), 1_200_000), "the README's deploy block"),
            { seconds: 300, text: "within 5 minutes" },
        );
        const noChange = timed(
            "`pulumi preview --expect-no-changes`",
            () => ok(ws.pulumi(["preview", "--expect-no-changes"]), "the no-change preview"),
            { seconds: 30, text: "within 30 s" },
        );
        const file = path.join(ws.dir, "Pulumi.test.yaml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"Chat (test)"', '"Chat (benchmark)"'));
        const change = timed("one Mattermost setting changed: `pulumi preview --diff`, then `pulumi up`", () => {
            ok(ws.pulumi(["preview", "--diff"]), "the change's preview");
            ok(ws.pulumi(["up", "--yes"]), "the change's up");
        });
        ws.pulumi(["destroy", "--yes"]);
        return [up, noChange, change];
    } finally {
        ws.cleanup();
        await clusterDown();
    }
}

function document(measured: readonly Measured[], cold: boolean): string {
    const rows = measured.map(
        (m) =>
            `| ${m.what} | ${m.seconds} | ${m.target ? `${m.target.text}: ${m.seconds <= m.target.seconds ? "met" : "missed"}` : ""} |`,
    );
    return `# The real engine

Written by \`npm run bench:engine -- --write docs/benchmarks.md${cold ? " --cold" : ""}\` (tests/benchmarks/engineBench.ts).
Run of ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} CPUs, ${os.type()} ${os.release()}, Node ${process.version}.
The builds run into caches of their own; the stack runs on a local cluster started for the run (npm run
cluster), whose pods kwok simulates.

| what | seconds | target |
| --- | --- | --- |
${rows.join("\n")}
`;
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { write: { type: "string" }, cold: { type: "boolean" } } });
    const measured: Measured[] = [];
    if (values.cold) {
        measured.push(
            timed("the toolchain from nothing (empty Go caches: every module downloaded, every package built)", () =>
                buildToolchain({ go: "cold" }),
            ),
        );
    }
    measured.push(
        timed("the toolchain with Go's caches warm (every binary relinked)", () => buildToolchain({ go: "warm" })),
    );
    measured.push(...(await measureEngine()));
    const text = document(measured, Boolean(values.cold));
    console.log(text);
    if (values.write) {
        await writeSection(path.resolve(values.write), "engine", text);
        console.log(`wrote the engine section of ${values.write}`);
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
