/**
 * `npm run build:image -- --stack <name> --repository <registry>/<name> [--engine docker|podman]
 *  [--signing-key <file>] [--platform linux/amd64] [--ca-file <pem>] [--context <dir>] [--context-only]
 *  [--stack-file <file>]`
 *
 * Builds and pushes the Mattermost image a stack lists plugins or web-client text for
 * (config/customImage.ts), then prints the reference to set as the stack's customMattermostImage. The
 * context is prepared and checked here (scripts/imageContext.ts); the container engine only copies it.
 * `--context-only` stops before the engine, for machines without one.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { projectName } from "../config/keys";
import { describeProblems, validateStackConfig } from "../config/validate";
import { ImageContextError, prepareImageContext, readSigningKeys } from "./imageContext";
import { readStackConfig, RenderConfigError } from "./offlineRender";

class UsageError extends Error {}

function run(command: string, args: readonly string[]): void {
    console.log(`$ ${[command, ...args].join(" ")}`);
    const result = spawnSync(command, args, { stdio: "inherit" });
    if (result.error) {
        throw new UsageError(`${command} could not be run (${result.error.message}). Install it, or pass --engine`);
    }
    if (result.status !== 0) {
        throw new UsageError(`${command} ${args[0] ?? ""} failed with exit code ${String(result.status)}`);
    }
}

/** Builds and pushes; returns the pushed image's digest. */
function buildAndPush(engine: string, context: string, image: string, platform: string): string {
    const digestFile = path.join(path.dirname(context), `${path.basename(context)}.digest`);
    fs.rmSync(digestFile, { force: true });
    if (engine === "docker") {
        const metadata = `${digestFile}.json`;
        run("docker", [
            "buildx",
            "build",
            "--platform",
            platform,
            "--tag",
            image,
            "--push",
            "--metadata-file",
            metadata,
            context,
        ]);
        const digest = (JSON.parse(fs.readFileSync(metadata, "utf8")) as Record<string, unknown>)[
            "containerimage.digest"
        ];
        return typeof digest === "string" ? digest : "";
    }
    run("podman", ["build", "--platform", platform, "--tag", image, context]);
    run("podman", ["push", "--digestfile", digestFile, image]);
    return fs.readFileSync(digestFile, "utf8").trim();
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string" },
            repository: { type: "string" },
            engine: { type: "string", default: "docker" },
            platform: { type: "string", default: "linux/amd64" },
            "ca-file": { type: "string" },
            "signing-key": { type: "string" },
            context: { type: "string" },
            "context-only": { type: "boolean", default: false },
            "stack-file": { type: "string" },
        },
    });
    const stack = values.stack;
    if (!stack) {
        throw new UsageError("Name the stack: npm run build:image -- --stack test --repository <registry>/<name>");
    }
    if (!values["context-only"] && !values.repository) {
        throw new UsageError(
            "Name where the image goes: --repository <registry>/<name>, e.g. registry.example.com/chat/mattermost",
        );
    }
    if (values.engine !== "docker" && values.engine !== "podman") {
        throw new UsageError(`--engine ${values.engine} is not supported: use docker (with buildx) or podman`);
    }
    const projectDir = path.resolve(__dirname, "..");
    const stackFile = path.resolve(values["stack-file"] ?? path.join(projectDir, `Pulumi.${stack}.yaml`));
    const { values: stackValues, secretKeys } = readStackConfig(stackFile);
    const prefix = `${projectName}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(stackValues)) {
        // The image being built replaces the one the stack names, so that one is not checked against it.
        if (key.startsWith(prefix) && key !== `${prefix}customMattermostImage`) {
            raw[key.slice(prefix.length)] = value;
        }
    }
    const secrets = new Set(secretKeys.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length)));
    const validation = validateStackConfig(raw, secrets);
    if (validation.errors.length > 0 || !validation.settings) {
        throw new UsageError(describeProblems(validation.errors));
    }
    const build = validation.settings.mattermost.build;
    if (build.plugins.length === 0 && build.replacements.length === 0) {
        throw new UsageError(
            `${path.basename(stackFile)} lists no mattermostPlugins and no webClientReplacements: there is nothing to build, and the pair runs mattermostImage (${build.baseImage}) as it is.`,
        );
    }
    const context = path.resolve(values.context ?? path.join(projectDir, ".build", "image", stack));
    const ca = values["ca-file"] ? fs.readFileSync(values["ca-file"], "utf8") : undefined;
    const signingKeyFile = values["signing-key"];
    const signingKeys = signingKeyFile ? await readSigningKeys(fs.readFileSync(signingKeyFile)) : undefined;
    if (!signingKeys) {
        console.warn(
            "Signatures are not checked before the build: Mattermost checks them at start and only logs a refusal. Give --signing-key with Mattermost's plugin key (server/build/plugin-production-public-key.gpg in mattermost/mattermost, at the release's tag) to check them now.",
        );
    }
    const prepared = await prepareImageContext(build, context, { ca, signingKeys });
    console.log(`Build context for stack ${stack} (recipe ${build.recipe}) in ${context}:`);
    for (const file of prepared.files) {
        console.log(`  ${file}`);
    }
    const target = `${values.repository ?? "<registry>/<name>"}:${build.tag}`;
    if (values["context-only"]) {
        console.log(
            `Build and push it with, e.g.: docker buildx build --platform ${values.platform} --tag ${target} --push ${context}\nthen set: pulumi config set --stack ${stack} customMattermostImage ${target}@<digest>`,
        );
        return;
    }
    const digest = buildAndPush(values.engine, context, target, values.platform ?? "linux/amd64");
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
        throw new UsageError(`${values.engine} did not report the pushed image's digest (got "${digest}")`);
    }
    console.log(
        `Pushed ${target}@${digest}\nPoint the stack at it: pulumi config set --stack ${stack} customMattermostImage ${target}@${digest}`,
    );
}

main().catch((error: unknown) => {
    const known =
        error instanceof UsageError || error instanceof ImageContextError || error instanceof RenderConfigError;
    console.error(known ? error.message : error);
    process.exit(1);
});
