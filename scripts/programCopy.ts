/**
 * A copy of the program to run `pulumi` in, for the demo and the engine tests: `pulumi stack init`
 * writes an encryptionsalt into the stack file and `pulumi config set` edits it, which must not happen
 * to the checkout's own files.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const projectDir = path.resolve(__dirname, "..");

/**
 * What the program is made of: what `pulumi up` reads, the scripts run beside it and the toolchain's
 * wrapper modules (which its cache keys hash). Not the tests, docs or renders.
 */
const programEntries = [
    "Pulumi.yaml",
    "index.ts",
    "package.json",
    "tsconfig.json",
    "components",
    "config",
    "scripts",
    "examples",
    "tests/toolchain",
];

/**
 * Lays the program of `from` (this checkout, or another one such as a base commit's worktree) into `dir`
 * afresh; stack files there are kept, unless `stackFiles` names them. This checkout's node_modules
 * serve every copy.
 */
export function copyProgram(dir: string, stackFiles: Readonly<Record<string, string>> = {}, from = projectDir): void {
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of programEntries) {
        fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
        if (fs.existsSync(path.join(from, entry))) {
            fs.cpSync(path.join(from, entry), path.join(dir, entry), { recursive: true });
        }
    }
    const modules = path.join(dir, "node_modules");
    if (!fs.existsSync(modules)) {
        fs.symlinkSync(path.join(projectDir, "node_modules"), modules);
    }
    for (const [stack, source] of Object.entries(stackFiles)) {
        fs.copyFileSync(source, path.join(dir, `Pulumi.${stack}.yaml`));
    }
}
