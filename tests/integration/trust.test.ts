/**
 * The trust bundle, proven with Go's own TLS stack (Mattermost is Go): a Go client and lib/pq given
 * the bundle the way the Mattermost pods get it (the rendered SSL_CERT_DIR, the ConfigMap's file laid
 * out as the kubelet mounts it) trust a server signed by a company CA, fail without it, and still
 * trust the public roots. Servers run on loopback only.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { externalDatabaseUrl } from "../../config/database";
import { renderTrustBundle, trustBundleFile, trustMountPath } from "../../config/trust";
import { makeCertificateAuthority, makeServerCertificate, type Issued } from "../helpers/certificates";
import { buildGoProbe, runProbe } from "../helpers/goProbes";
import { sqlLiteral, startPostgres, type PostgresServer } from "../helpers/postgresServer";
import { renderStack } from "../helpers/render";

const publicRoot = "/etc/ssl/certs/ISRG_Root_X1.pem";

let dir: string;
let companyCa: Issued;
let tlsprobe: string;
let dbping: string;
let podCertDirs: string;
let trustDir: string;
let server: https.Server;
let serverUrl: string;

/** Lays a ConfigMap's files out as the kubelet does: timestamped directory, ..data link, file links. */
function mountLikeConfigMap(target: string, files: Record<string, string>): void {
    const version = path.join(target, "..2026_11_28_00_00_00.000000001");
    fs.mkdirSync(version, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
        fs.writeFileSync(path.join(version, name), content);
        fs.symlinkSync(path.join("..data", name), path.join(target, name));
    }
    fs.symlinkSync(path.basename(version), path.join(target, "..data"));
}

/** The environment of the Mattermost container, with the mount moved to where this test mounted it. */
function podEnvironment(): Record<string, string | undefined> {
    return { PATH: process.env.PATH, SSL_CERT_DIR: podCertDirs.replace(trustMountPath, trustDir) };
}

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "trust-"));
    companyCa = makeCertificateAuthority(dir, "Test Company CA");
    const serverCertificate = makeServerCertificate(dir, companyCa, "localhost", ["localhost", "127.0.0.1"]);

    const rendered = renderStack("test");
    const primary = rendered.manifests.find(
        (manifest) => manifest.kind === "Deployment" && (manifest.metadata as { name: string }).name === "mattermost-1",
    ) as {
        spec: {
            template: {
                spec: {
                    containers: { env: { name: string; value: string }[]; volumeMounts: { mountPath: string }[] }[];
                };
            };
        };
    };
    fs.rmSync(rendered.dir, { recursive: true, force: true });
    const [container] = primary.spec.template.spec.containers;
    podCertDirs = container.env.find((variable) => variable.name === "SSL_CERT_DIR")!.value;
    expect(container.volumeMounts.map((mount) => mount.mountPath)).toContain(trustMountPath);

    trustDir = path.join(dir, "trust");
    mountLikeConfigMap(trustDir, { [trustBundleFile]: renderTrustBundle([companyCa.certificate]) });

    tlsprobe = buildGoProbe("tlsprobe");
    dbping = buildGoProbe("dbping");

    server = https.createServer(
        { cert: serverCertificate.certificate, key: fs.readFileSync(serverCertificate.keyPath) },
        (_request, response) => response.end("ok"),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    serverUrl = `https://localhost:${(server.address() as AddressInfo).port}/`;
}, 120000);

afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("Go's TLS client with the trust bundle as the Mattermost pod gets it", () => {
    it("keeps the public roots in the pod's certificate directories", () => {
        expect(podCertDirs.split(":")).toEqual(["/etc/ssl/certs", trustMountPath]);
    });

    it("verifies a server signed by the company CA", async () => {
        expect(await runProbe(tlsprobe, ["get", serverUrl], podEnvironment())).toEqual({ status: 0, output: "ok 200" });
    });

    it("fails on the same server without the bundle", async () => {
        const result = await runProbe(tlsprobe, ["get", serverUrl], { PATH: process.env.PATH });
        expect(result.status).toBe(1);
        expect(result.output).toContain("x509: certificate signed by unknown authority");
    });

    it("still verifies a public root with the bundle in place", async () => {
        expect(await runProbe(tlsprobe, ["root", publicRoot], podEnvironment())).toEqual({
            status: 0,
            output: "ok ISRG Root X1",
        });
    });

    it("would lose the public roots if the bundle were given as SSL_CERT_FILE alone, the way it is not", async () => {
        const bundleOnly = {
            PATH: process.env.PATH,
            SSL_CERT_FILE: path.join(trustDir, trustBundleFile),
            SSL_CERT_DIR: trustDir,
        };
        expect((await runProbe(tlsprobe, ["get", serverUrl], bundleOnly)).status).toBe(0);
        const result = await runProbe(tlsprobe, ["root", publicRoot], bundleOnly);
        expect(result.status).toBe(1);
        expect(result.output).toContain("x509: certificate signed by unknown authority");
    });
});

describe("lib/pq with sslmode verify-full and the trust bundle", () => {
    let database: PostgresServer;

    beforeAll(async () => {
        const databaseCertificate = makeServerCertificate(dir, companyCa, "postgres", ["localhost"]);
        database = await startPostgres(databaseCertificate);
        database.sql("CREATE DATABASE mattermost");
        database.sql(`CREATE ROLE mattermost LOGIN PASSWORD ${sqlLiteral("p@ss:w/rd?#% x")}`);
    }, 60000);

    afterAll(() => database?.stop());

    const url = () =>
        externalDatabaseUrl(
            {
                mode: "external",
                host: "localhost",
                port: database.port,
                name: "mattermost",
                user: "mattermost",
                sslMode: "verify-full",
                connectTimeout: 5,
            },
            "p@ss:w/rd?#% x",
        );

    it("connects to a database whose certificate the company CA signed", async () => {
        expect(await runProbe(dbping, [], { ...podEnvironment(), DATABASE_URL: url() })).toEqual({
            status: 0,
            output: "connected as mattermost",
        });
    });

    it("refuses the same database without the bundle", async () => {
        const result = await runProbe(dbping, [], { PATH: process.env.PATH, DATABASE_URL: url() });
        expect(result.status).toBe(1);
        expect(result.output).toContain("x509: certificate signed by unknown authority");
    });
});
