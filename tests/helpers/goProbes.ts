import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectDir } from "./render";

/**
 * Builds one of the Go probes in tests/go with Debian's Go and Go libraries (GOPATH mode: these
 * machines reach no Go module proxy), and returns the binary's path.
 */
export function buildGoProbe(name: "dbping" | "tlsprobe" | "fakepushproxy"): string {
    const output = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "go-probe-")), name);
    const build = spawnSync("go", ["build", "-o", output, `./tests/go/${name}`], {
        cwd: projectDir,
        encoding: "utf8",
        env: { ...process.env, GO111MODULE: "off", GOPATH: "/usr/share/gocode", GOFLAGS: "" },
    });
    if (build.status !== 0) {
        throw new Error(
            `go build ${name} failed (apt-get install golang-go golang-github-lib-pq-dev): ${build.stderr}`,
        );
    }
    return output;
}

export interface ProbeResult {
    readonly status: number | null;
    readonly output: string;
}

/** Runs a probe without blocking this process, so servers in the test process can answer it. */
export function runProbe(
    binary: string,
    args: string[],
    env: Record<string, string | undefined>,
): Promise<ProbeResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(binary, args, { env, timeout: 20000 });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, output: output.trim() }));
    });
}
