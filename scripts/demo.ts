/**
 * `npm run demo`: the main job for real, in one command. Builds (or reuses) the toolchain, starts the
 * local cluster (npm run cluster), runs `pulumi up` of the test stack against it, then prints the stack
 * outputs and how to look around. `npm run demo -- down` destroys the stack, stops the cluster and
 * removes the demo's directory.
 *
 * Everything lives in `$MM_DEMO_DIR`, by default `~/.cache/mattermost-platform/demo`: a copy of the program
 * (so that `pulumi config set` edits its stack file, not the checkout's), the state (a local backend of
 * its own, never the user's ~/.pulumi), a generated passphrase, and an `env` file to source.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { down as clusterDown, up as clusterUp } from "./cluster";
import { copyProgram, projectDir } from "./programCopy";
import { ensureToolchain, pulumiEnvironment } from "./toolchain/tools";

const stack = "test";

function demoDir(): string {
    return process.env.MM_DEMO_DIR ?? path.join(os.homedir(), ".cache", "mattermost-platform", "demo");
}

function log(line: string): void {
    process.stderr.write(`demo: ${line}\n`);
}

function demoEnvironment(dir: string, kubeconfig: string): Record<string, string> {
    const passphraseFile = path.join(dir, "passphrase");
    if (!fs.existsSync(passphraseFile)) {
        fs.writeFileSync(passphraseFile, crypto.randomBytes(24).toString("base64url"), { mode: 0o600 });
    }
    const state = path.join(dir, "state");
    fs.mkdirSync(state, { recursive: true });
    return {
        ...pulumiEnvironment(),
        KUBECONFIG: kubeconfig,
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
        PULUMI_HOME: path.join(dir, "pulumi-home"),
    };
}

function pulumi(args: readonly string[], cwd: string, env: Record<string, string>): void {
    const result = spawnSync("pulumi", args, { cwd, env: { ...process.env, ...env }, stdio: "inherit" });
    if (result.status !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited ${result.status ?? result.signal}`);
    }
}

function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function up(): Promise<void> {
    const dir = demoDir();
    ensureToolchain(log);
    const cluster = await clusterUp();
    const project = path.join(dir, "project");
    const firstRun = !fs.existsSync(path.join(project, `Pulumi.${stack}.yaml`));
    copyProgram(project, firstRun ? { [stack]: path.join(projectDir, `Pulumi.${stack}.yaml`) } : {});
    const env = demoEnvironment(dir, cluster.kubeconfig);
    pulumi(["stack", "select", "--create", stack], project, env);
    pulumi(["config", "set", "kubeContext", cluster.context], project, env);
    // No push VM on this machine: the test stack without push notifications.
    pulumi(["config", "set", "pushHost", ""], project, env);
    pulumi(["up", "--yes", "--skip-preview"], project, env);
    pulumi(["stack", "output"], project, env);
    const envFile = path.join(dir, "env");
    fs.writeFileSync(
        envFile,
        Object.entries(env)
            .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
            .join(""),
    );
    console.log(`
The test stack runs in the local cluster (pods simulated by kwok: scheduled and reported running, no
container runs). To look around:

    source ${envFile}
    kubectl get deployments,pods,services -n mattermost-test
    cd ${project} && pulumi stack && pulumi stack output --show-secrets

npm run demo -- down takes it all away.`);
}

async function down(): Promise<void> {
    const dir = demoDir();
    const project = path.join(dir, "project");
    if (fs.existsSync(path.join(dir, "state"))) {
        const cluster = await clusterUp();
        pulumi(["destroy", "--yes", "--stack", stack], project, demoEnvironment(dir, cluster.kubeconfig));
    }
    await clusterDown();
    fs.rmSync(dir, { recursive: true, force: true });
    log(`removed ${dir}`);
}

const command = process.argv[2];
if (command !== undefined && command !== "down") {
    console.error("usage: npm run demo [-- down]");
    process.exit(2);
}
(command === "down" ? down() : up()).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
