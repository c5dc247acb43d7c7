/**
 * The Mattermost image the pair runs when the stack adds plugins or web-client text to the upstream one
 * (the original system forbids volumes, so nothing is installed at run time). The stack lists what goes
 * in; scripts/buildImage.ts builds it from the Dockerfile rendered here; the stack then names the built
 * image by digest, with a tag that ends in the recipe of its inputs, so a changed list cannot reach the
 * cluster with an image built from the old one. Pure: part of validateStackConfig.
 *
 * Facts this relies on (mattermost/mattermost server/channels/app/plugin.go, plugin_signature.go):
 * - bundles in `prepackaged_plugins/` are installed at every start when `AutomaticPrepackagedPlugins`
 *   is on and `PluginStates[id].Enable` is true; a bundle copied into `plugins/` is removed at start;
 * - every prepackaged bundle needs its detached `<bundle>.tar.gz.sig` beside it, verified against
 *   Mattermost's built-in key or the configured ones (since 10.11, PR #31785; it cannot be turned off).
 *   With the configuration in the database (this program's MM_CONFIG), configured key files are read
 *   from the database only, so in practice the bundles must be signed by Mattermost.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { fullKey, type ConfigKeyName } from "./keys";
import { parseImage } from "./images";
import { stableJson, type SettingOverride } from "./mattermostSettings";
import { mapList } from "./schemas";

export interface PluginBundle {
    /** The manifest id (plugin.json), the key of PluginSettings.PluginStates. */
    readonly id: string;
    readonly version: string;
    readonly url: string;
    readonly sha256: string;
    readonly signatureUrl: string;
    readonly signatureSha256: string;
}

/** One text change across the web client's files; `count` is how often `find` must occur. */
export interface WebClientReplacement {
    readonly find: string;
    readonly replace: string;
    readonly count: number;
}

export interface CustomImageSettings {
    /** The upstream image the build starts from (mattermostImage). */
    readonly baseImage: string;
    /** Runs the web-client edit in a build stage; used only with replacements. */
    readonly nodeImage: string;
    readonly plugins: readonly PluginBundle[];
    readonly replacements: readonly WebClientReplacement[];
    /** sha256 of everything that goes into the image, as hex. */
    readonly recipe: string;
    /** The tag the build gives the image: the base's tag and the recipe's first 12 hex digits. */
    readonly tag: string;
}

/**
 * Plugins Mattermost turns on by itself when PluginStates does not name them (model/config.go
 * SetDefaults: NPS, Calls and Playbooks now; Apps, Boards and channel export in earlier versions), and
 * its AI plugin, which images may ship prepackaged.
 */
export const defaultEnabledPluginIds = [
    "com.mattermost.apps",
    "com.mattermost.calls",
    "com.mattermost.nps",
    "com.mattermost.plugin-channel-export",
    "focalboard",
    "mattermost-ai",
    "playbooks",
] as const;

export const prepackagedPluginsDirectory = "/mattermost/prepackaged_plugins";
export const webClientDirectory = "/mattermost/client";
/**
 * Mattermost's image runs as mattermost, uid and gid 2000, and owns its files under that id; the web
 * client stays writable by it (Mattermost rewrites root.html at start).
 */
export const mattermostUid = 2000;

const sha256Pattern = /^[0-9a-f]{64}$/;
const pluginEntry = z.object(
    {
        id: z.string().regex(/^[a-zA-Z0-9._-]{3,190}$/, {
            error: "id is not a plugin id (3 to 190 letters, digits, '.', '_' or '-', as in the bundle's plugin.json)",
        }),
        version: z.string().regex(/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, {
            error: "version is not a release version, e.g. 2.4.0 (the bundle's plugin.json says which)",
        }),
        url: z.string().regex(/^https:\/\/[^\s'"]+\.tar\.gz$/, {
            error: "url is not an https URL of a .tar.gz, e.g. https://plugins.releases.mattermost.com/release/mattermost-plugin-jitsi-v2.1.0-linux-amd64.tar.gz",
        }),
        sha256: z.string().regex(sha256Pattern, {
            error: "sha256 is not 64 lower-case hex digits. Take it from the release's checksums, or from sha256sum of a bundle you checked",
        }),
        signatureUrl: z
            .string()
            .regex(/^https:\/\/[^\s'"]+$/, { error: "signatureUrl is not an https URL" })
            .optional(),
        signatureSha256: z.string().regex(sha256Pattern, {
            error: "signatureSha256 is not 64 lower-case hex digits (sha256sum of the .sig file)",
        }),
    },
    { error: "is not a map with id, version, url, sha256 and signatureSha256" },
);
const replacementEntry = z.object(
    {
        find: z.string().min(3, { error: "find must be at least 3 characters, or it would match by accident" }),
        replace: z.string(),
        count: z.number().int().min(1, { error: "count must be a whole number of at least 1" }),
    },
    { error: "is not a map with find, replace and count" },
);

export const customImageFieldSchemas = {
    mattermostPlugins: mapList(pluginEntry, "id"),
    webClientReplacements: mapList(replacementEntry, "find"),
    customMattermostImage: z.string(),
};

export interface CustomImageFields {
    readonly mattermostImage: string;
    readonly nodeImage: string;
    readonly mattermostVersion: string;
    readonly mattermostPlugins: readonly z.output<typeof pluginEntry>[];
    readonly webClientReplacements: readonly WebClientReplacement[];
    readonly customMattermostImage: string;
}

export interface CustomImageReport {
    problem(key: ConfigKeyName, message: string): void;
    missingValue(key: ConfigKeyName, message: string): void;
}

export interface CustomImageResult {
    /** What the pair runs: the built image when the stack names one, else the upstream image. */
    readonly image: string;
    readonly build: CustomImageSettings;
}

/** The source of the web-client edit, hashed into the recipe: a changed program means a rebuilt image. */
export const webClientScriptSource = path.join(__dirname, "..", "scripts", "customizeWebClient.ts");

const sha256Of = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

/** The Dockerfile of the build; no RUN in the last stage, since Mattermost's images have no shell. */
export function renderDockerfile(input: Omit<CustomImageSettings, "recipe" | "tag">): string {
    // No `# syntax=` line: BuildKit would pull its frontend image by a moving tag, and nothing here needs it.
    const lines = [
        "# Rendered by scripts/buildImage.ts from the stack's mattermostImage, mattermostPlugins and",
        "# webClientReplacements (config/customImage.ts). Do not edit: change the stack and build again.",
    ];
    const edited = input.replacements.length > 0;
    if (edited) {
        lines.push(
            `FROM ${input.baseImage} AS upstream`,
            "",
            "# The edit runs in Node's image: Mattermost's own has no shell or interpreter to run it in.",
            `FROM ${input.nodeImage} AS web-client`,
            `COPY --from=upstream ${webClientDirectory} /client`,
            "COPY web-client/ /edit/",
            'RUN ["node", "/edit/customize-web-client.js", "/client", "/edit/replacements.json"]',
            "",
            "FROM upstream",
            `COPY --from=web-client --chown=${mattermostUid}:${mattermostUid} /client ${webClientDirectory}`,
        );
    } else {
        lines.push(`FROM ${input.baseImage}`);
    }
    if (input.plugins.length > 0) {
        lines.push(
            "# Installed by Mattermost at every start; owned by root, so the server cannot alter them.",
            `COPY prepackaged_plugins/ ${prepackagedPluginsDirectory}/`,
        );
    }
    lines.push(`LABEL org.opencontainers.image.base.name="${input.baseImage}"`);
    return `${lines.join("\n")}\n`;
}

/** File name of a bundle in the prepackaged directory; the .sig is found by this name plus `.sig`. */
export function bundleFileName(plugin: PluginBundle): string {
    return `${plugin.id}-${plugin.version.replace(/^v/, "")}.tar.gz`;
}

export function replacementsJson(replacements: readonly WebClientReplacement[]): string {
    return `${JSON.stringify(replacements, null, 2)}\n`;
}

/** The recipe: the Dockerfile, every bundle's checksums and, with replacements, the edit and its program. */
export function imageRecipe(input: Omit<CustomImageSettings, "recipe" | "tag">): string {
    const edited = input.replacements.length > 0;
    return sha256Of(
        stableJson({
            dockerfile: renderDockerfile(input),
            plugins: input.plugins,
            replacements: edited ? input.replacements : [],
            webClientScript: edited ? sha256Of(fs.readFileSync(webClientScriptSource)) : "",
        }),
    );
}

export const recipeDigits = 12;

/**
 * PluginSettings that run exactly the listed plugins: each listed one on, and every plugin Mattermost
 * would turn on by itself off; unnamed ones stay off. With none listed the plugin system is off.
 */
export function pluginSettingsOverrides(plugins: readonly PluginBundle[]): SettingOverride[] {
    const states: Record<string, { Enable: boolean }> = {};
    for (const id of defaultEnabledPluginIds) {
        states[id] = { Enable: false };
    }
    for (const plugin of plugins) {
        states[plugin.id] = { Enable: true };
    }
    return [
        { section: "PluginSettings", key: "Enable", value: plugins.length > 0 },
        { section: "PluginSettings", key: "AutomaticPrepackagedPlugins", value: true },
        { section: "PluginSettings", key: "PluginStates", value: states },
    ];
}

/** The rules between the image keys, and what the pair runs and what the build makes. */
export function validateCustomImage(f: CustomImageFields, report: CustomImageReport): CustomImageResult {
    const plugins: PluginBundle[] = [];
    const seen = new Set<string>();
    for (const entry of f.mattermostPlugins) {
        if (seen.has(entry.id.toLowerCase())) {
            report.problem(
                "mattermostPlugins",
                `"${entry.id}" is listed twice. Keep one entry per plugin id (Mattermost would install either)`,
            );
            continue;
        }
        seen.add(entry.id.toLowerCase());
        plugins.push({ ...entry, signatureUrl: entry.signatureUrl ?? `${entry.url}.sig` });
    }
    const finds = f.webClientReplacements.map((replacement) => replacement.find);
    for (const [index, find] of finds.entries()) {
        if (finds.some((other, otherIndex) => otherIndex !== index && (other.includes(find) || find.includes(other)))) {
            report.problem(
                "webClientReplacements",
                `"${find}" overlaps another entry's find text, so the result would depend on their order. Make the find texts distinct`,
            );
            break;
        }
    }
    const inputs = {
        baseImage: f.mattermostImage,
        nodeImage: f.nodeImage,
        plugins,
        replacements: f.webClientReplacements,
    };
    const recipe = imageRecipe(inputs);
    const baseTag = parseImage(f.mattermostImage).tag ?? (f.mattermostVersion || "custom");
    const build: CustomImageSettings = { ...inputs, recipe, tag: `${baseTag}-${recipe.slice(0, recipeDigits)}` };
    const needed = plugins.length > 0 || f.webClientReplacements.length > 0;
    const builtImage = f.customMattermostImage;
    if (builtImage === "") {
        if (needed) {
            report.missingValue(
                "customMattermostImage",
                `${fullKey("customMattermostImage")}: is required with mattermostPlugins or webClientReplacements: the upstream image has neither. Build it with: npm run build:image -- --stack <stack> --repository <registry>/<name>, and set the reference it prints`,
            );
        }
        return { image: f.mattermostImage, build };
    }
    const reference = parseImage(builtImage);
    if (!reference.digest || !/^sha256:[0-9a-f]{64}$/.test(reference.digest)) {
        report.problem(
            "customMattermostImage",
            `"${builtImage}" is not pinned by digest. Give the reference npm run build:image prints, <repository>:<tag>@sha256:<digest>`,
        );
    } else if (!reference.tag?.endsWith(`-${build.tag.slice(-recipeDigits)}`)) {
        report.problem(
            "customMattermostImage",
            `"${builtImage}" was built from other inputs than the stack now lists (its tag should end in -${build.tag.slice(-recipeDigits)}: mattermostImage, mattermostPlugins or webClientReplacements changed since). Build it again: npm run build:image -- --stack <stack> --repository ${reference.repository}`,
        );
    }
    return { image: builtImage, build };
}
