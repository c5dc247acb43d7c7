/**
 * An SMTP server on loopback that takes mail only over STARTTLS, with its certificate, from one login
 * and password: Debian's aiosmtpd (python3-aiosmtpd) run by tests/fixtures/smtp/server.py with Debian's
 * own Python, the password on its stdin. Its reports (each AUTH attempt, each message) are kept; messages are read from their files.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Issued } from "./certificates";
import { projectDir } from "./render";
import { freePort, stopProcess, waitFor } from "./nginxHarness";

const debianPython = "/usr/bin/python3";
const serverScript = path.join(projectDir, "tests", "fixtures", "smtp", "server.py");

export interface SmtpEvent {
    readonly event: "ready" | "auth" | "mail";
    readonly login?: string;
    readonly mechanism?: string;
    readonly accepted?: boolean;
    readonly to?: string[];
    readonly file?: string;
}

export interface SmtpServer {
    readonly port: number;
    readonly events: readonly SmtpEvent[];
    /** The text of each message received, in order. */
    messages(): string[];
    stop(): Promise<void>;
}

function installAiosmtpd(): void {
    if (spawnSync(debianPython, ["-c", "import aiosmtpd"]).status === 0) {
        return;
    }
    const install = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "python3-aiosmtpd"], {
        encoding: "utf8",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (install.status !== 0) {
        throw new Error(`apt-get install python3-aiosmtpd failed: ${install.stdout}${install.stderr}`);
    }
}

export async function startSmtpServer(login: string, password: string, certificate: Issued): Promise<SmtpServer> {
    installAiosmtpd();
    const port = await freePort();
    const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), "smtp-mail-"));
    const child = spawn(
        debianPython,
        [serverScript, String(port), login, mailDir, certificate.certificatePath, certificate.keyPath],
        {
            stdio: ["pipe", "pipe", "pipe"],
        },
    );
    child.stdin.write(`${password}\n`);
    const events: SmtpEvent[] = [];
    let pending = "";
    let errors = "";
    child.stdout.on("data", (chunk: Buffer) => {
        pending += chunk.toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        events.push(...lines.filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as SmtpEvent));
    });
    child.stderr.on("data", (chunk: Buffer) => {
        errors += chunk.toString("utf8");
    });
    const stop = async () => {
        child.stdin.end();
        const exited = new Promise((resolve) => child.once("exit", resolve));
        const late = setTimeout(() => void stopProcess(child), 5000);
        if (child.exitCode === null && child.signalCode === null) {
            await exited;
        }
        clearTimeout(late);
        fs.rmSync(mailDir, { recursive: true, force: true });
    };
    try {
        await waitFor(
            () => Promise.resolve(child.exitCode === null && events.some((event) => event.event === "ready")),
            15000,
            "the SMTP server",
        );
    } catch (error) {
        await stop();
        throw new Error(`${error instanceof Error ? error.message : String(error)}; its errors: ${errors}`);
    }
    return {
        port,
        events,
        messages: () =>
            events
                .filter((event) => event.event === "mail" && event.file)
                .map((event) => fs.readFileSync(event.file!, "utf8")),
        stop,
    };
}
