/**
 * A rendered Job's or CronJob's Node program, run here as its pod runs it: the container's command, its
 * env and envFrom (secret values from the test, by the Secret's key), its ConfigMap volumes written out
 * at their mount paths. Two things differ from the pod, and the caller names them: the Node binary is the
 * one on PATH (in CI, Node 22 from .ci/install-node, the release of the pod's image; no container runtime here), and URLs of
 * in-cluster Services, which the caller rewrites to loopback.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { containerEnvironment, type Container } from "./keycloakServer";
import type { Rendered } from "./render";

type Manifest = Record<string, any>;

export interface RenderedProgram {
    readonly container: Container;
    /** The command with mount paths pointing into `dir`. */
    readonly argv: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    readonly dir: string;
}

function named(rendered: Rendered, kind: string, prefix: string): Manifest {
    const found = rendered.manifests.find(
        (manifest: Manifest) => manifest.kind === kind && String(manifest.metadata?.name).startsWith(prefix),
    );
    if (!found) {
        throw new Error(`the render has no ${kind} named ${prefix}*`);
    }
    return found;
}

function podSpec(workload: Manifest): Manifest {
    return workload.kind === "CronJob" ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
}

/** envFrom secretRefs: every key of each Secret, its value from the test. */
function environmentFrom(rendered: Rendered, container: Container, secrets: Readonly<Record<string, string>>) {
    const env: Record<string, string> = {};
    for (const source of (container.envFrom ?? []) as { secretRef?: { name: string } }[]) {
        if (!source.secretRef) {
            throw new Error(`container ${container.name}: only envFrom secretRef is supported`);
        }
        const secretName = source.secretRef.name;
        const secret: Manifest | undefined = rendered.manifests.find(
            (manifest: Manifest) => manifest.kind === "Secret" && manifest.metadata?.name === secretName,
        );
        for (const key of Object.keys({ ...secret?.stringData, ...secret?.data })) {
            const value = secrets[key];
            if (value === undefined) {
                throw new Error(`envFrom Secret ${source.secretRef.name} has key ${key}, and the test gave no value`);
            }
            env[key] = value;
        }
    }
    return env;
}

/**
 * The program of the rendered `kind` whose name starts with `prefix`, ready to run; `rewrites` replaces
 * env values that name in-cluster addresses.
 */
export function renderedProgram(
    rendered: Rendered,
    kind: "Job" | "CronJob",
    prefix: string,
    secrets: Readonly<Record<string, string>>,
    rewrites: Readonly<Record<string, string>> = {},
): RenderedProgram {
    const spec = podSpec(named(rendered, kind, prefix));
    const container = spec.containers[0] as Container;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    const mounts: [string, string][] = [];
    for (const mount of container.volumeMounts ?? []) {
        const volume = (spec.volumes as Manifest[]).find((candidate) => candidate.name === mount.name);
        const configMap = volume?.configMap
            ? (named(rendered, "ConfigMap", volume.configMap.name as string).data as Record<string, string>)
            : {};
        const local = path.join(dir, mount.mountPath);
        fs.mkdirSync(local, { recursive: true });
        for (const [file, content] of Object.entries(configMap)) {
            fs.writeFileSync(path.join(local, file), content);
        }
        mounts.push([mount.mountPath, local]);
    }
    const local = (value: string) =>
        mounts.reduce(
            (text, [podPath, here]) => (text.startsWith(`${podPath}/`) ? here + text.slice(podPath.length) : text),
            value,
        );
    const [program, ...args] = container.command ?? [];
    if (program !== "node") {
        throw new Error(`container ${container.name} runs ${program}, not node`);
    }
    const env = {
        ...containerEnvironment({ ...container, envFrom: [] }, secrets),
        ...environmentFrom(rendered, container, secrets),
    };
    for (const [name, value] of Object.entries(rewrites)) {
        if (!(name in env)) {
            throw new Error(`container ${container.name} has no env ${name} to rewrite`);
        }
        env[name] = value;
    }
    const mapped = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, local(value)]));
    return { container, argv: args.map(local), env: mapped, dir };
}

export interface ProgramRun {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    /** The JSON lines it printed. */
    readonly lines: Record<string, any>[];
}

/** Runs it to the end (or `timeoutMs`), with its environment only. */
export function runProgram(
    program: RenderedProgram,
    overrides: Readonly<Record<string, string>> = {},
    timeoutMs = 300000,
): Promise<ProgramRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, program.argv, {
            env: { PATH: process.env.PATH ?? "", ...program.env, ...overrides },
            stdio: ["ignore", "pipe", "pipe"],
            timeout: timeoutMs,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            const lines = stdout
                .split("\n")
                .filter((line) => line.startsWith("{"))
                .map((line) => JSON.parse(line) as Record<string, any>);
            resolve({ code, stdout, stderr, lines });
        });
    });
}
