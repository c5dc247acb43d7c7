import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    pushPaths,
    renderFirewalldScript,
    renderNftables,
    renderPushFrontNginx,
    renderPushProxyConfig,
    renderPushProxyUnit,
    renderUfwScript,
    type FirewallInput,
} from "../../config/pushProxy";

const firewall: FirewallInput = {
    allowedCidrs: ["10.20.0.0/24", "192.0.2.7/32", "2001:db8::/64"],
    deployerCidrs: ["198.51.100.0/28"],
    sshPort: 22,
};

describe("the push proxy's own files", () => {
    it("listens on loopback only, throttles per caller, and keeps secrets in files of their own", () => {
        const config = JSON.parse(
            renderPushProxyConfig({
                apple: {
                    type: "apple_rn",
                    topic: "com.example.chat",
                    token: { keyId: "ABC123", teamId: "TEAM42" },
                    development: false,
                },
                android: { type: "android_rn" },
                throttlePerSec: 300,
                sendTimeoutSec: 30,
                retryTimeoutSec: 8,
            }),
        ) as Record<string, unknown>;
        expect(config).toMatchObject({
            ListenAddress: "127.0.0.1:8066",
            ThrottleVaryByHeader: "X-Forwarded-For",
            EnableMetrics: false,
            ApplePushSettings: [
                expect.objectContaining({
                    AppleAuthKeyFile: pushPaths.appleAuthKey,
                    ApplePushTopic: "com.example.chat",
                }),
            ],
            AndroidPushSettings: [
                { Type: "android_rn", AndroidApiKey: "", ServiceFileLocation: pushPaths.firebaseServiceAccount },
            ],
        });
    });

    it("runs as its own user, with a private /tmp, no new privileges and an absolute config path", () => {
        const unit = renderPushProxyUnit();
        for (const line of [
            "User=mattermost-push",
            "PrivateTmp=yes",
            "NoNewPrivileges=yes",
            "Restart=on-failure",
            `ExecStart=${pushPaths.binary} --config ${pushPaths.config}`,
        ]) {
            expect(unit.split("\n")).toContain(line);
        }
        expect(pushPaths.config.startsWith("/")).toBe(true);
    });
});

describe("the push host's nginx front", () => {
    const site = renderPushFrontNginx({ serverName: "push.example.com", prefix: "secret", sendTimeoutSec: 30 });
    // The nginx variables that hold the path: the request line, the URI in its forms, and the Referer.
    const pathBearing =
        /^(request|request_uri|uri|document_uri|request_filename|args|query_string|arg_\w+|http_referer)$/;
    // What nginx logs in when access_log names no format.
    const combined = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"';

    it("logs every request in a format without the path, which holds the secret prefix", () => {
        const formats = new Map(
            [...site.matchAll(/^\s*log_format (\S+) ((?:'[^']*'\s*)+);/gm)].map((match) => [match[1], match[2]]),
        );
        const accessLogs = [...site.matchAll(/^\s*access_log ([^;]+);/gm)].map((match) => match[1].split(/\s+/));
        expect(accessLogs.length).toBeGreaterThan(0);
        for (const [target, format] of accessLogs) {
            expect(target).not.toBe("off");
            const variables = [...(format ? (formats.get(format) ?? "") : combined).matchAll(/\$(\w+)/g)].map(
                (match) => match[1],
            );
            expect(variables.length).toBeGreaterThan(0);
            expect(variables.filter((name) => pathBearing.test(name))).toEqual([]);
        }
    });

    it("sends its error lines, which always name the request, nowhere", () => {
        const server = site.slice(site.indexOf("server {"));
        expect([...server.matchAll(/^\s*error_log ([^;]+);/gm)].map((match) => match[1])).toEqual(["/dev/null"]);
    });
});

describe("the push host's firewall", () => {
    it("admits 443 only from the allowed CIDRs, never 8066, and leaves SSH alone", () => {
        const rules = renderNftables(firewall);
        expect(rules).toContain("elements = { 10.20.0.0/24, 192.0.2.7/32 }");
        expect(rules).toContain("elements = { 2001:db8::/64 }");
        expect(rules).toContain("tcp dport { 443, 8066 } drop");
        expect(rules).not.toMatch(/dport 22|flush ruleset/);
    });

    it("is a ruleset nft accepts", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nft-")), "push.nft");
        fs.writeFileSync(file, renderNftables(firewall));
        const check = spawnSync("nft", ["-c", "-f", file], { encoding: "utf8" });
        expect(check.stderr).toBe("");
        expect(check.status).toBe(0);
    });

    it.each([
        ["ufw", renderUfwScript],
        ["firewalld", renderFirewalldScript],
    ])("renders a %s script that shellcheck passes, SSH before anything else", (_name, render) => {
        const script = render(firewall);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fw-")), "firewall.sh");
        fs.writeFileSync(file, script);
        const check = spawnSync("shellcheck", [file], { encoding: "utf8" });
        expect(check.stdout).toBe("");
        expect(check.status).toBe(0);
        const ssh = script.indexOf("198.51.100.0/28");
        const first443 = script.search(/add-source|port 443/);
        expect(ssh).toBeGreaterThan(0);
        expect(ssh).toBeLessThan(first443);
    });
});
