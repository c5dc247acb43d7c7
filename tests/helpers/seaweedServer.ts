/**
 * The real SeaweedFS (`weed`, built from its Go module by `npm run -s toolchain -- build`), started as the
 * rendered S3 store Deployment starts it: its command and every argument as rendered, in a network
 * namespace of its own as a pod has (so its ports are its own, and what it listens on can be seen), with
 * the rendered identities file. Rewritten, as it cannot be the same outside a pod: paths in its mounts
 * (data, identities, TLS) to a directory of this server; the TLS certificate and key, which the tls
 * provider issues in the cluster, are the test's (see `startSeaweed`).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { seaweedfsBinary } from "../../scripts/toolchain/peers";
import { findDeployment, type Container } from "./keycloakServer";
import { connects, hostNamespace, listeningSockets, removeNamespaces } from "./netns";
import type { Rendered } from "./render";
import type { SecretFiller } from "./mattermostServer";

type Manifest = Record<string, any>;

/** The store's namespace: the root namespace reaches it at `address` over a veth of its own. */
export const storeHostAddress = "10.94.0.1";
export const storeAddress = "10.94.0.10";

export interface StartSeaweedOptions {
    readonly rendered: Rendered;
    readonly secrets: SecretFiller;
    /** The server certificate and key the pod would get from its TLS Secret (PEM). */
    readonly certificate: string;
    readonly key: string;
}

export interface SeaweedServer {
    readonly namespace: string;
    /** `address:port` of the S3 gateway, the rendered containerPort named s3. */
    readonly endpoint: string;
    readonly args: readonly string[];
    /** What listens in the store's namespace, on which address. */
    listeners(): { address: string; port: number }[];
    log(): string;
    stop(): Promise<void>;
}

function storeContainer(deployment: Manifest): Container {
    const container = (deployment.spec.template.spec.containers as Container[])[0];
    if (!container?.command?.length || container.command[0] !== "weed") {
        throw new Error("the rendered S3 store's container does not run weed");
    }
    return container;
}

/** The files of the pod's Secret volumes, filled in, by their path in the pod. */
function secretFiles(rendered: Rendered, deployment: Manifest, container: Container, secrets: SecretFiller) {
    const files: Record<string, string> = {};
    for (const mount of container.volumeMounts ?? []) {
        const volume = (deployment.spec.template.spec.volumes as Manifest[]).find((v) => v.name === mount.name);
        const secretName = volume?.secret?.secretName as string | undefined;
        if (!secretName) {
            continue;
        }
        const secret = rendered.manifests.find((m: Manifest) => m.kind === "Secret" && m.metadata?.name === secretName);
        for (const [key, value] of Object.entries((secret?.stringData ?? {}) as Record<string, string>)) {
            files[path.join(mount.mountPath, key)] = secrets.fill(value);
        }
    }
    return files;
}

export async function startSeaweed(options: StartSeaweedOptions): Promise<SeaweedServer> {
    const deployment = findDeployment(options.rendered.manifests, "mattermost-s3");
    const container = storeContainer(deployment);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seaweedfs-"));
    const local = (inPod: string) => path.join(dir, "mounts", inPod);
    const mountPaths = (container.volumeMounts ?? []).map((mount) => mount.mountPath);
    for (const mountPath of mountPaths) {
        fs.mkdirSync(local(mountPath), { recursive: true });
    }
    const files = secretFiles(options.rendered, deployment, container, options.secrets);
    for (const [inPod, content] of Object.entries(files)) {
        // The TLS Secret's values are the tls provider's (placeholders in a render): the test's stand in.
        const text = inPod.endsWith("tls.crt")
            ? options.certificate
            : inPod.endsWith("tls.key")
              ? options.key
              : content;
        fs.writeFileSync(local(inPod), text, { mode: 0o600 });
    }
    const inMount = (value: string) =>
        mountPaths.some((mountPath) => value === mountPath || value.startsWith(`${mountPath}/`)) ? local(value) : value;
    const args = (container.args ?? []).map((arg) => {
        const match = /^(-[^=]+=)(\/.*)$/.exec(arg);
        return match ? `${match[1]}${inMount(match[2])}` : arg;
    });
    const s3Port = container.ports?.find((port) => port.name === "s3")?.containerPort;
    if (!s3Port) {
        throw new Error("the S3 store's container has no port named s3");
    }

    const podTmp = local("/tmp");
    fs.mkdirSync(podTmp, { recursive: true });
    const namespace = hostNamespace("mms3", storeHostAddress, storeAddress);
    const logPath = path.join(dir, "weed.log");
    const logFd = fs.openSync(logPath, "a");
    const child = spawn("ip", ["netns", "exec", namespace, seaweedfsBinary(), ...args], {
        cwd: dir,
        // The pod's /tmp is an emptyDir of its own (weed keeps its gRPC sockets there).
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TMPDIR: podTmp },
        stdio: ["ignore", logFd, logFd],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const killer = setTimeout(() => child.kill("SIGKILL"), 15000);
            await exited;
            clearTimeout(killer);
        }
        removeNamespaces([namespace]);
        fs.closeSync(logFd);
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        const deadline = Date.now() + 60000;
        while (!(await connects(storeAddress, s3Port))) {
            if (child.exitCode !== null || Date.now() > deadline) {
                throw new Error(
                    `weed did not listen on ${storeAddress}:${s3Port}:\n${fs.readFileSync(logPath, "utf8")}`,
                );
            }
            await new Promise((resolve) => setTimeout(resolve, 300));
        }
    } catch (error) {
        await stop();
        throw error;
    }
    return {
        namespace,
        endpoint: `${storeAddress}:${s3Port}`,
        args: [container.command![0], ...args],
        listeners: () => listeningSockets(namespace),
        log: () => fs.readFileSync(logPath, "utf8"),
        stop,
    };
}

/** Every file path under a directory of the store's filer, which listens on the store's loopback only. */
export function filerFiles(namespace: string, dir: string): string[] {
    const listing = spawnSync(
        "ip",
        [
            "netns",
            "exec",
            namespace,
            "curl",
            "-sf",
            "-H",
            "Accept: application/json",
            `http://127.0.0.1:8888${dir}?limit=1000`,
        ],
        { encoding: "utf8" },
    );
    if (listing.status !== 0) {
        throw new Error(`listing ${dir} on the filer failed: ${listing.stderr}`);
    }
    const entries = (JSON.parse(listing.stdout) as { Entries?: { FullPath: string; Mode: number }[] }).Entries ?? [];
    // A directory's mode has the os.ModeDir bit (1 << 31).
    return entries.flatMap((entry) =>
        entry.Mode >= 2 ** 31 ? filerFiles(namespace, `${entry.FullPath}/`) : [entry.FullPath],
    );
}
