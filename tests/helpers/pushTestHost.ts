/**
 * A push VM for tests: network namespaces joined by a bridge (the VM, a deployer, a Mattermost server
 * inside the allowed CIDR and one outside it), Debian's sshd on the VM in a mount namespace of its own
 * (tests/fixtures/push-host/host.sh), and OpenSSH clients that do what @pulumi/command does: run a
 * command string in a session with stdin (ssh), and copy files over SFTP (sftp).
 */
import { spawn, spawnSync, type SpawnOptions } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { shellQuote } from "../../config/pushProxy";
import { bridgedNamespaces, removeNamespaces } from "./netns";
import { projectDir } from "./render";

export const hostAddress = "10.91.0.1";
export const clientAddresses = { allowed: "10.91.0.10", outside: "10.91.0.20", deployer: "10.91.0.30" } as const;
export type Client = keyof typeof clientAddresses;

export interface Finished {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a program without blocking the event loop, bounded in time. */
export function run(program: string, args: string[], options: { input?: string; timeoutMs?: number } = {}) {
    return new Promise<Finished>((resolve, reject) => {
        const spawnOptions: SpawnOptions = {
            timeout: options.timeoutMs ?? 60000,
            stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        };
        const child = spawn(program, args, spawnOptions);
        let stdout = "";
        let stderr = "";
        child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr }));
        // A program may exit before reading all of its input (EPIPE); its exit status tells what happened.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(options.input);
    });
}

export class PushTestHost {
    readonly namespaces: Record<"host" | Client, string>;
    /** The deployer's private key, whose public half the VM authorizes for `deploy`. */
    readonly keyPath: string;
    private readonly knownHostsPath: string;
    private sshd?: ReturnType<typeof spawn>;
    sshdLog = "";

    /** @param dir the test's scratch directory; the VM's private /etc, /opt, /run... live under dir/root */
    constructor(private readonly dir: string) {
        const suffix = String(process.pid);
        this.namespaces = {
            host: `mmp-host-${suffix}`,
            allowed: `mmp-allowed-${suffix}`,
            outside: `mmp-outside-${suffix}`,
            deployer: `mmp-deployer-${suffix}`,
        };
        this.keyPath = path.join(dir, "deployer");
        this.knownHostsPath = path.join(dir, "known_hosts");
    }

    get root(): string {
        return path.join(this.dir, "root");
    }

    /** The VM's host key line, as pushSshHostKey holds it. */
    hostKey = "";

    async start(): Promise<void> {
        const { host } = this.namespaces;
        bridgedNamespaces(
            { namespace: host, address: hostAddress },
            Object.fromEntries(
                (Object.keys(clientAddresses) as Client[]).map((client) => [
                    client,
                    { namespace: this.namespaces[client], address: clientAddresses[client] },
                ]),
            ),
        );

        fs.mkdirSync(this.root, { recursive: true });
        const keygen = (file: string) =>
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file], { encoding: "utf8" });
        keygen(this.keyPath);
        fs.copyFileSync(`${this.keyPath}.pub`, path.join(this.root, "deployer.pub"));
        const hostKeyPath = path.join(this.root, "ssh_host_ed25519_key");
        keygen(hostKeyPath);
        this.hostKey = fs.readFileSync(`${hostKeyPath}.pub`, "utf8").trim();
        fs.writeFileSync(this.knownHostsPath, `${hostAddress} ${this.hostKey}\n`);
        fs.writeFileSync(
            path.join(this.root, "sshd_config"),
            [
                `ListenAddress ${hostAddress}`,
                "Port 22",
                `HostKey ${hostKeyPath}`,
                "AuthorizedKeysFile /etc/ssh/test-authorized-keys/%u",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                // No PAM stack is set up in the test's view of /etc; keys are all this test needs.
                "UsePAM no",
                "PidFile /run/sshd.pid",
                "Subsystem sftp internal-sftp",
                "",
            ].join("\n"),
        );

        const hostScript = path.join(projectDir, "tests", "fixtures", "push-host", "host.sh");
        // A PID namespace of its own whose PID 1 reaps nothing it did not start (init.js), as when the
        // tests run in a container whose PID 1 is node: what the stand-in systemctl must cope with.
        this.sshd = spawn(
            "ip",
            [
                "netns",
                "exec",
                host,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--pid",
                "--fork",
                "--mount-proc",
                "--kill-child",
                process.execPath,
                path.join(path.dirname(hostScript), "init.js"),
                hostScript,
                this.root,
                path.dirname(hostScript),
            ],
            { stdio: ["ignore", "pipe", "pipe"] },
        );
        this.sshd.stdout?.on("data", (chunk: Buffer) => (this.sshdLog += chunk.toString()));
        this.sshd.stderr?.on("data", (chunk: Buffer) => (this.sshdLog += chunk.toString()));
        for (let attempt = 0; attempt < 50; attempt++) {
            if ((await this.ssh("true")).status === 0) {
                return;
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new Error(`the test VM's sshd did not come up:\n${this.sshdLog}`);
    }

    private sshOptions(): string[] {
        return [
            "-F",
            "none",
            "-i",
            this.keyPath,
            "-o",
            `UserKnownHostsFile=${this.knownHostsPath}`,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
        ];
    }

    /** Runs a command string on the VM as the deployer, as remote.Command does (a session, no PTY). */
    ssh(command: string, input = "", timeoutMs = 120000): Promise<Finished> {
        return this.inNamespace(
            "deployer",
            ["ssh", ...this.sshOptions(), "-T", `deploy@${hostAddress}`, "--", command],
            input,
            timeoutMs,
        );
    }

    /** Copies local files to the VM over SFTP, as remote.CopyToRemote does. */
    async copy(files: { localPath: string; remotePath: string }[]): Promise<void> {
        const batch = path.join(this.dir, "sftp-batch");
        fs.writeFileSync(batch, files.map((file) => `put ${file.localPath} ${file.remotePath}\n`).join(""));
        const result = await this.inNamespace("deployer", [
            "sftp",
            ...this.sshOptions(),
            "-b",
            batch,
            `deploy@${hostAddress}`,
        ]);
        if (result.status !== 0) {
            throw new Error(`sftp failed: ${result.stderr}`);
        }
    }

    inNamespace(client: Client | "host", command: string[], input = "", timeoutMs = 30000): Promise<Finished> {
        return run("ip", ["netns", "exec", this.namespaces[client], ...command], { input, timeoutMs });
    }

    /** A path on the VM, as the test (outside its mount namespace) sees it. */
    hostPath(vmPath: string): string {
        const mounts: [string, string][] = [
            ["/etc/", "etc/"],
            ["/opt/", "opt/"],
            ["/var/lib/", "var-lib/"],
            ["/var/log/", "var-log/"],
            ["/run/", "run/"],
            ["/usr/local/sbin/", "usr-local-sbin/"],
        ];
        const found = mounts.find(([prefix]) => vmPath.startsWith(prefix));
        if (!found) {
            throw new Error(`${vmPath} is not in the VM's private view`);
        }
        return path.join(this.root, found[1], vmPath.slice(found[0].length));
    }

    /**
     * Puts a wrapper for `program` where provisioning finds it first (sudo's secure_path starts with
     * /usr/local/sbin): it runs the bash text `before`, then the real program. Returns what undoes it.
     */
    interpose(program: string, before: string): () => void {
        const wrapper = this.hostPath(`/usr/local/sbin/${program}`);
        // The systemctl stand-in already lives there: it moves aside and stays the real one.
        const aside = this.hostPath(`/usr/local/sbin/.interposed-${program}`);
        const movedAside = fs.existsSync(wrapper);
        if (movedAside) {
            fs.renameSync(wrapper, aside);
        }
        const real = movedAside
            ? `/usr/local/sbin/.interposed-${program}`
            : ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                  .map((directory) => path.join(directory, program))
                  .find((candidate) => fs.existsSync(candidate));
        if (!real) {
            throw new Error(`${program} is not installed on the test VM`);
        }
        const text = ["#!/usr/bin/env bash", "set -euo pipefail", before, `exec ${real} "$@"`, ""].join("\n");
        fs.writeFileSync(wrapper, text, { mode: 0o755 });
        return () => {
            fs.rmSync(wrapper);
            if (movedAside) {
                fs.renameSync(aside, wrapper);
            }
        };
    }

    /** `program` fails, as an interrupted step would, when called with exactly `args`; the rest runs. */
    failWhen(program: string, args: string): () => void {
        return this.interpose(
            program,
            `if [ "$*" = ${shellQuote(args)} ]; then echo "${program} $*: made to fail by the test" >&2; exit 1; fi`,
        );
    }

    stop(): void {
        // Everything started on the VM (sshd, nginx, the proxy) lives in its network namespace.
        removeNamespaces(Object.values(this.namespaces));
    }
}
