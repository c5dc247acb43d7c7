/**
 * `npm run render -- --stack <name> [--out <dir>] [--stack-file <file>]`: the offline render of one stack
 * (see offlineRender.ts). `--stack-file` renders another config file as that stack, e.g. a proposed change.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { RenderConfigError, renderStack } from "./offlineRender";

const usage = "npm run render -- --stack <name> [--out <dir>] [--stack-file <file>]";

function readArguments(): { stack?: string; out?: string; "stack-file"?: string } {
    try {
        return parseArgs({
            options: { stack: { type: "string" }, out: { type: "string" }, "stack-file": { type: "string" } },
        }).values;
    } catch (error) {
        // A mistyped flag or a missing value: Node's message, then how it is called, not a stack trace.
        throw new RenderConfigError(`${error instanceof Error ? error.message : String(error)}. Usage: ${usage}`);
    }
}

async function main(): Promise<void> {
    const values = readArguments();
    if (!values.stack) {
        throw new RenderConfigError(`Name the stack to render. Usage: ${usage}, e.g. --stack test`);
    }
    // The name becomes a path (Pulumi.<stack>.yaml, out/<stack>/): Pulumi's own characters only.
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(values.stack) || values.stack.includes("..")) {
        throw new RenderConfigError(
            `--stack ${values.stack}: a stack name is letters, digits, '-', '_' and '.', e.g. test or prod.`,
        );
    }
    const projectDir = path.resolve(__dirname, "..");
    const outDir = path.resolve(values.out ?? path.join(projectDir, "out", values.stack));
    const stackFile = values["stack-file"] ? path.resolve(values["stack-file"]) : undefined;
    const result = await renderStack({ projectDir, stack: values.stack, outDir, stackFile });
    // What the messages name: the file the values came from.
    const configFile = values["stack-file"] ?? `Pulumi.${values.stack}.yaml`;
    // The program itself prints the configuration's warnings, as it does at `pulumi preview`.
    if (result.missingSecrets.length > 0) {
        console.warn(
            `Secrets not set in ${configFile} (placeholders used; pulumi up will refuse): ${result.missingSecrets.join(", ")}`,
        );
    }
    if (result.missingValues.length > 0) {
        console.warn(
            `Values not set in ${configFile} (rendered empty; pulumi up will refuse): ${result.missingValues.join(", ")}`,
        );
    }
    console.log(
        `Rendered stack ${values.stack} to ${path.relative(process.cwd(), outDir) || "."}: ${result.files.length} files`,
    );
}

main().catch((error: unknown) => {
    console.error(error instanceof RenderConfigError ? error.message : error);
    process.exit(1);
});
