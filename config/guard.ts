/**
 * The failover guard's program and arguments as the nginx pods get them (DESIGN decision 4). The
 * source is scripts/failoverGuard.ts; the pods run it as JavaScript from a ConfigMap in a pinned Node
 * image, so this transpiles it (TypeScript's own compiler, which runs the Pulumi program anyway).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

export const guardSource = path.join(__dirname, "..", "scripts", "failoverGuard.ts");
export const guardScriptName = "failover-guard.js";

/** The guard as one CommonJS file for Node 20, byte-identical for the same source. */
export function renderGuardScript(): string {
    const output = ts.transpileModule(fs.readFileSync(guardSource, "utf8"), {
        compilerOptions: {
            target: ts.ScriptTarget.ES2022,
            module: ts.ModuleKind.CommonJS,
            esModuleInterop: true,
            removeComments: false,
        },
        fileName: "failoverGuard.ts",
    });
    return `// Transpiled from scripts/failoverGuard.ts by the mattermost Pulumi program (config/guard.ts).\n${output.outputText}`;
}

/** Where the guard writes the servers of nginx's upstream, under nginx's runtime directory. */
export function guardUpstreamFile(runtimeDir: string): string {
    return `${runtimeDir.replace(/\/+$/, "")}/guard/upstream.conf`;
}

export interface GuardArgsInput {
    /** host:port of the primary and backup Services. */
    readonly primary: string;
    readonly backup: string;
    readonly runtimeDir: string;
}

/** The guard's arguments; with `init`, those of the init container that writes the first upstream file. */
export function guardArgs(input: GuardArgsInput, init = false): string[] {
    const run = input.runtimeDir.replace(/\/+$/, "");
    return [
        "--primary",
        input.primary,
        "--backup",
        input.backup,
        "--upstream-file",
        guardUpstreamFile(run),
        "--nginx-pid-file",
        `${run}/nginx.pid`,
        ...(init ? ["--init"] : []),
    ];
}
