/**
 * `npm run diff -- --base <ref> [--stack test --stack prod] [--out diff.md]`: the offline render of each
 * stack at a base commit and in the working tree, and the unified diff of `out/<stack>/` between them
 * (manifests, files, resources, outputs), so a reviewer sees the exact change to nginx.conf, the realm or
 * a Deployment without any cluster or credentials. The pull-request workflow runs it; so can anyone.
 * The base is checked out into a temporary git worktree and rendered with its own code; this checkout's
 * node_modules serve both. Exit code 0 either way; the diff is the output.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

const projectDir = path.resolve(__dirname, "..");

function run(command: string, args: string[], cwd: string): string {
    const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${result.stderr}`);
    }
    return result.stdout;
}

function render(checkout: string, stack: string, outDir: string): void {
    run(
        path.join(projectDir, "node_modules", ".bin", "tsx"),
        ["scripts/render.ts", "--stack", stack, "--out", outDir],
        checkout,
    );
}

/** The unified diff of two render directories, paths shown relative to out/<stack>/. */
export function diffRenders(baseDir: string, headDir: string, stack: string): string {
    const result = spawnSync(
        "git",
        [
            "diff",
            "--no-index",
            "--no-color",
            `--src-prefix=base/${stack}/`,
            `--dst-prefix=head/${stack}/`,
            baseDir,
            headDir,
        ],
        { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    if (result.status !== 0 && result.status !== 1) {
        throw new Error(`git diff failed: ${result.stderr}`);
    }
    // git names the files by their temporary paths (without the leading /) after the prefixes; show them
    // from out/<stack>/ instead.
    const relative = (dir: string) => `${dir.replace(/^\/+/, "")}/`;
    return result.stdout.split(relative(baseDir)).join("").split(relative(headDir)).join("");
}

function main(): void {
    const { values } = parseArgs({
        options: {
            base: { type: "string" },
            stack: { type: "string", multiple: true },
            out: { type: "string" },
        },
    });
    if (!values.base) {
        throw new Error("Name the base to compare with: npm run diff -- --base origin/main");
    }
    const stacks = values.stack ?? ["test", "prod"];
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-"));
    const worktree = path.join(scratch, "base");
    run("git", ["worktree", "add", "--detach", worktree, values.base], projectDir);
    try {
        if (!fs.existsSync(path.join(worktree, "node_modules"))) {
            fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(worktree, "node_modules"));
        }
        const sections: string[] = [];
        for (const stack of stacks) {
            const baseOut = path.join(scratch, "out-base", stack);
            const headOut = path.join(scratch, "out-head", stack);
            render(worktree, stack, baseOut);
            render(projectDir, stack, headOut);
            const diff = diffRenders(baseOut, headOut, stack);
            sections.push(
                diff
                    ? `### Stack ${stack}\n\n\`\`\`diff\n${diff}\`\`\`\n`
                    : `### Stack ${stack}\n\nNo change in the offline render.\n`,
            );
        }
        const report = `## Offline render: ${values.base} against this change\n\n${sections.join("\n")}`;
        if (values.out) {
            fs.writeFileSync(values.out, report);
        }
        process.stdout.write(report);
    } finally {
        run("git", ["worktree", "remove", "--force", worktree], projectDir);
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

if (require.main === module) {
    try {
        main();
    } catch (error) {
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
    }
}
