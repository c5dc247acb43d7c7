/**
 * The real Pulumi CLI, run on a copy of the program as a user runs it: the local file backend, the
 * passphrase secrets provider, the toolchain's PATH (scripts/toolchain/tools.ts) and nothing else. Each
 * workspace has a home, a state directory and a project copy of its own, so tests never share state and
 * never write into the clone (`pulumi stack init` adds an encryptionsalt to the stack file).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pulumiEnvironment } from "../../../scripts/toolchain/tools";

export const projectDir = path.resolve(__dirname, "..", "..", "..");

/** What the program is made of: what `pulumi up` reads (the tests, docs and renders are not). */
const programEntries = ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config", "scripts"];

export const passphrase = "engine-test-passphrase";

export interface CliResult {
    readonly status: number;
    readonly stdout: string;
    readonly stderr: string;
    /** stdout and stderr, as a user sees them on a terminal. */
    readonly output: string;
}

export interface Workspace {
    /** The project copy, the working directory of every command. */
    readonly dir: string;
    readonly env: NodeJS.ProcessEnv;
    pulumi(args: readonly string[], options?: { input?: string; timeoutMs?: number }): CliResult;
    /** Like pulumi(), but throws with the whole output unless the command exited 0. */
    pulumiOk(args: readonly string[], options?: { input?: string; timeoutMs?: number }): CliResult;
    /** Runs a bash script in the project copy, with the same environment (the README's commands). */
    bash(script: string, timeoutMs?: number): CliResult;
    readonly cleanup: () => void;
}

/**
 * @param stackFiles the stack files to copy beside Pulumi.yaml, by stack name (default: the repository's
 *   `Pulumi.<stack>.yaml` for each name given)
 */
export function workspace(options: {
    stacks: readonly string[];
    extraEnv?: NodeJS.ProcessEnv;
    stackFiles?: Readonly<Record<string, string>>;
}): Workspace {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "engine-"));
    const dir = path.join(root, "project");
    fs.mkdirSync(dir);
    for (const entry of programEntries) {
        fs.cpSync(path.join(projectDir, entry), path.join(dir, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    for (const stack of options.stacks) {
        const source = options.stackFiles?.[stack] ?? path.join(projectDir, `Pulumi.${stack}.yaml`);
        fs.copyFileSync(source, path.join(dir, `Pulumi.${stack}.yaml`));
    }
    const state = path.join(root, "state");
    fs.mkdirSync(state);
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...pulumiEnvironment(),
        PULUMI_HOME: path.join(root, "home"),
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        // No terminal here: plain output, as in a CI log.
        PULUMI_SKIP_CONFIRMATIONS: "true",
        NO_COLOR: "1",
        ...options.extraEnv,
    };
    const run = (command: string, args: readonly string[], input?: string, timeoutMs = 600_000): CliResult => {
        const result = spawnSync(command, args, { cwd: dir, env, input, encoding: "utf8", timeout: timeoutMs });
        if (result.error) {
            throw result.error;
        }
        return {
            status: result.status ?? -1,
            stdout: result.stdout,
            stderr: result.stderr,
            output: `${result.stdout}${result.stderr}`,
        };
    };
    const pulumi = (args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}) =>
        run("pulumi", [...args, "--non-interactive"], opts.input, opts.timeoutMs);
    return {
        dir,
        env,
        pulumi,
        pulumiOk: (args, opts) => {
            const result = pulumi(args, opts);
            if (result.status !== 0) {
                throw new Error(`pulumi ${args.join(" ")} exited ${result.status}:\n${result.output}`);
            }
            return result;
        },
        bash: (script, timeoutMs) => run("bash", ["-euo", "pipefail", "-c", script], undefined, timeoutMs),
        cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
    };
}
