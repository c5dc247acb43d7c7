/**
 * The Filebeat sidecars as rendered: structure of filebeat.yml, and the paths and addresses it reads
 * matching where the containers of the same pod write. Filebeat itself is not installable here (no
 * Debian package, no npm package), so its configuration is checked against the fields it documents.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "yaml";
import { z } from "zod";
import { renderStack, type Rendered } from "../helpers/render";

let prod: Rendered;
let test: Rendered;

beforeAll(() => {
    prod = renderStack("prod");
    test = renderStack("test");
}, 120000);

afterAll(() => {
    for (const rendered of [prod, test]) {
        fs.rmSync(rendered.dir, { recursive: true, force: true });
    }
});

const filebeatSchema = z.strictObject({
    "filebeat.inputs": z
        .array(
            z.discriminatedUnion("type", [
                z.strictObject({
                    type: z.literal("filestream"),
                    id: z.string(),
                    paths: z.array(z.string().startsWith("/")).min(1),
                    parsers: z.array(z.strictObject({ ndjson: z.object({ target: z.string() }).passthrough() })),
                }),
                z.strictObject({
                    type: z.literal("udp"),
                    id: z.string(),
                    host: z.string().regex(/^127\.0\.0\.1:\d+$/),
                    max_message_size: z.string().regex(/^\d+B$/),
                    processors: z.array(z.record(z.string(), z.unknown())),
                }),
            ]),
        )
        .min(1),
    processors: z.array(
        z.strictObject({
            add_fields: z.strictObject({
                target: z.literal("mattermost_platform"),
                fields: z.strictObject({
                    environment: z.string(),
                    component: z.string(),
                    pod: z.literal("${POD_NAME}"),
                    namespace: z.literal("${POD_NAMESPACE}"),
                    node: z.literal("${NODE_NAME}"),
                }),
            }),
        }),
    ),
    "output.elasticsearch": z
        .strictObject({
            hosts: z.array(z.string().startsWith("https://")),
            username: z.literal("${ELK_USERNAME}").optional(),
            password: z.literal("${ELK_PASSWORD}").optional(),
            "ssl.verification_mode": z.literal("full"),
        })
        .optional(),
    "output.logstash": z
        .strictObject({
            hosts: z.array(z.string()),
            "ssl.enabled": z.literal(true),
            "ssl.verification_mode": z.literal("full"),
        })
        .optional(),
    "path.data": z.string(),
    "logging.to_stderr": z.literal(true),
    "logging.level": z.string(),
    "http.enabled": z.literal(false),
});

type FilebeatConfig = z.infer<typeof filebeatSchema>;

function filebeatConfig(rendered: Rendered, component: string): FilebeatConfig {
    return filebeatSchema.parse(yaml.parse(rendered.file(path.join("files", component, "filebeat.yml"))));
}

interface Container {
    name: string;
    image: string;
    env?: { name: string; value?: string; valueFrom?: unknown }[];
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
    securityContext?: { readOnlyRootFilesystem?: boolean };
    resources?: { limits?: Record<string, string> };
}

function containers(rendered: Rendered, deployment: string): Container[] {
    const found = rendered.manifests.find(
        (manifest) => manifest.kind === "Deployment" && (manifest.metadata as { name: string }).name === deployment,
    ) as { spec: { template: { spec: { containers: Container[] } } } } | undefined;
    if (!found) {
        throw new Error(`no Deployment ${deployment}`);
    }
    return found.spec.template.spec.containers;
}

function globToRegExp(glob: string): RegExp {
    return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
}

describe("Filebeat in the prod stack", () => {
    it("has a valid filebeat.yml for Mattermost and for nginx, labelled with environment and component", () => {
        for (const component of ["mattermost", "nginx"]) {
            const config = filebeatConfig(prod, component);
            expect(config.processors[0]?.add_fields.fields).toMatchObject({ environment: "prod", component });
            expect(config["output.elasticsearch"]?.hosts).toEqual(["https://logs.example.com:9200"]);
        }
    });

    it("reads the very file Mattermost writes, from the volume both containers mount", () => {
        const settings = prod.file(path.join("files", "mattermost", "mattermost-settings.env"));
        const advanced = /^MM_LOGSETTINGS_ADVANCEDLOGGINGJSON=(.*)$/m.exec(settings)?.[1];
        const target = (JSON.parse(advanced ?? "{}") as Record<string, { options: { filename: string } }>)[
            "shipped-file"
        ];
        const written = target?.options.filename ?? "";
        const [input] = filebeatConfig(prod, "mattermost")["filebeat.inputs"];
        const globs = input?.type === "filestream" ? input.paths : [];
        expect(globs.some((glob) => globToRegExp(glob).test(written))).toBe(true);
        // Rotated files (mattermost-<date>.log) match too.
        expect(
            globs.some((glob) => globToRegExp(glob).test(written.replace(/\.log$/, "-2026-11-28T00-00-00.000.log"))),
        ).toBe(true);

        for (const deployment of ["mattermost-1", "mattermost-2"]) {
            const [mattermost, filebeat] = containers(prod, deployment);
            const directory = path.dirname(written);
            const writes = mattermost?.volumeMounts?.find((mount) => mount.mountPath === directory);
            const reads = filebeat?.volumeMounts?.find((mount) => mount.mountPath === directory);
            expect(filebeat?.name).toBe("filebeat");
            expect(reads).toEqual({ name: writes?.name, mountPath: directory, readOnly: true });
        }
    });

    it("listens where nginx sends its access and error logs", () => {
        const conf = prod.file(path.join("files", "nginx", "nginx.conf"));
        const sent = [...conf.matchAll(/syslog:server=([\d.:]+),/g)].map((match) => match[1]);
        const inputs = filebeatConfig(prod, "nginx")["filebeat.inputs"];
        expect(inputs.map((input) => (input.type === "udp" ? input.host : undefined))).toEqual(sent);
        expect(sent).toHaveLength(2);
    });

    it("takes whole the longest syslog message Keycloak sends, which one UDP datagram still carries", () => {
        const keycloak = containers(prod, "keycloak").find((container) => container.name === "keycloak");
        const sent = Number(keycloak?.env?.find((variable) => variable.name === "KC_LOG_SYSLOG_MAX_LENGTH")?.value);
        const input = filebeatConfig(prod, "keycloak")["filebeat.inputs"].find((each) => each.type === "udp");
        const taken = Number(input?.type === "udp" ? input.max_message_size.slice(0, -1) : Number.NaN);
        // Past Keycloak's default 2048 and Filebeat's 10 KiB: a stack trace fits.
        expect(sent).toBeGreaterThanOrEqual(16 * 1024);
        expect(taken).toBeGreaterThanOrEqual(sent);
        expect(sent).toBeLessThanOrEqual(65507);
    });

    it("gets the password from a Secret, verifies TLS with the trust bundle, and is locked down", () => {
        for (const deployment of ["mattermost-1", "nginx"]) {
            const filebeat = containers(prod, deployment).find((container) => container.name === "filebeat");
            expect(filebeat?.image).toBe("docker.elastic.co/beats/filebeat:8.19.4");
            expect(filebeat?.env?.find((variable) => variable.name === "ELK_PASSWORD")?.valueFrom).toEqual({
                secretKeyRef: { name: expect.stringMatching(/^log-shipping-credentials-/), key: "password" },
            });
            expect(filebeat?.env).toContainEqual({
                name: "SSL_CERT_DIR",
                value: "/etc/ssl/certs:/etc/mattermost/trust",
            });
            expect(filebeat?.securityContext?.readOnlyRootFilesystem).toBe(true);
            expect(filebeat?.resources?.limits).toEqual({ cpu: "500m", memory: "300Mi" });
        }
        for (const component of ["mattermost", "nginx"]) {
            expect(prod.file(path.join("files", component, "filebeat.yml"))).not.toMatch(/<secret:/);
        }
    });
});

describe("without an ELK endpoint (the test stack)", () => {
    it("runs no sidecar and renders no Filebeat configuration", () => {
        for (const deployment of ["mattermost-1", "mattermost-2", "nginx"]) {
            expect(containers(test, deployment).map((container) => container.name)).not.toContain("filebeat");
        }
        expect(test.file("manifests.yaml")).not.toMatch(/filebeat/);
        expect(test.file(path.join("files", "nginx", "nginx.conf"))).not.toMatch(/syslog/);
    });
});
