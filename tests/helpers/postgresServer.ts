/**
 * A throw-away PostgreSQL server (Debian's) on loopback, owned by the postgres user when the tests run
 * as root, since PostgreSQL refuses to run as root.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, stopProcess, waitFor } from "./nginxHarness";

function findPostgresBin(program: string): string | undefined {
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    return versions.map((version) => path.join(root, version, "bin", program)).find((file) => fs.existsSync(file));
}

/**
 * Debian's postgresql, installed when missing and the tests run as root. Its package would start a
 * cluster of its own through invoke-rc.d; a policy-rc.d that refuses (exit 101) is in place for the
 * install when the machine has none, and removed after.
 */
function installPostgres(): void {
    const policy = "/usr/sbin/policy-rc.d";
    const placed = !fs.existsSync(policy);
    if (placed) {
        fs.writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    }
    try {
        const install = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "postgresql"], {
            encoding: "utf8",
            env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        });
        if (install.status !== 0) {
            throw new Error(`apt-get install postgresql failed: ${install.stdout}${install.stderr}`);
        }
    } finally {
        if (placed) {
            fs.rmSync(policy, { force: true });
        }
    }
}

function postgresBin(program: string): string {
    let found = findPostgresBin(program);
    if (!found && process.getuid?.() === 0) {
        installPostgres();
        found = findPostgresBin(program);
    }
    if (!found) {
        throw new Error(`PostgreSQL's ${program} is not installed: apt-get install postgresql (.ci/run does this)`);
    }
    return found;
}

const asRoot = process.getuid?.() === 0;

function asPostgres(command: string, args: string[]): [string, string[]] {
    return asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

export interface PostgresServer {
    readonly port: number;
    /** Runs SQL as the superuser over the local socket, in `database` (default `postgres`). */
    sql(statement: string, database?: string): string;
    stop(): Promise<void>;
}

/** With `tls`, the server also speaks TLS with that certificate and key. */
export async function startPostgres(tls?: { certificatePath: string; keyPath: string }): Promise<PostgresServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-"));
    const owner = asRoot
        ? {
              uid: Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim()),
              gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim()),
          }
        : undefined;
    if (owner) {
        fs.chownSync(dir, owner.uid, owner.gid);
    }
    const tlsSettings: string[] = [];
    if (tls) {
        // PostgreSQL insists that its key is the server user's and no one else's.
        for (const [source, target] of [
            [tls.certificatePath, "server.crt"],
            [tls.keyPath, "server.key"],
        ] as const) {
            fs.copyFileSync(source, path.join(dir, target));
            fs.chmodSync(path.join(dir, target), 0o600);
            if (owner) {
                fs.chownSync(path.join(dir, target), owner.uid, owner.gid);
            }
        }
        tlsSettings.push(
            "-c",
            "ssl=on",
            "-c",
            `ssl_cert_file=${dir}/server.crt`,
            "-c",
            `ssl_key_file=${dir}/server.key`,
        );
    }
    const data = path.join(dir, "data");
    const [initdb, initArgs] = asPostgres(postgresBin("initdb"), [
        "-D",
        data,
        "-U",
        "postgres",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
    ]);
    const init = spawnSync(initdb, initArgs, { encoding: "utf8" });
    if (init.status !== 0) {
        throw new Error(`initdb failed: ${init.stderr}`);
    }
    const port = await freePort();
    const [postgres, serverArgs] = asPostgres(postgresBin("postgres"), [
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "listen_addresses=127.0.0.1",
        ...tlsSettings,
    ]);
    const server: ChildProcess = spawn(postgres, serverArgs, { stdio: "ignore" });
    const psql = (statement: string, database = "postgres") =>
        spawnSync(
            "psql",
            [
                "-h",
                dir,
                "-p",
                String(port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                statement,
            ],
            {
                encoding: "utf8",
            },
        );
    await waitFor(() => Promise.resolve(psql("SELECT 1").status === 0), 20000, "PostgreSQL to accept connections");
    return {
        port,
        sql(statement, database) {
            const run = psql(statement, database);
            if (run.status !== 0) {
                throw new Error(`SQL failed: ${run.stderr}`);
            }
            return run.stdout.trim();
        },
        async stop() {
            const exited = stopProcess(server, "SIGINT");
            const [pgCtl, stopArgs] = asPostgres(postgresBin("pg_ctl"), ["stop", "-D", data, "-m", "fast"]);
            spawnSync(pgCtl, stopArgs, { encoding: "utf8" });
            await exited;
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** A SQL string literal. */
export function sqlLiteral(text: string): string {
    return `'${text.replace(/'/g, "''")}'`;
}
