/**
 * The build context of the custom Mattermost image (config/customImage.ts), prepared on the deployer's
 * machine: every plugin bundle and signature downloaded over https and checked against the stack's
 * sha256 before anything is written where the build reads it, each bundle's manifest checked against
 * the id and version the stack enables, its signature against the keys given (Mattermost's server
 * refuses a bundle whose signature fails, but only in its log, at start), then the Dockerfile and the
 * web-client edit beside them.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as tls from "node:tls";
import * as openpgp from "openpgp";
import * as tar from "tar";
import * as yaml from "yaml";
import { bundleFileName, renderDockerfile, replacementsJson, type CustomImageSettings } from "../config/customImage";
import { renderWebClientScript } from "../config/guard";

export interface DownloadOptions {
    /** Extra CA certificates (PEM) to trust, e.g. a company proxy's; the system's are trusted too. */
    readonly ca?: string;
    /** Largest body accepted, in bytes. */
    readonly maxBytes?: number;
    /** A stalled transfer fails after this long without data. */
    readonly idleTimeoutMs?: number;
}

export class ImageContextError extends Error {}

const redirectLimit = 5;

function fetchToFile(url: string, file: string, options: DownloadOptions, redirects = 0): Promise<string> {
    return new Promise((resolve, reject) => {
        // Giving `ca` replaces Node's roots; a company CA is added to them instead.
        const ca = options.ca ? [...tls.rootCertificates, options.ca] : undefined;
        const request = https.get(url, { ca, timeout: options.idleTimeoutMs ?? 60_000 }, (response) => {
            const status = response.statusCode ?? 0;
            const location = response.headers.location;
            if (status >= 300 && status < 400 && location) {
                response.resume();
                const next = new URL(location, url).toString();
                if (!next.startsWith("https://")) {
                    reject(new ImageContextError(`${url} redirects to ${next}, which is not https`));
                } else if (redirects >= redirectLimit) {
                    reject(new ImageContextError(`${url} redirects more than ${redirectLimit} times`));
                } else {
                    fetchToFile(next, file, options, redirects + 1).then(resolve, reject);
                }
                return;
            }
            if (status !== 200) {
                response.resume();
                reject(new ImageContextError(`${url} answered HTTP ${status}`));
                return;
            }
            const hash = createHash("sha256");
            const out = fs.createWriteStream(file);
            let received = 0;
            const limit = options.maxBytes ?? 512 * 1024 * 1024;
            response.on("data", (chunk: Buffer) => {
                received += chunk.length;
                if (received > limit) {
                    response.destroy(new ImageContextError(`${url} is larger than ${limit} bytes`));
                    return;
                }
                hash.update(chunk);
            });
            response.on("error", (error) => {
                out.destroy();
                reject(error);
            });
            response.pipe(out);
            out.on("finish", () => resolve(hash.digest("hex")));
            out.on("error", reject);
        });
        request.on("timeout", () => request.destroy(new ImageContextError(`${url} sent nothing for too long`)));
        request.on("error", (error) =>
            reject(error instanceof ImageContextError ? error : new ImageContextError(`${url}: ${error.message}`)),
        );
    });
}

/** Downloads `url` to `file` and checks its sha256; a mismatch removes the file and names `setting`. */
export async function downloadVerified(
    url: string,
    file: string,
    sha256: string,
    setting: string,
    options: DownloadOptions = {},
): Promise<void> {
    const partial = `${file}.partial`;
    try {
        const actual = await fetchToFile(url, partial, options);
        if (actual !== sha256) {
            throw new ImageContextError(
                `${setting}: ${url} has sha256 ${actual}, not the ${sha256} the stack pins. Do not change the pin to match before you know why the file changed (a new release under the same URL, or tampering); take the checksum from the publisher`,
            );
        }
        fs.renameSync(partial, file);
    } finally {
        fs.rmSync(partial, { force: true });
    }
}

export interface PluginManifest {
    readonly id: string;
    readonly version: string;
}

/** The manifest of a plugin bundle: plugin.json (or .yaml/.yml) at the top or one directory down, as Mattermost looks for it. */
export async function readBundleManifest(bundle: string): Promise<PluginManifest | undefined> {
    const found: { name: string; text: string }[] = [];
    await tar.list({
        file: bundle,
        onReadEntry: (entry) => {
            const parts = entry.path.replace(/^\.\//, "").split("/").filter(Boolean);
            const name = parts[parts.length - 1] ?? "";
            if (parts.length <= 2 && /^plugin\.(json|ya?ml)$/.test(name)) {
                const chunks: Buffer[] = [];
                entry.on("data", (chunk: Buffer) => chunks.push(chunk));
                entry.on("end", () => found.push({ name, text: Buffer.concat(chunks).toString("utf8") }));
            } else {
                entry.resume();
            }
        },
    });
    const manifest = found.sort((a, b) => a.name.length - b.name.length)[0];
    if (!manifest) {
        return undefined;
    }
    const parsed = (manifest.name.endsWith(".json") ? JSON.parse(manifest.text) : yaml.parse(manifest.text)) as Record<
        string,
        unknown
    >;
    const text = (value: unknown) => (typeof value === "string" ? value : "");
    return { id: text(parsed.id), version: text(parsed.version) };
}

export interface PrepareOptions extends DownloadOptions {
    /** Keys the bundles' signatures must verify against; absent, signatures are left to Mattermost. */
    readonly signingKeys?: readonly openpgp.PublicKey[];
}

const armored = (data: Buffer, kind: string) => data.toString("latin1").includes(`-----BEGIN PGP ${kind}-----`);

/** Public keys, armored or binary (as `gpg --export` and Mattermost's plugin-production-public-key.gpg hold them). */
export async function readSigningKeys(data: Buffer): Promise<openpgp.PublicKey[]> {
    return armored(data, "PUBLIC KEY BLOCK")
        ? openpgp.readKeys({ armoredKeys: data.toString("utf8") })
        : openpgp.readKeys({ binaryKeys: new Uint8Array(data) });
}

/** Whether the detached signature in `signatureFile` over `bundle` verifies against one of `keys`. */
export async function signatureVerifies(
    bundle: string,
    signatureFile: string,
    keys: readonly openpgp.PublicKey[],
): Promise<boolean> {
    const data = fs.readFileSync(signatureFile);
    try {
        const signature = armored(data, "SIGNATURE")
            ? await openpgp.readSignature({ armoredSignature: data.toString("utf8") })
            : await openpgp.readSignature({ binarySignature: new Uint8Array(data) });
        const message = await openpgp.createMessage({ binary: new Uint8Array(fs.readFileSync(bundle)) });
        const { signatures } = await openpgp.verify({
            message,
            signature,
            verificationKeys: [...keys],
            format: "binary",
        });
        const results = await Promise.allSettled(signatures.map((entry) => entry.verified));
        return results.some((result) => result.status === "fulfilled");
    } catch {
        return false;
    }
}

export interface PreparedContext {
    readonly directory: string;
    /** Files of the context, relative to it, sorted. */
    readonly files: readonly string[];
}

function listFiles(directory: string, relative = ""): string[] {
    return fs
        .readdirSync(path.join(directory, relative), { withFileTypes: true })
        .flatMap((entry) =>
            entry.isDirectory()
                ? listFiles(directory, path.join(relative, entry.name))
                : [path.join(relative, entry.name)],
        )
        .sort();
}

/**
 * Writes the build context into `directory` (emptied first). Throws ImageContextError naming the
 * setting at fault; on failure the directory holds no Dockerfile, so nothing half-checked is built.
 */
export async function prepareImageContext(
    build: CustomImageSettings,
    directory: string,
    options: PrepareOptions = {},
): Promise<PreparedContext> {
    // Emptied first, but only when it holds nothing but an earlier context: --context may be mistyped.
    const earlier = new Set(["Dockerfile", "prepackaged_plugins", "web-client"]);
    if (fs.existsSync(directory) && fs.readdirSync(directory).some((entry) => !earlier.has(entry))) {
        throw new ImageContextError(
            `${directory} holds other files than a build context; give a new or empty directory with --context`,
        );
    }
    fs.rmSync(directory, { recursive: true, force: true });
    const pluginsDirectory = path.join(directory, "prepackaged_plugins");
    fs.mkdirSync(pluginsDirectory, { recursive: true });
    for (const [index, plugin] of build.plugins.entries()) {
        const setting = `mattermost:mattermostPlugins[${index}] (${plugin.id})`;
        const bundle = path.join(pluginsDirectory, bundleFileName(plugin));
        await downloadVerified(plugin.url, bundle, plugin.sha256, `${setting} sha256`, options);
        await downloadVerified(
            plugin.signatureUrl,
            `${bundle}.sig`,
            plugin.signatureSha256,
            `${setting} signatureSha256`,
            options,
        );
        const manifest = await readBundleManifest(bundle).catch((error: unknown) => {
            throw new ImageContextError(
                `${setting}: ${plugin.url} is not a plugin bundle (a .tar.gz with plugin.json): ${error instanceof Error ? error.message : String(error)}`,
            );
        });
        if (!manifest) {
            throw new ImageContextError(`${setting}: ${plugin.url} has no plugin.json, so it is not a plugin bundle`);
        }
        if (options.signingKeys && !(await signatureVerifies(bundle, `${bundle}.sig`, options.signingKeys))) {
            throw new ImageContextError(
                `${setting}: ${plugin.signatureUrl} is not a valid signature of the bundle by the signing keys given, so Mattermost would refuse the plugin at start. Use the bundle's own .sig from its publisher; a bundle signed by anyone else than Mattermost cannot be prepackaged here (README, "Plugins and the web client")`,
            );
        }
        const wanted = plugin.version.replace(/^v/, "");
        if (manifest.id !== plugin.id || manifest.version.replace(/^v/, "") !== wanted) {
            throw new ImageContextError(
                `${setting}: the bundle is plugin ${manifest.id} ${manifest.version}, not ${plugin.id} ${wanted}. Set id and version to the bundle's, since Mattermost enables plugins by id`,
            );
        }
    }
    if (build.plugins.length === 0) {
        fs.rmSync(pluginsDirectory, { recursive: true });
    }
    if (build.replacements.length > 0) {
        const edit = path.join(directory, "web-client");
        fs.mkdirSync(edit);
        fs.writeFileSync(path.join(edit, "customize-web-client.js"), renderWebClientScript());
        fs.writeFileSync(path.join(edit, "replacements.json"), replacementsJson(build.replacements));
    }
    // Written last: a context without its Dockerfile cannot be built by mistake.
    fs.writeFileSync(path.join(directory, "Dockerfile"), renderDockerfile(build));
    return { directory, files: listFiles(directory) };
}
