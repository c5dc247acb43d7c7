import * as fs from "node:fs";
import { multipartOverheadBytes, quickReadTimeout, renderNginxConf, type NginxConfInput } from "../../config/nginx";
import { quantityValue } from "../../config/schemas";
import { renderBothStacks } from "../helpers/render";

const input: NginxConfInput = {
    workerProcesses: 2,
    listenPort: 8080,
    healthPort: 8081,
    upstreamFile: "/tmp/guard/upstream.conf",
    keycloakUrl: "http://keycloak.chat.svc.cluster.local:8080",
    dnsResolver: "kube-dns.kube-system.svc.cluster.local",
    maxBodyBytes: 104857600,
    runtimeDir: "/tmp",
};

function directive(conf: string, name: string): string[] {
    return conf
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line.startsWith(`${name} `));
}

/** The body of the first block opened by a line starting with `opening` (e.g. "location /"), braces balanced. */
function block(conf: string, opening: string): string {
    const start = conf.split("\n").findIndex((line) => line.trim().startsWith(`${opening} {`));
    if (start < 0) {
        throw new Error(`no ${opening} block`);
    }
    const lines = conf.split("\n").slice(start);
    let depth = 0;
    const body: string[] = [];
    for (const line of lines) {
        depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
        body.push(line);
        if (depth === 0) {
            break;
        }
    }
    return body.join("\n");
}

/** nginx's `2s`, `300s`, `500ms` as milliseconds. */
function durationMs(value: string): number {
    const match = /^(\d+)(ms|s|m)$/.exec(value);
    if (!match) {
        throw new Error(`${value} is not an nginx duration`);
    }
    return Number(match[1]) * { ms: 1, s: 1000, m: 60000 }[match[2] as "ms" | "s" | "m"];
}

/**
 * The value the conf's `map "$request_method $uri $args" $quick_read` gives a request as a client sends
 * it, evaluated as nginx does: $uri is the path decoded, with dot segments resolved and slashes merged;
 * the regular expressions in order, the first that matches wins, else the default.
 */
function quickRead(conf: string, method: string, sent: string): string {
    const map = block(conf, 'map "$request_method $uri $args" $quick_read');
    const url = new URL(sent, "http://nginx");
    const uri = decodeURIComponent(url.pathname).replace(/\/+/g, "/");
    const key = `${method} ${uri} ${url.search.slice(1)}`;
    const entries = [...map.matchAll(/^\s*"~([^"]+)" (\S+);$/gm)].map((match) => ({
        pattern: new RegExp(match[1].replace(/\\\\/g, "\\")),
        value: match[2],
    }));
    const fallback = /^\s*default (\S+);$/m.exec(map)?.[1];
    if (entries.length === 0 || fallback === undefined) {
        throw new Error("the $quick_read map has no regular expressions or no default");
    }
    return entries.find((entry) => entry.pattern.test(key))?.value ?? fallback;
}

describe("renderNginxConf", () => {
    const conf = renderNginxConf(input);

    it("takes the upstream's servers from the failover guard's file, with keepalive", () => {
        expect(conf).toMatch(
            / {4}upstream mattermost \{\n(\s+#.*\n)+ {8}include \/tmp\/guard\/upstream\.conf;\n(\s+#.*\n)*( {8}zone .*\n) {8}keepalive 32;\n {4}\}/,
        );
    });

    it("shares the servers' failures between the workers, so each does not find a hung primary by itself", () => {
        expect(directive(block(conf, "upstream mattermost"), "zone")).toEqual([
            expect.stringMatching(/^zone mattermost \d+k;$/),
        ]);
    });

    it("counts the websockets' failures apart, on the same servers, so a late request never moves them", () => {
        const websocketLocation = block(conf, "location ~ /api/v[0-9]+/(users/)?websocket$");
        expect(directive(websocketLocation, "proxy_pass")).toEqual(["proxy_pass http://mattermost_websocket;"]);
        const upstream = block(conf, "upstream mattermost_websocket");
        expect(directive(upstream, "include")).toEqual(directive(block(conf, "upstream mattermost"), "include"));
        expect(directive(upstream, "zone")).toEqual([expect.stringMatching(/^zone mattermost_websocket \d+k;$/)]);
    });

    it("sends quick reads to an upstream of their own, on the same servers", () => {
        expect(directive(block(conf, "location @quick_read"), "proxy_pass")).toEqual([
            "proxy_pass http://mattermost_quick;",
        ]);
        const upstream = block(conf, "upstream mattermost_quick");
        expect(directive(upstream, "include")).toEqual(directive(block(conf, "upstream mattermost"), "include"));
        expect(directive(upstream, "zone")).toEqual([expect.stringMatching(/^zone mattermost_quick \d+k;$/)]);
        expect(directive(block(conf, "location /"), "proxy_pass")).toEqual(["proxy_pass http://mattermost;"]);
    });

    it("takes no other spelling of a slow GET for a quick read, and leaves files and link redirects alone", () => {
        for (const uri of [
            "/api/v4/%61nalytics/old",
            "//api/v4/analytics/old",
            "/api/v4/./exports/a.zip",
            "/api/v4/teams/../exports/a.zip",
            "/api/v4/%69mage?url=https://example.com/a.png",
            "/api/v4/redirect_location?url=https://example.com",
            "/api/v4/files/abc",
            "/api/v4/files/abc/preview",
            "/api/v4/system/ping?x=1&get_server_status=true",
        ]) {
            expect([uri, quickRead(conf, "GET", uri)]).toEqual([uri, "0"]);
        }
    });

    it("passes GET and HEAD of the API and static files to @quick_read, and nothing else", () => {
        for (const [method, uri] of [
            ["GET", "/api/v4/system/ping"],
            ["GET", "/api/v4/system/ping?poll=3"],
            ["HEAD", "/api/v4/users/me"],
            ["GET", "/api/v4/channels/abc/posts?page=0&per_page=30"],
            ["GET", "/api/v4/users/abc/image"],
            ["GET", "/static/main.js"],
        ]) {
            expect([method, uri, quickRead(conf, method, uri)]).toEqual([method, uri, "1"]);
        }
        for (const [method, uri] of [
            // Never a method nginx would not replay, nor one it would replay that changes something.
            ["POST", "/api/v4/posts"],
            ["POST", "/api/v4/posts/search"],
            ["PUT", "/api/v4/users/me/patch"],
            ["DELETE", "/api/v4/posts/abc"],
            ["PATCH", "/api/v4/system/ping"],
            // GETs that may think for longer before their first byte.
            ["GET", "/api/v4/analytics/old?name=standard"],
            ["GET", "/api/v4/system/support_packet"],
            ["GET", "/api/v4/system/ping?get_server_status=true"],
            ["GET", "/api/v4/system/ping?device_id=x&get_server_status=true"],
            ["GET", "/api/v4/exports/export.zip"],
            ["GET", "/api/v4/jobs/abc/download"],
            ["GET", "/api/v4/compliance/reports/abc/download"],
            ["GET", "/api/v4/image?url=https%3A%2F%2Fexample.com%2Fa.png"],
            ["GET", "/api/v4/plugins/marketplace"],
            ["GET", "/api/v4/latest_version"],
            ["GET", "/api/v4/logs?page=0"],
            // Outside the API: single-use login callbacks and plugins' own routes.
            ["GET", "/signup/gitlab/complete?code=x&state=y"],
            ["GET", "/oauth/gitlab/complete?code=x"],
            ["GET", "/plugins/com.example/report"],
            ["GET", "/"],
        ]) {
            expect([method, uri, quickRead(conf, method, uri)]).toEqual([method, uri, "0"]);
        }
    });

    it("gives up on a quick read within the 3 s in which the backup's answer is due, and then tries the backup", () => {
        const general = block(conf, "location /");
        expect(directive(general, "error_page")).toEqual(["error_page 418 = @quick_read;"]);
        expect(general).toMatch(/if \(\$quick_read\) \{\n\s+return 418;\n\s+\}/);
        const quick = block(conf, "location @quick_read");
        expect(directive(quick, "proxy_read_timeout")).toEqual([`proxy_read_timeout ${quickReadTimeout};`]);
        expect(directive(quick, "proxy_pass")).toEqual(["proxy_pass http://mattermost_quick;"]);
        // The answer from the backup comes after this timeout (or the connect timeout) and a backup's answer.
        const connect = directive(conf, "proxy_connect_timeout").map((line) => durationMs(line.split(/[ ;]/)[1]));
        expect(Math.max(durationMs(quickReadTimeout), ...connect)).toBeLessThanOrEqual(2000);
        // What passes it on: a timeout counts, and nothing allows a POST that reached the primary to be replayed.
        const nextUpstream = directive(conf, "proxy_next_upstream")[0]?.replace(/;$/, "").split(" ").slice(1);
        expect(nextUpstream).toContain("timeout");
        expect(nextUpstream).not.toContain("non_idempotent");
        expect(Number(directive(conf, "proxy_next_upstream_tries")[0]?.split(/[ ;]/)[1])).toBeGreaterThanOrEqual(2);
    });

    it("waits the server's own 300 s for everything but a quick read", () => {
        expect(directive(block(conf, "location /"), "proxy_read_timeout")).toEqual(["proxy_read_timeout 300s;"]);
    });

    it("runs the workers it is given, not one per CPU of the node", () => {
        expect(directive(conf, "worker_processes")).toEqual(["worker_processes 2;"]);
    });

    it("gives old workers 5 s at a reload, so a reload releases what they hold", () => {
        expect(directive(conf, "worker_shutdown_timeout")).toEqual(["worker_shutdown_timeout 5s;"]);
    });

    it("never allows replaying a non-idempotent request on the backup", () => {
        expect(directive(conf, "proxy_next_upstream")).toEqual([
            "proxy_next_upstream error timeout http_502 http_503 http_504;",
        ]);
    });

    it("keeps websocket idle timeouts above Mattermost's 60 s ping", () => {
        const websocket = block(conf, "location ~ /api/v[0-9]+/(users/)?websocket$");
        const readTimeouts = directive(websocket, "proxy_read_timeout").map((line) =>
            durationMs(line.split(/[ ;]/)[1]),
        );
        expect(readTimeouts).toEqual([90000]);
    });

    it("derives the body limit from MaxFileSize, in one place", () => {
        expect(directive(conf, "client_max_body_size")).toEqual([
            `client_max_body_size ${104857600 + multipartOverheadBytes};`,
        ]);
        expect(directive(renderNginxConf({ ...input, maxBodyBytes: 1000 }), "client_max_body_size")).toEqual([
            `client_max_body_size ${1000 + multipartOverheadBytes};`,
        ]);
    });

    it("detects a dead primary fast inside the cluster", () => {
        expect(directive(conf, "proxy_connect_timeout")).toEqual(["proxy_connect_timeout 2s;"]);
    });

    it("proxies only Keycloak's public paths and refuses the admin console and the master realm", () => {
        expect(conf).toContain("location ^~ /auth/realms/master/ {\n            return 404;");
        expect(conf).toContain("location ^~ /auth/ {\n            return 404;");
        expect(directive(conf, "set")).toEqual([
            "set $keycloak http://keycloak.chat.svc.cluster.local:8080;",
            "set $keycloak http://keycloak.chat.svc.cluster.local:8080;",
        ]);
    });

    it("writes nothing outside the runtime directory", () => {
        const paths = [...conf.matchAll(/_path (\S+);|^pid (\S+);/gm)].map((match) => match[1] ?? match[2]);
        expect(paths.length).toBe(6);
        expect(paths.every((p) => p?.startsWith("/tmp/"))).toBe(true);
    });

    it("sends the forwarded headers from every proxying location (nginx drops inherited ones once a location sets any)", () => {
        const locations = conf.split(/\n\s*location /).slice(1);
        const proxying = locations.filter((block) => block.includes("proxy_pass"));
        expect(proxying.length).toBe(5);
        for (const block of proxying) {
            for (const header of [
                "Host $host",
                "X-Real-IP",
                "X-Forwarded-For",
                "X-Forwarded-Proto",
                "X-Forwarded-Host",
                "X-Forwarded-Port",
                "Connection",
            ]) {
                expect(block).toContain(`proxy_set_header ${header}`);
            }
        }
    });

    it("is deterministic", () => {
        expect(renderNginxConf(input)).toBe(conf);
    });
});

describe("the rendered nginx's workers", () => {
    const stacks = renderBothStacks();
    afterAll(() => Object.values(stacks).forEach((stack) => fs.rmSync(stack.dir, { recursive: true, force: true })));

    it.each(["test", "prod"] as const)("in the %s stack, one per CPU of the nginx container's limit", (stack) => {
        const nginx = stacks[stack].manifests.find(
            (manifest) => manifest.kind === "Deployment" && (manifest.metadata as { name: string }).name === "nginx",
        ) as {
            spec: { template: { spec: { containers: { name: string; resources: { limits: { cpu: string } } }[] } } };
        };
        const limit = nginx.spec.template.spec.containers.find((container) => container.name === "nginx")!.resources
            .limits.cpu;
        const workers = directive(stacks[stack].file("files/nginx/nginx.conf"), "worker_processes");
        expect(workers).toEqual([`worker_processes ${Math.max(1, Math.ceil(quantityValue(limit)))};`]);
    });
});

describe("quantityValue", () => {
    it("reads CPU and memory quantities as Kubernetes does", () => {
        expect(["500m", "2", "1.5", "250m", "1Ki", "2Mi", "1k"].map(quantityValue)).toEqual([
            0.5,
            2,
            1.5,
            0.25,
            1024,
            2 * 1024 * 1024,
            1000,
        ]);
        expect(() => quantityValue("two")).toThrow('"two" is not a Kubernetes quantity');
    });
});
