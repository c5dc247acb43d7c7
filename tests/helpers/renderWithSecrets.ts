/**
 * The offline render of a stack with a given value for every secret key, in a process of its own (the
 * Pulumi runtime is global): `tsx tests/helpers/renderWithSecrets.ts <stack> <out dir> <values.json> [stack file]`.
 * For the secrets audit only; the render's command line never takes secret values.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderStack } from "../../scripts/offlineRender";

const [stack, outDir, valuesFile, stackFile] = process.argv.slice(2);
if (!stack || !outDir || !valuesFile) {
    throw new Error("usage: renderWithSecrets.ts <stack> <out dir> <values.json>");
}
renderStack({
    projectDir: path.resolve(__dirname, "..", ".."),
    stack,
    outDir,
    stackFile,
    secretValues: JSON.parse(fs.readFileSync(valuesFile, "utf8")) as Record<string, string>,
}).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
