/**
 * `npm run diff:engine -- --base <ref> [--stack test --stack prod] [--out engine-diff.md]`: the real
 * engine's view of a change, with no company cluster and no credential. The base commit's program is
 * deployed to the local cluster (npm run cluster), then `pulumi preview --diff` of this checkout's
 * program runs against that state, per stack (the prod stack with test values for its company services,
 * scripts/localStack.ts). The pull-request workflow posts it beside the render diff (npm run diff).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { down as clusterDown, up as clusterUp, type ClusterInfo } from "./cluster";
import { prepareLocalStack, type PulumiRunner } from "./localStack";
import { copyProgram, projectDir } from "./programCopy";
import { ensureToolchain, pulumiEnvironment } from "./toolchain/tools";

function log(line: string): void {
    process.stderr.write(`diff:engine: ${line}\n`);
}

function git(args: string[]): void {
    const result = spawnSync("git", args, { cwd: projectDir, encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
    }
}

interface Run {
    readonly status: number;
    readonly output: string;
}

function pulumiIn(dir: string, env: NodeJS.ProcessEnv) {
    const run = (args: readonly string[], input?: string): Run => {
        const result = spawnSync("pulumi", [...args, "--non-interactive"], {
            cwd: dir,
            env,
            input,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
    };
    const ok: PulumiRunner = (args, input) => {
        const result = run(args, input);
        if (result.status !== 0) {
            throw new Error(`pulumi ${args.join(" ")} exited ${result.status}:\n${result.output.slice(-4000)}`);
        }
    };
    return { run, ok };
}

/** The stack file of `dir` with the encryption salt of `from`'s, so both read the same secrets. */
function withSaltOf(from: string, dir: string, stack: string): void {
    const file = `Pulumi.${stack}.yaml`;
    const salt = /^encryptionsalt: .*$/m.exec(fs.readFileSync(path.join(from, file), "utf8"))?.[0];
    const target = path.join(dir, file);
    const text = fs.readFileSync(target, "utf8").replace(/^encryptionsalt: .*\n/m, "");
    fs.writeFileSync(target, salt ? `${salt}\n${text}` : text);
}

async function previewAgainstBase(stack: string, base: string, work: string, cluster: ClusterInfo): Promise<Run> {
    const home = path.join(work, stack, "home");
    const state = path.join(home, "state");
    fs.mkdirSync(state, { recursive: true });
    const env = {
        ...process.env,
        ...pulumiEnvironment(),
        KUBECONFIG: cluster.kubeconfig,
        PULUMI_HOME: path.join(home, ".pulumi"),
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE: "local-preview",
    };
    const baseCopy = path.join(work, stack, "base");
    copyProgram(baseCopy, { [stack]: path.join(base, `Pulumi.${stack}.yaml`) }, base);
    const basePulumi = pulumiIn(baseCopy, env);
    await prepareLocalStack(stack, baseCopy, cluster, basePulumi.ok);
    log(`${stack}: pulumi up of the base`);
    basePulumi.ok(["up", "--yes", "--skip-preview"]);
    const headCopy = path.join(work, stack, "head");
    copyProgram(headCopy, { [stack]: path.join(projectDir, `Pulumi.${stack}.yaml`) });
    withSaltOf(baseCopy, headCopy, stack);
    const headPulumi = pulumiIn(headCopy, env);
    await prepareLocalStack(stack, headCopy, cluster, headPulumi.ok);
    log(`${stack}: pulumi preview --diff of the head`);
    return headPulumi.run(["preview", "--diff"]);
}

function section(stack: string, preview: Run): string {
    const verdict = preview.status === 0 ? "" : `\n**The preview failed (exit ${preview.status}).**\n`;
    return `### ${stack}\n${verdict}\n\`\`\`\n${preview.output.trim()}\n\`\`\`\n`;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: { base: { type: "string" }, stack: { type: "string", multiple: true }, out: { type: "string" } },
    });
    if (!values.base) {
        throw new Error(
            "usage: npm run diff:engine -- --base <ref> [--stack test --stack prod] [--out engine-diff.md]",
        );
    }
    ensureToolchain(log);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "diff-engine-"));
    process.env.MM_CLUSTER_DIR = path.join(work, "cluster");
    const base = path.join(work, "base-worktree");
    git(["worktree", "add", "--detach", base, values.base]);
    const parts = [`## The real engine: \`pulumi preview --diff\` against the base deployed to a local cluster\n`];
    try {
        const cluster = await clusterUp();
        for (const stack of values.stack ?? ["test", "prod"]) {
            parts.push(section(stack, await previewAgainstBase(stack, base, work, cluster)));
        }
    } finally {
        await clusterDown();
        git(["worktree", "remove", "--force", base]);
        fs.rmSync(work, { recursive: true, force: true });
    }
    const text = parts.join("\n");
    if (values.out) {
        fs.writeFileSync(values.out, text);
    } else {
        process.stdout.write(text);
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
