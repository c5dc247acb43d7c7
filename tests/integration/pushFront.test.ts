/**
 * The push host's nginx front and nftables table, run for real: Debian's nginx with the rendered site and
 * a certificate from a test CA in front of a fake push proxy on loopback, and the rendered ruleset loaded
 * with nft in a network namespace of this test's own. (The SSH delivery and the two-client namespace
 * test come with the PushProxyHost component.)
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { renderNftables, renderPushFrontNginx } from "../../config/pushProxy";
import { makeCertificateAuthority, makeServerCertificate, type Issued } from "../helpers/certificates";
import { freePort, makeRuntimeDir, startNginx, type RunningNginx } from "../helpers/nginxHarness";

const prefix = "c2VjcmV0LXByZWZpeA";
let dir: string;
let ca: Issued;
let nginx: RunningNginx;
let frontPort: number;
const received: { path: string; forwardedFor?: string }[] = [];
let proxy: http.Server;

function post(
    target: string,
    headers: Record<string, string> = {},
    method = "POST",
): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const request = https.request(
            {
                host: "127.0.0.1",
                port: frontPort,
                path: target,
                method,
                ca: ca.certificate,
                servername: "push.example.com",
                headers,
                timeout: 5000,
            },
            (response) => {
                let body = "";
                response.on("data", (chunk: Buffer) => (body += chunk.toString()));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            },
        );
        request.on("error", reject);
        request.end(
            method === "POST" ? JSON.stringify({ server_id: "s", device_id: "d", platform: "android_rn" }) : undefined,
        );
    });
}

beforeAll(async () => {
    dir = makeRuntimeDir();
    ca = makeCertificateAuthority(dir, "Push Test CA");
    const server = makeServerCertificate(dir, ca, "push.example.com", ["push.example.com"]);
    fs.chmodSync(server.keyPath, 0o644);

    const proxyPort = await freePort();
    proxy = http.createServer((request, response) => {
        // A proxy that dies mid-request, which nginx reports as an upstream error.
        if (request.headers["x-test-drop"]) {
            request.socket.destroy();
            return;
        }
        received.push({
            path: request.url ?? "",
            forwardedFor: request.headers["x-forwarded-for"] as string | undefined,
        });
        response.setHeader("content-type", "application/json");
        response.end('{"status":"OK"}');
    });
    await new Promise<void>((resolve) => proxy.listen(proxyPort, "127.0.0.1", resolve));

    frontPort = await freePort();
    const healthPort = await freePort();
    const site = renderPushFrontNginx({
        serverName: "push.example.com",
        prefix,
        sendTimeoutSec: 30,
        listenPort: frontPort,
        certificatePath: server.certificatePath,
        keyPath: server.keyPath,
        upstream: `127.0.0.1:${proxyPort}`,
        logDirectory: dir,
    });
    // The site goes into a minimal main config with a health server, as it would into the host's nginx.conf.
    fs.writeFileSync(path.join(dir, "site.conf"), site);
    fs.writeFileSync(
        path.join(dir, "nginx.conf"),
        `pid ${dir}/nginx.pid;\nerror_log stderr warn;\ndaemon off;\nevents {}\nhttp {\n` +
            `client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n` +
            `access_log ${dir}/main.access.log;\ninclude ${dir}/site.conf;\nserver { listen 127.0.0.1:${healthPort}; location = /healthz { return 200; } }\n}\n`,
    );
    nginx = await startNginx(path.join(dir, "nginx.conf"), healthPort);
}, 60000);

afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => proxy?.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("the push host's nginx front", () => {
    it("verifies against the CA and reaches send_push and ack only through the secret prefix", async () => {
        expect(await post(`/${prefix}/api/v1/send_push`)).toEqual({ status: 200, body: '{"status":"OK"}' });
        expect(await post(`/${prefix}/api/v1/ack`)).toEqual({ status: 200, body: '{"status":"OK"}' });
        expect(received.map((entry) => entry.path)).toEqual(["/api/v1/send_push", "/api/v1/ack"]);
    });

    it("overwrites X-Forwarded-For with the caller's address, so a caller cannot pick its throttle key", async () => {
        await post(`/${prefix}/api/v1/send_push`, { "x-forwarded-for": "203.0.113.9" });
        expect(received.at(-1)?.forwardedFor).toBe("127.0.0.1");
    });

    it.each(["/api/v1/send_push", "/metrics", `/${prefix}/metrics`, `/${prefix}/version`, "/version", "/"])(
        "refuses %s, without asking the proxy",
        async (target) => {
            const before = received.length;
            expect((await post(target)).status).toBe(404);
            expect(received.length).toBe(before);
        },
    );

    it("refuses anything but POST on the endpoints", async () => {
        expect((await post(`/${prefix}/api/v1/send_push`, {}, "GET")).status).toBe(403);
    });

    it("never writes the secret prefix to a log, for requests answered, refused and failed upstream", async () => {
        const accessLog = /^\s*access_log ([^\s;]+)/m.exec(fs.readFileSync(path.join(dir, "site.conf"), "utf8"))![1];
        const linesBefore = fs.existsSync(accessLog) ? fs.readFileSync(accessLog, "utf8").split("\n").length : 1;
        expect((await post(`/${prefix}/api/v1/send_push`)).status).toBe(200);
        expect((await post(`/${prefix}/api/v1/ack`, {}, "GET")).status).toBe(403);
        expect((await post(`/${prefix}/metrics`)).status).toBe(404);
        expect((await post(`/${prefix}/api/v1/send_push`, { "x-test-drop": "1" })).status).toBe(502);
        // Everything nginx wrote: its output (the main error log) and the access logs; the configs hold the prefix.
        const written = fs
            .readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((entry) => entry.isFile() && !entry.name.endsWith(".conf"))
            .map((entry) => path.join(entry.parentPath, entry.name));
        expect(written).toEqual(expect.arrayContaining([accessLog, path.join(dir, "nginx.log")]));
        for (const file of written) {
            expect([file, fs.readFileSync(file, "utf8").includes(prefix)]).toEqual([file, false]);
        }
        const lines = fs
            .readFileSync(accessLog, "utf8")
            .split("\n")
            .slice(linesBefore - 1, -1);
        expect(lines).toHaveLength(4);
        // Without the path, the log still tells which endpoint failed upstream.
        expect(lines.at(-1)).toMatch(/ send_push 502 /);
    });

    it("offers only TLS 1.2 and 1.3", () => {
        // SECLEVEL=0 lets this client speak TLS 1.1 (it then completes against a server that allows it),
        // so a failed handshake here is the front refusing.
        const handshake = (...flags: string[]) =>
            spawnSync(
                "openssl",
                ["s_client", "-connect", `127.0.0.1:${frontPort}`, "-servername", "push.example.com", ...flags],
                {
                    input: "",
                    encoding: "utf8",
                    timeout: 10000,
                },
            );
        expect(handshake("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0").stdout).toContain("New, (NONE), Cipher is (NONE)");
        expect(handshake("-tls1_2").stdout).toMatch(/New, TLSv1\.2, Cipher is ECDHE-/);
    });
});

describe("the push host's nftables table, in a namespace of its own", () => {
    const namespace = `mm-push-nft-${process.pid}`;
    const nft = (...args: string[]) =>
        spawnSync("ip", ["netns", "exec", namespace, "nft", ...args], { encoding: "utf8" });
    const load = (allowedCidrs: string[]) => {
        const file = path.join(dir, `rules-${allowedCidrs.length}.nft`);
        fs.writeFileSync(file, renderNftables({ allowedCidrs, deployerCidrs: ["198.51.100.0/28"], sshPort: 22 }));
        const result = nft("-f", file);
        expect(result.stderr).toBe("");
        return nft("list", "table", "inet", "mattermost_push").stdout;
    };

    beforeAll(() => {
        const created = spawnSync("ip", ["netns", "add", namespace], { encoding: "utf8" });
        if (created.status !== 0) {
            throw new Error(`cannot create a network namespace (run as root): ${created.stderr}`);
        }
    });
    afterAll(() => spawnSync("ip", ["netns", "del", namespace]));

    it("loads twice to the same rules, and a change of CIDRs leaves only the new ones", () => {
        const first = load(["10.20.0.0/24", "192.0.2.7/32"]);
        expect(load(["10.20.0.0/24", "192.0.2.7/32"])).toBe(first);
        expect(first).toContain("10.20.0.0/24");
        const changed = load(["10.30.0.0/24"]);
        expect(changed).toContain("10.30.0.0/24");
        expect(changed).not.toContain("10.20.0.0/24");
        expect(changed).not.toContain("192.0.2.7");
        expect(nft("list", "tables").stdout.trim().split("\n")).toEqual(["table inet mattermost_push"]);
    });
});
