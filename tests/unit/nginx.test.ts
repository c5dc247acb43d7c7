import * as fs from "node:fs";
import { multipartOverheadBytes, renderNginxConf, type NginxConfInput } from "../../config/nginx";
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

describe("renderNginxConf", () => {
    const conf = renderNginxConf(input);

    it("takes the upstream's servers from the failover guard's file, with keepalive", () => {
        expect(conf).toMatch(
            / {4}upstream mattermost \{\n(\s+#.*\n)+ {8}include \/tmp\/guard\/upstream\.conf;\n {8}keepalive 32;\n {4}\}/,
        );
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
        const readTimeouts = directive(conf, "proxy_read_timeout").map((line) => Number(/(\d+)s;/.exec(line)?.[1]));
        expect(readTimeouts.length).toBeGreaterThan(0);
        expect(Math.min(...readTimeouts)).toBeGreaterThan(60);
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
        expect(proxying.length).toBe(4);
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
