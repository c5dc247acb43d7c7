/**
 * Offline render (DESIGN decision 10): runs index.ts under Pulumi's mock runtime with a stack's config
 * file and writes every resource deterministically. Secrets and random values appear only as
 * `<secret:NAME>` placeholders, certificates as `<certificate:NAME>`, where the real value would be.
 *
 * Outputs, under `outDir`:
 *   manifests.yaml   every Kubernetes object, multi-document YAML, sorted by kind, namespace and name
 *   files/<component>/<file>   every configuration text the program renders; for a VM, the files
 *                              copied to it (staged/) and the commands run on it (commands/); with
 *                              plugins or web-client text, the image's Dockerfile and inputs
 *                              (mattermost-image/)
 *   resources.json   every resource: type, name, parent, dependencies, protection, inputs
 *   outputs.json     the stack outputs, secret ones as {"secret": <placeholder>}
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "yaml";
import { renderDockerfile, type CustomImageSettings } from "../config/customImage";
import { offlineRenderVariable, projectName } from "../config/keys";
import { stableJson } from "../config/mattermostSettings";
import { describeProblems, validateStackConfig } from "../config/validate";

/** The Pulumi SDK's marker for a secret value inside resource inputs. */
const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

export interface RenderResult {
    readonly missingSecrets: readonly string[];
    /** Plain values `pulumi up` needs and the stack file lacks; rendered empty. */
    readonly missingValues: readonly string[];
    readonly warnings: readonly string[];
    readonly files: readonly string[];
}

export class RenderConfigError extends Error {}

export function placeholder(name: string): string {
    return `<secret:${name}>`;
}

/** What a render writes at the top of its directory; nothing else is ever removed from there. */
const renderEntries = new Set(["manifests.yaml", "resources.json", "outputs.json", "files"]);

/**
 * A render replaces its directory, so it refuses one that holds anything else (`--out ..`, a home
 * directory, another project), before anything is read, written or removed.
 */
export function checkOutputDirectory(outDir: string): void {
    if (!fs.existsSync(outDir)) {
        return;
    }
    if (!fs.statSync(outDir).isDirectory()) {
        throw new RenderConfigError(`--out ${outDir} is a file, not a directory: name a new or empty directory.`);
    }
    const foreign = fs.readdirSync(outDir).filter((entry) => !renderEntries.has(entry));
    if (foreign.length > 0) {
        throw new RenderConfigError(
            `--out ${outDir} holds ${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", ..." : ""}, which no render wrote, and a render replaces its directory: name a new or empty directory, or an earlier render's.`,
        );
    }
}

interface StackFile {
    readonly config?: Record<string, unknown>;
}

function isEncrypted(value: unknown): boolean {
    return value !== null && typeof value === "object" && "secure" in value;
}

/** A map with at least one encrypted value. */
function isEncryptedMap(value: unknown): value is Record<string, unknown> {
    return (
        value !== null && typeof value === "object" && !Array.isArray(value) && Object.values(value).some(isEncrypted)
    );
}

/** Stack config as Pulumi hands it to a program: `project:key` to text; `secure:` values as placeholders. */
export function readStackConfig(file: string): { values: Record<string, string>; secretKeys: string[] } {
    if (!fs.existsSync(file)) {
        throw new RenderConfigError(`There is no ${file}: create it, or pick a stack that has one (test, prod).`);
    }
    let parsed: StackFile;
    try {
        parsed = (yaml.parse(fs.readFileSync(file, "utf8")) ?? {}) as StackFile;
    } catch (error) {
        throw new RenderConfigError(
            `${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
        );
    }
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(parsed.config ?? {})) {
        const key = rawKey.includes(":") ? rawKey : `${projectName}:${rawKey}`;
        const name = key.split(":")[1] ?? key;
        if (isEncrypted(value)) {
            values[key] = placeholder(name);
            secretKeys.push(key);
        } else if (isEncryptedMap(value)) {
            // As the CLI does (`pulumi config set --secret --path`): the map's key counts as secret, so a
            // value beside the encrypted ones would be taken for a secret while it sits readable in the file.
            const plain = Object.keys(value).find((entry) => !isEncrypted(value[entry]));
            if (plain !== undefined) {
                throw new RenderConfigError(
                    `${key}: "${plain}" is stored in plain text beside encrypted values. Set it encrypted: pulumi config set --secret --path '${name}["${plain}"]' <value>`,
                );
            }
            values[key] = JSON.stringify(
                Object.fromEntries(Object.keys(value).map((entry) => [entry, placeholder(`${name}.${entry}`)])),
            );
            secretKeys.push(key);
        } else {
            values[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { values, secretKeys };
}

function hashOf(value: unknown): string {
    return createHash("sha256").update(stableJson(value)).digest("hex");
}

/** Replaces the SDK's secret wrappers by their (placeholder) contents. */
function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[secretSignatureKey] === secretSignature) {
            return unwrapSecrets(record.value);
        }
        return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, unwrapSecrets(inner)]));
    }
    return value;
}

/**
 * A secret string handed to something that runs outside the cluster (a command's stdin, a dynamic
 * provider's token) is shown as a placeholder named after it: encoded (base64), the placeholders of the
 * values inside would not show.
 */
function hideCommandSecrets(resourceName: string, inputs: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(inputs).map(([key, value]) => {
            const record = value as Record<string, unknown> | null;
            const isSecretString =
                record !== null &&
                typeof record === "object" &&
                record[secretSignatureKey] === secretSignature &&
                typeof record.value === "string";
            if (key === "__provider" && typeof value === "string") {
                // A dynamic provider's serialized code: its hash still shows a change, without the bulk.
                return [key, `<serialized provider sha256:${createHash("sha256").update(value).digest("hex")}>`];
            }
            return [key, isSecretString ? placeholder(`${resourceName}.${key}`) : value];
        }),
    );
}

/** Placeholders percent-encoded inside URLs are shown readable again. */
function readablePlaceholders(text: string): string {
    return text.replace(/%3Csecret%3A((?:[A-Za-z0-9._-]|%3A)+)%3E/g, (_match, name: string) =>
        placeholder(name.replace(/%3A/g, ":")),
    );
}

interface RecordedResource {
    type: string;
    name: string;
    parent?: string;
    dependencies: string[];
    custom: boolean;
    /** Set only where true: `pulumi up` refuses to delete or replace the resource. */
    protect?: true;
    inputs: Record<string, unknown>;
    state: Record<string, unknown>;
}

function isKubernetesObject(resource: RecordedResource): boolean {
    // Providers are typed pulumi:providers:kubernetes, so this is every object the provider would apply.
    return resource.custom && resource.type.startsWith("kubernetes:");
}

/** What the mock provider returns: inputs plus what a real provider would add, deterministically. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "pulumi-nodejs:dynamic/mattermost:IncomingWebhook":
            // The webhook's id is the credential in its URL.
            return { ...inputs, url: `${String(inputs.siteUrl)}/hooks/${placeholder(`webhook:${name}`)}` };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: placeholder(`random:${name}`) };
        case "tls:index/privateKey:PrivateKey":
            return { ...inputs, privateKeyPem: placeholder(`tls:${name}`), publicKeyPem: `<public-key:${name}>` };
        case "tls:index/certRequest:CertRequest":
            return { ...inputs, certRequestPem: `<certificate-request:${name}>` };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            // Certificates are public: they may stand in ConfigMaps, unlike the keys.
            return { ...inputs, certPem: `<certificate:${name}>` };
    }
    if (type.startsWith("kubernetes:")) {
        const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
        if (metadata.name === undefined) {
            // Pulumi auto-names with a random suffix; here the suffix is a hash of the content, so the
            // render is stable and a content change shows as a new name, as it rolls the pods for real.
            return {
                ...inputs,
                metadata: { ...metadata, name: `${name}-${hashOf(unwrapSecrets(inputs)).slice(0, 8)}` },
            };
        }
    }
    return inputs;
}

/** File assets by path, string assets by their text, so the render shows what a copy step writes. */
async function resolveAssets(
    pulumi: typeof import("@pulumi/pulumi"),
    inputs: Record<string, unknown>,
): Promise<Record<string, unknown>> {
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(inputs)) {
        if (value instanceof pulumi.asset.StringAsset) {
            resolved[key] = { stringAsset: await value.text };
        } else if (value instanceof pulumi.asset.FileAsset) {
            resolved[key] = { fileAsset: await value.path };
        } else {
            resolved[key] = value;
        }
    }
    return resolved;
}

/** What the VM steps run and copy, one file each, so a change shows as a line diff. */
function remoteFiles(resources: RecordedResource[]): Map<string, string> {
    const files = new Map<string, string>();
    for (const resource of resources) {
        const folder = resource.parent?.split("::").pop() ?? resource.name;
        const source = resource.inputs.source as { stringAsset?: string } | undefined;
        if (resource.type === "command:remote:CopyToRemote" && typeof source?.stringAsset === "string") {
            files.set(
                path.join(folder, "staged", path.basename(String(resource.inputs.remotePath))),
                source.stringAsset,
            );
        }
        if (resource.type === "command:remote:Command") {
            for (const step of ["create", "delete"] as const) {
                const text = resource.inputs[step];
                if (typeof text === "string") {
                    files.set(path.join(folder, "commands", `${resource.name}.${step}.sh`), `${text}\n`);
                }
            }
        }
    }
    return files;
}

function componentOf(resource: RecordedResource): string {
    const metadata = resource.inputs.metadata as { labels?: Record<string, string> } | undefined;
    return metadata?.labels?.["app.kubernetes.io/name"]?.replace(/-\d+$/, "") ?? resource.name;
}

/** Every configuration text: file-like ConfigMap keys as files, env-style ConfigMaps and Secrets as .env. */
function renderedFiles(objects: RecordedResource[]): Map<string, string> {
    const files = new Map<string, string>();
    for (const resource of objects) {
        const kind = resource.type.split(":").pop();
        if (kind !== "ConfigMap" && kind !== "Secret") {
            continue;
        }
        const data = (resource.inputs.data ?? resource.inputs.stringData ?? {}) as Record<string, string>;
        const folder = componentOf(resource);
        const envEntries = Object.entries(data).filter(([key]) => /^[A-Z_][A-Z0-9_]*$/.test(key));
        for (const [key, value] of Object.entries(data)) {
            if (!envEntries.some(([envKey]) => envKey === key)) {
                files.set(path.join(folder, key), value);
            }
        }
        if (envEntries.length > 0) {
            const text = envEntries
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([key, value]) => `${key}=${value}\n`)
                .join("");
            files.set(path.join(folder, `${resource.name}.env`), text);
        }
    }
    return files;
}

/** The object as applied: its inputs, with the name the provider gives auto-named objects. */
function manifestOf(resource: RecordedResource): Record<string, unknown> {
    return { ...resource.inputs, metadata: resource.state.metadata };
}

function sortKey(manifest: Record<string, unknown>): string {
    const metadata = manifest.metadata as { namespace?: string; name?: string };
    return `${String(manifest.kind)}/${metadata.namespace ?? ""}/${metadata.name ?? ""}`;
}

export interface RenderOptions {
    /** The project: Pulumi.yaml and index.ts. */
    readonly projectDir: string;
    readonly stack: string;
    readonly outDir: string;
    /** The stack's config file; Pulumi.<stack>.yaml in projectDir unless given. */
    readonly stackFile?: string;
    /**
     * Values for secret keys instead of placeholders, by key: for the secrets audit, which renders with a
     * distinctive value for every secret and looks where each one lands. Not offered on the command line.
     */
    readonly secretValues?: Readonly<Record<string, string>>;
}

export async function renderStack(options: RenderOptions): Promise<RenderResult> {
    const { projectDir, stack, outDir } = options;
    checkOutputDirectory(outDir);
    const { values, secretKeys } = readStackConfig(options.stackFile ?? path.join(projectDir, `Pulumi.${stack}.yaml`));
    const prefix = `${projectName}:`;
    for (const [key, value] of Object.entries(options.secretValues ?? {})) {
        values[`${prefix}${key}`] = value;
        if (!secretKeys.includes(`${prefix}${key}`)) {
            secretKeys.push(`${prefix}${key}`);
        }
    }
    const projectValues = Object.fromEntries(
        Object.entries(values)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
    const secretProjectKeys = new Set(secretKeys.map((key) => key.slice(prefix.length)));
    const validation = validateStackConfig(projectValues, secretProjectKeys);
    if (validation.errors.length > 0) {
        throw new RenderConfigError(describeProblems(validation.errors));
    }
    const missingSecrets = validation.missingSecrets.map((missing) => missing.key);
    for (const key of missingSecrets) {
        values[`${prefix}${key}`] = placeholder(key);
        secretKeys.push(`${prefix}${key}`);
    }

    process.env.PULUMI_CONFIG = JSON.stringify(values);
    process.env[offlineRenderVariable] = "true";
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(secretKeys.sort());
    // Imported only now: the SDK reads the config from the environment when it loads.
    const pulumi = await import("@pulumi/pulumi");
    const settings = (await import("@pulumi/pulumi/runtime/settings")) as unknown as {
        getMonitor(): { registerResource(request: RegisterRequest, callback: unknown): unknown };
        waitForRPCs(): Promise<void>;
    };

    // Each registration passes the monitor (which knows parent and dependencies) and then the mocks
    // (which see the inputs); both fill the same record.
    const recorded = new Map<string, RecordedResource>();
    await pulumi.runtime.setMocks(
        {
            async newResource(args) {
                const runsElsewhere = args.type.startsWith("command:") || args.type.startsWith("pulumi-nodejs:dynamic");
                const inputs = runsElsewhere
                    ? hideCommandSecrets(args.name, await resolveAssets(pulumi, args.inputs as Record<string, unknown>))
                    : (args.inputs as Record<string, unknown>);
                const state = mockState(args.type, args.name, inputs);
                const entry = recorded.get(`${args.type}::${args.name}`);
                if (entry) {
                    entry.inputs = inputs;
                    entry.state = state;
                }
                return { id: args.custom === false ? "" : `${args.name}-id`, state };
            },
            call(args) {
                return args.inputs as Record<string, unknown>;
            },
        },
        projectName,
        stack,
        false,
    );
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request: RegisterRequest, callback: unknown) => {
        recorded.set(`${request.getType()}::${request.getName()}`, {
            type: request.getType(),
            name: request.getName(),
            custom: request.getCustom(),
            parent: request.getParent() || undefined,
            dependencies: [...request.getDependenciesList()].sort(),
            ...(request.getProtect() ? { protect: true as const } : {}),
            inputs: {},
            state: {},
        });
        return register(request, callback);
    };

    const program = path.join(projectDir, "index.ts");
    let exported: Record<string, unknown> = {};
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
        exported = (await import(program)) as Record<string, unknown>;
        return exported;
    });
    await settings.waitForRPCs();
    // A secret output is shown as {"secret": <placeholder>}, as `pulumi stack output` shows [secret].
    const secretOutputs = new Set<string>();
    for (const [name, value] of Object.entries(exported)) {
        if (pulumi.Output.isInstance(value) && (await pulumi.isSecret(value))) {
            secretOutputs.add(name);
        }
    }
    const shownOutputs = Object.fromEntries(
        Object.entries((unwrapSecrets(outputs ?? {}) as Record<string, unknown>) ?? {})
            .filter(([, value]) => value !== undefined)
            .map(([name, value]) => [name, secretOutputs.has(name) ? { secret: value } : value]),
    );

    const resources = [...recorded.values()].map((resource) => ({
        ...resource,
        inputs: unwrapSecrets(resource.inputs) as Record<string, unknown>,
        state: unwrapSecrets(resource.state) as Record<string, unknown>,
    }));
    const objects = resources.filter(isKubernetesObject);
    const manifests = objects.map(manifestOf).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));

    // Only what a render writes is removed, never the directory itself, which may be someone's own
    // (checkOutputDirectory, at the start, made sure nothing else is in it).
    for (const entry of renderEntries) {
        fs.rmSync(path.join(outDir, entry), { recursive: true, force: true });
    }
    fs.mkdirSync(path.join(outDir, "files"), { recursive: true });
    const write = (relative: string, text: string) => {
        const target = path.join(outDir, relative);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, readablePlaceholders(text));
        return relative;
    };
    const yamlOptions = { sortMapEntries: true, lineWidth: 0 } as const;
    const written = [
        write("manifests.yaml", manifests.map((manifest) => yaml.stringify(manifest, yamlOptions)).join("---\n")),
        write(
            "resources.json",
            `${JSON.stringify(
                JSON.parse(
                    stableJson(
                        resources
                            .map(({ type, name, parent, dependencies, protect, inputs }) => ({
                                type,
                                name,
                                parent,
                                dependencies,
                                protect,
                                inputs,
                            }))
                            .sort((a, b) => (`${a.type}::${a.name}` < `${b.type}::${b.name}` ? -1 : 1)),
                    ),
                ),
                null,
                2,
            )}\n`,
        ),
        write("outputs.json", `${JSON.stringify(JSON.parse(stableJson(shownOutputs)), null, 2)}\n`),
    ];
    const build = validation.settings?.mattermost.build;
    const allFiles = [...renderedFiles(objects), ...remoteFiles(resources), ...imageFiles(build)];
    for (const [relative, text] of allFiles.sort(([a], [b]) => (a < b ? -1 : 1))) {
        written.push(write(path.join("files", relative), text));
    }
    return {
        missingSecrets,
        missingValues: validation.missingValues.map((missing) => missing.key),
        warnings: validation.warnings,
        files: written,
    };
}

/**
 * What `npm run build:image` builds, so a review sees a plugin or text change as the image's own diff;
 * nothing without plugins or replacements, since the pair then runs the upstream image.
 */
function imageFiles(build: CustomImageSettings | undefined): [string, string][] {
    if (!build || (build.plugins.length === 0 && build.replacements.length === 0)) {
        return [];
    }
    const inputs = { tag: build.tag, plugins: build.plugins, replacements: build.replacements };
    return [
        ["mattermost-image/Dockerfile", renderDockerfile(build)],
        ["mattermost-image/inputs.json", `${JSON.stringify(JSON.parse(stableJson(inputs)), null, 2)}\n`],
    ];
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getDependenciesList(): string[];
    getProtect(): boolean;
}
