/**
 * The real Pulumi CLI, run on a copy of the program as a user runs it: the local file backend, the
 * passphrase secrets provider, the toolchain's PATH (scripts/toolchain/tools.ts) and nothing else. Each
 * workspace has a home (with the state) and a project copy of its own, so tests never share state and
 * never write into the clone (`pulumi stack init` adds an encryptionsalt to the stack file).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { copyProgram, projectDir } from "../../../scripts/programCopy";
import { cacheRoot } from "../../../scripts/toolchain/build";
import { pulumiEnvironment } from "../../../scripts/toolchain/tools";

function goEnv(name: string): string {
    return execFileSync("go", ["env", name], { encoding: "utf8" }).trim();
}

export { projectDir };

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
    /** The state backend, a directory of its own (PULUMI_BACKEND_URL). */
    readonly backendUrl: string;
    pulumi(args: readonly string[], options?: { input?: string; timeoutMs?: number }): CliResult;
    /** Like pulumi(), but throws with the whole output unless the command exited 0. */
    pulumiOk(args: readonly string[], options?: { input?: string; timeoutMs?: number }): CliResult;
    /**
     * Runs a bash script in the project copy (the README's commands), and, as if the user went on in the
     * same shell, takes what it exported into the environment of every later command.
     */
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
    copyProgram(
        dir,
        Object.fromEntries(
            options.stacks.map((stack) => [
                stack,
                options.stackFiles?.[stack] ?? path.join(projectDir, `Pulumi.${stack}.yaml`),
            ]),
        ),
    );
    const home = path.join(root, "home");
    fs.mkdirSync(home);
    const state = path.join(home, "state");
    fs.mkdirSync(state);
    const backendUrl = `file://${state}`;
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...pulumiEnvironment(),
        // A home of its own, for what the README's commands keep under ~, and Pulumi's own (credentials,
        // logs), which it finds through the account's home, not $HOME. The toolchain and Go's caches stay
        // where they are, so nothing is built again.
        HOME: home,
        PULUMI_HOME: path.join(home, ".pulumi"),
        MM_TOOLCHAIN_CACHE: cacheRoot(),
        GOCACHE: goEnv("GOCACHE"),
        GOMODCACHE: goEnv("GOMODCACHE"),
        PULUMI_BACKEND_URL: backendUrl,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        // No terminal here: plain output, as in a CI log.
        PULUMI_SKIP_CONFIRMATIONS: "true",
        NO_COLOR: "1",
        ...options.extraEnv,
    };
    const run = (command: string, args: readonly string[], input?: string, timeoutMs = 600_000): CliResult => {
        const result = spawnSync(command, args, {
            cwd: dir,
            env,
            input,
            encoding: "utf8",
            timeout: timeoutMs,
            // `pulumi stack export` of a deployed stack is several megabytes.
            maxBuffer: 256 * 1024 * 1024,
        });
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
        backendUrl,
        pulumi,
        pulumiOk: (args, opts) => {
            const result = pulumi(args, opts);
            if (result.status !== 0) {
                throw new Error(`pulumi ${args.join(" ")} exited ${result.status}:\n${result.output}`);
            }
            return result;
        },
        bash: (script, timeoutMs) => {
            const exported = path.join(root, "exported-env");
            const result = run(
                "bash",
                ["-euo", "pipefail", "-c", `${script}\nenv -0 > ${exported}`],
                undefined,
                timeoutMs,
            );
            if (fs.existsSync(exported)) {
                for (const entry of fs.readFileSync(exported, "utf8").split("\0").filter(Boolean)) {
                    const at = entry.indexOf("=");
                    env[entry.slice(0, at)] = entry.slice(at + 1);
                }
            }
            return result;
        },
        cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
    };
}
