/**
 * The programs that run in a pinned Node image: from ConfigMaps, so no image is built, the failover
 * guard beside nginx (DESIGN decision 4), the realm-apply job (decision 5) and the deprovisioning job
 * (decision 9); and the web-client edit of the image build (config/customImage.ts). Their sources are in scripts/; this transpiles them
 * with TypeScript's own compiler, which runs the Pulumi program anyway.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { defaultHeartbeatFile } from "../scripts/failoverGuard";

export const guardScriptName = "failover-guard.js";
export const deprovisionScriptName = "deprovision.js";
export const realmApplyScriptName = "realm-apply.js";

/** A self-contained program of scripts/ as one CommonJS file for the Node image's release (22), byte-identical for the same source. */
function transpiled(sourceName: string): string {
    const source = fs.readFileSync(path.join(__dirname, "..", "scripts", sourceName), "utf8");
    const output = ts.transpileModule(source, {
        compilerOptions: {
            target: ts.ScriptTarget.ES2022,
            module: ts.ModuleKind.CommonJS,
            esModuleInterop: true,
            removeComments: false,
        },
        fileName: sourceName,
    });
    return `// Transpiled from scripts/${sourceName} by the mattermost Pulumi program (config/guard.ts).\n${output.outputText}`;
}

export function renderGuardScript(): string {
    return transpiled("failoverGuard.ts");
}

export function renderDeprovisionScript(): string {
    return transpiled("deprovision.ts");
}

export function renderRealmApplyScript(): string {
    return transpiled("realmApply.ts");
}

export function renderWebClientScript(): string {
    return transpiled("customizeWebClient.ts");
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

/** Where the guard records each round (scripts/failoverGuard.ts's default: beside the upstream file). */
export function guardHeartbeatFile(runtimeDir: string): string {
    return defaultHeartbeatFile(guardUpstreamFile(runtimeDir));
}

/**
 * A guard whose loop stopped (wedged, or unable to write its runtime directory) writes no heartbeat.
 * A round takes at most the check timeout plus the interval, 2 s as rendered; ten of them leave room for
 * a throttled CPU limit before a live guard is restarted.
 */
export const guardHeartbeatMaxAgeMs = 20000;

/** Run by the kubelet in the guard's own (Node) image: no shell or other tool is assumed. */
const heartbeatCheck = [
    "const [file, maxAgeMs] = process.argv.slice(1);",
    "let age;",
    "try { age = Date.now() - require('fs').statSync(file).mtimeMs; } catch (error) { age = Infinity; }",
    "if (!(age <= Number(maxAgeMs))) { console.error('no failover-guard heartbeat in ' + file + ' for ' + age + ' ms'); process.exit(1); }",
].join(" ");

/** The running guard's liveness probe: the heartbeat file is younger than guardHeartbeatMaxAgeMs. */
export function guardLivenessProbe(runtimeDir: string): {
    exec: { command: string[] };
    periodSeconds: number;
    timeoutSeconds: number;
    failureThreshold: number;
} {
    return {
        exec: {
            command: ["node", "-e", heartbeatCheck, guardHeartbeatFile(runtimeDir), String(guardHeartbeatMaxAgeMs)],
        },
        periodSeconds: 10,
        // Node's own start, under the container's 200m CPU limit, can take a second or more.
        timeoutSeconds: 5,
        failureThreshold: 3,
    };
}
