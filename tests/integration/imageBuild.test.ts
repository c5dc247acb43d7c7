/**
 * The image build's checks, run for real: bundles served over https by a test CA on loopback and signed
 * with Debian's gpg as a plugin publisher signs them, the context prepared by scripts/imageContext.ts,
 * the CLI with --context-only, and the transpiled web-client edit run with node on a client directory. No container engine exists here, so the engine's build
 * and push are not run; the Dockerfile they read is linted in tests/unit/customImage.test.ts.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import * as tar from "tar";
import * as yaml from "yaml";
import type { CustomImageSettings, PluginBundle } from "../../config/customImage";
import { renderWebClientScript } from "../../config/guard";
import { validateStackConfig } from "../../config/validate";
import { prepareImageContext, readSigningKeys } from "../../scripts/imageContext";
import { makeCertificateAuthority, makeServerCertificate } from "../helpers/certificates";
import { projectDir } from "../helpers/render";
import { testStackConfig } from "../helpers/stackFixtures";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

let workDir: string;
let server: https.Server;
let baseUrl: string;
let caPem: string;
let bundle: Buffer;
let signature: Buffer;
/** The publisher's public key as `gpg --export` writes it (binary), and another signer's, armored. */
let publisherKey: Buffer;
let otherKey: Buffer;
let gnupgHome: string;
const served = new Map<string, Buffer>();

function gpg(args: string[]): Buffer {
    return execFileSync(
        "gpg",
        ["--homedir", gnupgHome, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args],
        { stdio: ["ignore", "pipe", "pipe"] },
    );
}

/** A signing key as Mattermost's documentation makes one (RSA 3072, which Mattermost's Go OpenPGP reads). */
function signingKey(email: string): void {
    gpg(["--quick-generate-key", `Plugin signer <${email}>`, "rsa3072", "sign", "never"]);
}

async function pluginBundle(id: string, version: string): Promise<Buffer> {
    const source = path.join(workDir, `bundle-${id}`);
    fs.mkdirSync(path.join(source, id, "server", "dist"), { recursive: true });
    fs.writeFileSync(path.join(source, id, "plugin.json"), JSON.stringify({ id, version, name: "Hello" }));
    fs.writeFileSync(path.join(source, id, "server", "dist", "plugin-linux-amd64"), "#!binary\n");
    const file = path.join(workDir, `${id}.tar.gz`);
    await tar.create({ gzip: true, file, cwd: source, portable: true }, [id]);
    return fs.readFileSync(file);
}

beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "image-build-"));
    const ca = makeCertificateAuthority(workDir, "plugins-test-ca");
    const certificate = makeServerCertificate(workDir, ca, "127.0.0.1", ["127.0.0.1"]);
    caPem = ca.certificate;
    bundle = await pluginBundle("com.example.hello", "1.2.0");
    gnupgHome = fs.mkdtempSync(path.join(os.tmpdir(), "gnupg-"));
    signingKey("publisher@example.com");
    signingKey("someone-else@example.com");
    fs.writeFileSync(path.join(workDir, "hello.tar.gz"), bundle);
    gpg([
        "--local-user",
        "publisher@example.com",
        "--detach-sign",
        "--output",
        path.join(workDir, "hello.tar.gz.sig"),
        path.join(workDir, "hello.tar.gz"),
    ]);
    signature = fs.readFileSync(path.join(workDir, "hello.tar.gz.sig"));
    publisherKey = gpg(["--export", "publisher@example.com"]);
    otherKey = gpg(["--armor", "--export", "someone-else@example.com"]);
    served.set("/release/hello-v1.2.0.tar.gz", bundle);
    served.set("/release/hello-v1.2.0.tar.gz.sig", signature);
    served.set("/release/other.tar.gz", await pluginBundle("com.example.other", "1.2.0"));
    server = https.createServer(
        { cert: fs.readFileSync(certificate.certificatePath), key: fs.readFileSync(certificate.keyPath) },
        (request, response) => {
            if (request.url === "/latest/hello.tar.gz") {
                response.writeHead(302, { location: "/release/hello-v1.2.0.tar.gz" }).end();
                return;
            }
            const body = served.get(request.url ?? "");
            response.writeHead(body ? 200 : 404).end(body);
        },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    spawnSync("gpgconf", ["--homedir", gnupgHome, "--kill", "gpg-agent"]);
    fs.rmSync(gnupgHome, { recursive: true, force: true });
    fs.rmSync(workDir, { recursive: true, force: true });
});

function hello(overrides: Partial<PluginBundle> = {}): PluginBundle {
    return {
        id: "com.example.hello",
        version: "1.2.0",
        url: `${baseUrl}/release/hello-v1.2.0.tar.gz`,
        sha256: sha256(bundle),
        signatureUrl: `${baseUrl}/release/hello-v1.2.0.tar.gz.sig`,
        signatureSha256: sha256(signature),
        ...overrides,
    };
}

function buildOf(plugins: PluginBundle[], replacements: CustomImageSettings["replacements"] = []): CustomImageSettings {
    return {
        baseImage: "mattermost/mattermost-team-edition:10.11.10",
        nodeImage: "node:22.23.5-alpine",
        plugins,
        replacements,
        recipe: "0".repeat(64),
        tag: "10.11.10-000000000000",
    };
}

describe("the image's build context", () => {
    it("holds the verified bundle and its signature under the names Mattermost pairs them by", async () => {
        const context = path.join(workDir, "context-ok");
        const replacements = [{ find: "GitLab SSO", replace: "Company SSO", count: 1 }];
        const prepared = await prepareImageContext(buildOf([hello()], replacements), context, { ca: caPem });
        expect(prepared.files).toEqual([
            "Dockerfile",
            "prepackaged_plugins/com.example.hello-1.2.0.tar.gz",
            "prepackaged_plugins/com.example.hello-1.2.0.tar.gz.sig",
            "web-client/customize-web-client.js",
            "web-client/replacements.json",
        ]);
        expect(fs.readFileSync(path.join(context, "prepackaged_plugins/com.example.hello-1.2.0.tar.gz"))).toEqual(
            bundle,
        );
        expect(JSON.parse(fs.readFileSync(path.join(context, "web-client/replacements.json"), "utf8"))).toEqual(
            replacements,
        );
    });

    it("follows an https redirect to the bundle", async () => {
        const context = path.join(workDir, "context-redirect");
        await prepareImageContext(buildOf([hello({ url: `${baseUrl}/latest/hello.tar.gz` })]), context, { ca: caPem });
        expect(fs.existsSync(path.join(context, "Dockerfile"))).toBe(true);
    });

    // Overrides are functions: the server's address is known only once it listens.
    const refusals: [string, () => Partial<PluginBundle>, RegExp][] = [
        [
            "a bundle that is not the pinned one",
            () => ({ sha256: "f".repeat(64) }),
            /\(com\.example\.hello\) sha256: .* has sha256 [0-9a-f]{64}, not the f{64}/,
        ],
        [
            "a signature that is not the pinned one",
            () => ({ signatureSha256: "e".repeat(64) }),
            /\(com\.example\.hello\) signatureSha256: .*\.sig has sha256/,
        ],
        [
            "a bundle of another plugin",
            () => ({
                url: `${baseUrl}/release/other.tar.gz`,
                sha256: sha256(served.get("/release/other.tar.gz") as Buffer),
            }),
            /the bundle is plugin com\.example\.other 1\.2\.0, not com\.example\.hello 1\.2\.0/,
        ],
        ["a missing bundle", () => ({ url: `${baseUrl}/release/gone.tar.gz` }), /answered HTTP 404/],
    ];

    it.each(refusals)("refuses %s and leaves no Dockerfile to build", async (name, overrides, message) => {
        const context = path.join(workDir, `context-${sha256(name).slice(0, 8)}`);
        await expect(prepareImageContext(buildOf([hello(overrides())]), context, { ca: caPem })).rejects.toThrow(
            message,
        );
        expect(fs.existsSync(path.join(context, "Dockerfile"))).toBe(false);
        const left = fs.readdirSync(path.join(context, "prepackaged_plugins"));
        expect(left.filter((file) => file.endsWith(".partial"))).toEqual([]);
    });

    it("refuses to empty a directory that is not a build context", async () => {
        const directory = path.join(workDir, "not-a-context");
        fs.mkdirSync(directory);
        fs.writeFileSync(path.join(directory, "package.json"), "{}");
        await expect(prepareImageContext(buildOf([hello()]), directory, { ca: caPem })).rejects.toThrow(
            "holds other files than a build context",
        );
        expect(fs.readdirSync(directory)).toEqual(["package.json"]);
    });

    it("checks the signature against the publisher's key, binary as gpg --export writes it", async () => {
        const context = path.join(workDir, "context-signed");
        const signingKeys = await readSigningKeys(publisherKey);
        await prepareImageContext(buildOf([hello()]), context, { ca: caPem, signingKeys });
        expect(fs.existsSync(path.join(context, "Dockerfile"))).toBe(true);
    });

    it("refuses a bundle whose signature is not by the keys given, and leaves no Dockerfile", async () => {
        const context = path.join(workDir, "context-other-signer");
        const signingKeys = await readSigningKeys(Buffer.from(otherKey));
        await expect(prepareImageContext(buildOf([hello()]), context, { ca: caPem, signingKeys })).rejects.toThrow(
            /\(com\.example\.hello\): .*\.sig is not a valid signature of the bundle by the signing keys given/,
        );
        expect(fs.existsSync(path.join(context, "Dockerfile"))).toBe(false);
    });

    it("refuses a server its CA file does not vouch for", async () => {
        await expect(prepareImageContext(buildOf([hello()]), path.join(workDir, "context-untrusted"))).rejects.toThrow(
            /self-signed|unable to verify|certificate/,
        );
    });

    it("is prepared by npm run build:image --context-only from a stack file, with the tag the stack expects", async () => {
        const stackFile = path.join(workDir, "Pulumi.image.yaml");
        const plugins = [
            {
                id: "com.example.hello",
                version: "1.2.0",
                url: `${baseUrl}/release/hello-v1.2.0.tar.gz`,
                sha256: sha256(bundle),
                signatureSha256: sha256(signature),
            },
        ];
        const config: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(testStackConfig)) {
            config[`mattermost:${key}`] = value;
        }
        config["mattermost:mattermostPlugins"] = plugins;
        fs.writeFileSync(stackFile, yaml.stringify({ config }));
        fs.writeFileSync(path.join(workDir, "ca.pem"), caPem);
        const context = path.join(workDir, "context-cli");
        // Asynchronous: the https server answering the CLI runs in this process.
        const { stdout: output } = await promisify(execFile)(
            "npx",
            [
                "tsx",
                "scripts/buildImage.ts",
                "--stack",
                "image",
                "--stack-file",
                stackFile,
                "--ca-file",
                path.join(workDir, "ca.pem"),
                "--context",
                context,
                "--context-only",
            ],
            { cwd: projectDir, encoding: "utf8" },
        );
        const expected = validateStackConfig({ ...testStackConfig, mattermostPlugins: JSON.stringify(plugins) })
            .settings?.mattermost.build.tag;
        expect(expected).toBeDefined();
        expect(output).toContain(`--tag <registry>/<name>:${expected} --push`);
        expect(fs.existsSync(path.join(context, "prepackaged_plugins/com.example.hello-1.2.0.tar.gz.sig"))).toBe(true);
    });
});

describe("the web-client edit", () => {
    let script: string;
    beforeAll(() => {
        script = path.join(workDir, "customize-web-client.js");
        fs.writeFileSync(script, renderWebClientScript());
    });

    function clientDirectory(name: string): string {
        const client = path.join(workDir, name);
        fs.mkdirSync(path.join(client, "i18n"), { recursive: true });
        fs.mkdirSync(path.join(client, "plugins", "some-plugin"), { recursive: true });
        const main = 'label:"GitLab SSO"},{id:"gitlab",text:"GitLab SSO"}';
        fs.writeFileSync(path.join(client, "main.abc123.js"), main);
        fs.writeFileSync(path.join(client, "main.abc123.js.gz"), zlib.gzipSync(main));
        fs.writeFileSync(path.join(client, "i18n", "de.json"), '{"login.gitlab":"GitLab SSO"}');
        fs.writeFileSync(path.join(client, "plugins", "some-plugin", "main.js"), "GitLab SSO");
        fs.writeFileSync(path.join(client, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        return client;
    }

    function runEdit(client: string, replacements: unknown): ReturnType<typeof spawnSync> {
        const file = path.join(client, "..", `${path.basename(client)}-replacements.json`);
        fs.writeFileSync(file, JSON.stringify(replacements));
        return spawnSync("node", [script, client, file], { encoding: "utf8" });
    }

    it("replaces every occurrence outside plugins/ and writes the compressed twin again", () => {
        const client = clientDirectory("client-ok");
        const result = runEdit(client, [{ find: "GitLab SSO", replace: "Company SSO", count: 3 }]);
        expect(result.status).toBe(0);
        const main = fs.readFileSync(path.join(client, "main.abc123.js"), "utf8");
        expect(main).toBe('label:"Company SSO"},{id:"gitlab",text:"Company SSO"}');
        expect(zlib.gunzipSync(fs.readFileSync(path.join(client, "main.abc123.js.gz"))).toString()).toBe(main);
        expect(fs.readFileSync(path.join(client, "i18n", "de.json"), "utf8")).toContain("Company SSO");
        expect(fs.readFileSync(path.join(client, "plugins", "some-plugin", "main.js"), "utf8")).toBe("GitLab SSO");
    });

    it("fails and writes nothing when a text does not occur as often as the stack says", () => {
        const client = clientDirectory("client-miss");
        const before = fs.readFileSync(path.join(client, "main.abc123.js"), "utf8");
        const result = runEdit(client, [
            { find: "GitLab SSO", replace: "Company SSO", count: 3 },
            { find: "Sign in with GitLab", replace: "Sign in", count: 1 },
        ]);
        expect(result.status).toBe(1);
        expect(result.stderr).toContain('"Sign in with GitLab" occurs 0 time(s)');
        expect(fs.readFileSync(path.join(client, "main.abc123.js"), "utf8")).toBe(before);
    });
});
