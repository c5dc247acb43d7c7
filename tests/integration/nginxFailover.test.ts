/**
 * The rendered nginx.conf of the test stack, run by real nginx in front of two fake Mattermost servers
 * (separate processes, killed for real) and a fake Keycloak, all on loopback. Bounded: every loop has a
 * fixed number of requests and a deadline.
 */
import { spawnSync } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import WebSocket from "ws";
import {
    checkConf,
    freePort,
    localize,
    makeRuntimeDir,
    nginxBinary,
    prepareGuard,
    renderedPodNames,
    request,
    startFakeKeycloak,
    startFakeMattermost,
    startGuard,
    startNginx,
    stopProcess,
    waitFor,
    type Addresses,
    type FakeKeycloak,
    type FakeServer,
    type PodNames,
    type RunningGuard,
    type RunningNginx,
} from "../helpers/nginxHarness";
import { renderStack, type Rendered } from "../helpers/render";

let rendered: Rendered;
let pod: PodNames;

beforeAll(() => {
    if (!nginxBinary) {
        throw new Error("nginx is not installed: apt-get install nginx-light (.ci/run does this)");
    }
    rendered = renderStack("test");
    pod = renderedPodNames(rendered);
}, 60000);

afterAll(() => fs.rmSync(rendered.dir, { recursive: true, force: true }));

interface Environment {
    readonly local: Addresses;
    readonly nginx: RunningNginx;
    readonly primary: FakeServer;
    readonly backup: FakeServer;
    readonly keycloak: FakeKeycloak;
    readonly guard: RunningGuard;
    stop(): Promise<void>;
}

interface EnvironmentOptions {
    readonly primaryDiesOnPost?: boolean;
    /** Another stack's render and pod names; the test stack's by default. */
    readonly stack?: { readonly rendered: Rendered; readonly pod: PodNames };
    readonly syslogPorts?: Addresses["syslogPorts"];
}

async function environment(options: EnvironmentOptions = {}): Promise<Environment> {
    const local: Addresses = {
        listenPort: await freePort(),
        healthPort: await freePort(),
        primaryPort: await freePort(),
        backupPort: await freePort(),
        keycloakPort: await freePort(),
        runtimeDir: makeRuntimeDir(),
        syslogPorts: options.syslogPorts,
    };
    const confFile = path.join(local.runtimeDir, "nginx.conf");
    const stack = options.stack ?? { rendered, pod };
    fs.writeFileSync(confFile, localize(stack.rendered.file("files/nginx/nginx.conf"), stack.pod, local));
    const guardCommand = prepareGuard(stack.rendered, stack.pod, local);
    const primary = await startFakeMattermost("primary", local.primaryPort, { dieOnPost: options.primaryDiesOnPost });
    const backup = await startFakeMattermost("backup", local.backupPort);
    const keycloak = await startFakeKeycloak(local.keycloakPort);
    let nginx: RunningNginx;
    try {
        nginx = await startNginx(confFile, local.healthPort);
    } catch (error) {
        await Promise.all([stopProcess(primary.process), stopProcess(backup.process)]);
        await new Promise((resolve) => keycloak.server.close(resolve));
        throw error;
    }
    // The guard runs beside nginx, as in the pod.
    const guard = startGuard(guardCommand, path.join(local.runtimeDir, "guard.log"));
    return {
        local,
        nginx,
        primary,
        backup,
        keycloak,
        guard,
        async stop() {
            await guard.stop();
            await nginx.stop();
            await Promise.all([stopProcess(primary.process), stopProcess(backup.process)]);
            await new Promise((resolve) => keycloak.server.close(resolve));
            fs.rmSync(local.runtimeDir, { recursive: true, force: true });
        },
    };
}

/** The rendered guard container's liveness probe, run here as the kubelet would run it in the pod. */
function guardProbe(stack: Rendered, runtimeDir: string): string[] {
    const deployment = stack.manifests.find(
        (manifest) => manifest.kind === "Deployment" && (manifest.metadata as { name: string }).name === "nginx",
    ) as { spec: { template: { spec: { containers: { name: string; livenessProbe?: unknown }[] } } } } | undefined;
    const guard = deployment?.spec.template.spec.containers.find((container) => container.name === "failover-guard");
    const probe = guard?.livenessProbe as { exec?: { command: string[] } } | undefined;
    const [node, ...args] = probe?.exec?.command ?? [];
    if (node !== "node") {
        throw new Error(
            `the rendered failover guard has no node liveness probe: ${JSON.stringify(guard?.livenessProbe)}`,
        );
    }
    return [
        process.execPath,
        ...args.map((arg) => (arg.startsWith("/tmp/") ? `${runtimeDir}/${arg.slice("/tmp/".length)}` : arg)),
    ];
}

/** The heartbeat file the probe reads: the guard's view of both servers in its last round. */
function guardHeartbeat(stack: Rendered, runtimeDir: string): { file: string; seen: () => Record<string, unknown> } {
    const file = guardProbe(stack, runtimeDir).find((arg) => arg.startsWith(`${runtimeDir}/`));
    if (!file) {
        throw new Error("the guard's liveness probe names no file in the runtime directory");
    }
    // Nothing seen yet until the guard's first round has written the file.
    const seen = () =>
        fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : {};
    return { file, seen };
}

/** The rendered nginx.conf's `location @quick_read` block. */
function quickReadBlock(stack: Rendered): string {
    const block = /location @quick_read \{([^}]*)\}/.exec(stack.file("files/nginx/nginx.conf"))?.[1];
    if (!block) {
        throw new Error("the rendered nginx.conf has no location @quick_read");
    }
    return block;
}

function servedBy(body: string): string {
    return (JSON.parse(body) as { server: string }).server;
}

function messageText(data: WebSocket.RawData): string {
    return Buffer.isBuffer(data)
        ? data.toString("utf8")
        : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString("utf8");
}

/** A websocket client that reconnects on close, as the Mattermost apps do, and records who greeted it. */
class ReconnectingClient {
    public readonly greetings: string[] = [];
    private socket?: WebSocket;
    private stopped = false;
    private attempts = 0;

    constructor(private readonly port: number) {
        this.connect();
    }

    private connect(): void {
        if (this.stopped || this.attempts >= 40) {
            return;
        }
        this.attempts += 1;
        const socket = new WebSocket(`ws://127.0.0.1:${this.port}/api/v4/websocket`, { handshakeTimeout: 3000 });
        this.socket = socket;
        socket.on("message", (data: WebSocket.RawData) => {
            this.greetings.push((JSON.parse(messageText(data)) as { server: string }).server);
        });
        socket.on("error", () => undefined);
        socket.on("close", () => setTimeout(() => this.connect(), 100));
    }

    get last(): string | undefined {
        return this.greetings[this.greetings.length - 1];
    }

    stop(): void {
        this.stopped = true;
        this.socket?.terminate();
    }
}

describe("the rendered nginx.conf in real nginx", () => {
    it("passes nginx -t with only ports, paths and upstream addresses changed", () => {
        const runtimeDir = makeRuntimeDir();
        try {
            const confFile = path.join(runtimeDir, "nginx.conf");
            const local = {
                listenPort: 18080,
                healthPort: 18081,
                primaryPort: 18065,
                backupPort: 18066,
                keycloakPort: 18090,
                runtimeDir,
            };
            fs.writeFileSync(confFile, localize(rendered.file("files/nginx/nginx.conf"), pod, local));
            prepareGuard(rendered, pod, local);
            const check = checkConf(confFile);
            expect(check.output).toContain("test is successful");
            expect(check.status).toBe(0);
        } finally {
            fs.rmSync(runtimeDir, { recursive: true, force: true });
        }
    });

    describe("with a healthy primary", () => {
        let env: Environment;
        beforeAll(async () => {
            env = await environment();
        }, 60000);
        afterAll(() => env?.stop());

        it("sends every request to the primary", async () => {
            const servers: string[] = [];
            for (let i = 0; i < 20; i += 1) {
                const response = await request(env.local.listenPort, { path: `/api/v4/users/me?i=${i}` });
                expect(response.status).toBe(200);
                servers.push(servedBy(response.body));
            }
            expect(new Set(servers)).toEqual(new Set(["primary"]));
        });

        it("upgrades websockets and passes them to the primary with the client's Host (Mattermost's origin check)", async () => {
            const greeting = await new Promise<{ server: string; host: string }>((resolve, reject) => {
                const socket = new WebSocket(`ws://127.0.0.1:${env.local.listenPort}/api/v4/websocket`, {
                    handshakeTimeout: 3000,
                    headers: { host: "chat.test.example.com" },
                });
                socket.once("message", (data: WebSocket.RawData) => {
                    socket.close();
                    resolve(JSON.parse(messageText(data)) as { server: string; host: string });
                });
                socket.once("error", reject);
            });
            expect(greeting).toEqual({ event: "hello", server: "primary", host: "chat.test.example.com" });
        });

        it("forwards the client's host, address and scheme", async () => {
            const response = await request(env.local.listenPort, {
                path: "/api/v4/system/ping",
                headers: { host: "chat.test.example.com", "x-forwarded-proto": "https" },
            });
            const headers = (JSON.parse(response.body) as { headers: Record<string, string> }).headers;
            expect(headers.host).toBe("chat.test.example.com");
            expect(headers["x-forwarded-proto"]).toBe("https");
            expect(headers["x-forwarded-for"]).toBe("127.0.0.1");
            expect(headers["x-real-ip"]).toBe("127.0.0.1");
        });

        it("refuses a body above Mattermost's MaxFileSize before reading it", async () => {
            const response = await request(env.local.listenPort, {
                method: "POST",
                path: "/api/v4/files",
                headers: { "content-length": String(200 * 1024 * 1024) },
            }).catch((error: Error) => ({ status: -1, body: error.message, headers: {} }));
            expect(response.status).toBe(413);
            expect(JSON.parse((await request(env.local.primaryPort, { path: "/__posts" })).body)).toEqual({ posts: 0 });
        });

        it("sends /auth/realms/... to Keycloak with its path and forwarded headers intact", async () => {
            const response = await request(env.local.listenPort, {
                path: "/auth/realms/mattermost/.well-known/openid-configuration",
                headers: { host: "chat.test.example.com", "x-forwarded-proto": "https" },
            });
            expect(response.status).toBe(200);
            expect(JSON.parse(response.body)).toEqual({
                keycloak: true,
                path: "/auth/realms/mattermost/.well-known/openid-configuration",
            });
            const seen = env.keycloak.seen.at(-1);
            expect(seen?.headers["x-forwarded-host"]).toBe("chat.test.example.com");
            expect(seen?.headers["x-forwarded-proto"]).toBe("https");
            expect(seen?.headers["x-forwarded-port"]).toBe("443");
        });

        it("runs a guard whose rendered liveness probe passes while it works and fails once it stops", async () => {
            const [program, ...args] = guardProbe(rendered, env.local.runtimeDir);
            const probe = () => spawnSync(program ?? process.execPath, args, { encoding: "utf8" });
            // Its first heartbeat comes after its first round, which a busy machine may delay past the tests before.
            const { file: heartbeat, seen } = guardHeartbeat(rendered, env.local.runtimeDir);
            await waitFor(() => Promise.resolve(seen().primary !== undefined), 10000, "the guard's first heartbeat");
            expect(probe().status).toBe(0);
            // Stopped (as a wedged guard is) and its last heartbeat older than the probe allows.
            const maxAgeMs = Number(args[args.length - 1]);
            expect(maxAgeMs).toBeGreaterThan(0);
            env.guard.process.kill("SIGSTOP");
            try {
                const stale = (Date.now() - maxAgeMs - 1000) / 1000;
                fs.utimesSync(heartbeat, stale, stale);
                const failed = probe();
                expect(failed.status).toBe(1);
                expect(failed.stderr).toContain("no failover-guard heartbeat");
            } finally {
                env.guard.process.kill("SIGCONT");
            }
        });

        it.each([
            "/auth/admin/master/console/",
            "/auth/admin/realms/mattermost/users",
            "/auth/realms/master/protocol/openid-connect/auth",
            "/auth/",
        ])("refuses %s publicly, without asking Keycloak", async (publicPath) => {
            const before = env.keycloak.seen.length;
            const response = await request(env.local.listenPort, { path: publicPath });
            expect(response.status).toBe(404);
            expect(env.keycloak.seen.length).toBe(before);
        });
    });

    it("fails over to the backup when the primary dies: no failed GET, websockets reconnect to the backup", async () => {
        const env = await environment();
        // Whatever keeps the websockets off the primary is named: the guard's decisions and who greeted whom.
        const explained = (error: unknown) => {
            throw new Error(
                `${String(error)}; greetings: ${JSON.stringify(clients.map((client) => client.greetings))}; ` +
                    `the guard logged:\n${env.guard.log()}`,
            );
        };
        const heartbeat = guardHeartbeat(rendered, env.local.runtimeDir);
        const clients: ReconnectingClient[] = [];
        try {
            // The guard's first round, before anyone connects, so that what the test sees of the primary is
            // what the guard has seen too.
            await waitFor(
                () => Promise.resolve(heartbeat.seen().primary === "ok" && heartbeat.seen().backup === "ok"),
                10000,
                "the guard to see both servers healthy",
            ).catch((error: unknown) => {
                throw new Error(`${String(error)}; the guard logged:\n${env.guard.log()}`);
            });
            clients.push(...[0, 1, 2].map(() => new ReconnectingClient(env.local.listenPort)));
            await waitFor(
                () => Promise.resolve(clients.every((client) => client.last === "primary")),
                5000,
                "websockets on the primary",
            ).catch(explained);
            const results: { status: number; server?: string }[] = [];
            const started = Date.now();
            let killed = false;
            // 150 polls, 20 ms apart: about 3 s, with the primary killed after the first 25.
            for (let i = 0; i < 150; i += 1) {
                if (i === 25) {
                    env.primary.process.kill("SIGKILL");
                    killed = true;
                }
                const response = await request(env.local.listenPort, { path: `/api/v4/channels?poll=${i}` }).catch(
                    () => ({ status: 0, body: "" }),
                );
                results.push({
                    status: response.status,
                    server: response.status === 200 ? servedBy(response.body) : undefined,
                });
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
            expect(killed).toBe(true);
            expect(Date.now() - started).toBeLessThan(20000);
            expect(results.filter((result) => result.status !== 200)).toEqual([]);
            expect(results.slice(0, 25).every((result) => result.server === "primary")).toBe(true);
            expect(results.slice(30).every((result) => result.server === "backup")).toBe(true);
            await waitFor(
                () => Promise.resolve(clients.every((client) => client.last === "backup")),
                5000,
                "websockets on the backup",
            ).catch(explained);
            // A killed primary refuses connections: nginx fails over by itself, and a reload would only
            // have cut the websockets that had just moved.
            expect(env.guard.log()).not.toContain('"event":"reloaded"');
        } finally {
            clients.forEach((client) => client.stop());
            await env.stop();
        }
    }, 60000);

    it("answers a browser tab's kept-alive connection from the backup within 3 s of a hung primary, losing no request", async () => {
        const env = await environment();
        const heartbeat = guardHeartbeat(rendered, env.local.runtimeDir);
        // As a browser tab: one connection, kept alive and reused, one request at a time, no timeout of its own.
        const tab = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const polls: { start: number; end: number; status: number; server?: string; error?: string }[] = [];
        const poll = (i: number) =>
            new Promise<void>((resolve) => {
                const start = Date.now();
                const done = (result: { status: number; server?: string; error?: string }) => {
                    polls.push({ start, end: Date.now(), ...result });
                    resolve();
                };
                http.get(
                    {
                        host: "127.0.0.1",
                        port: env.local.listenPort,
                        path: `/api/v4/system/ping?poll=${i}`,
                        agent: tab,
                    },
                    (response) => {
                        let body = "";
                        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
                        response.on("end", () =>
                            done({
                                status: response.statusCode ?? 0,
                                server: response.statusCode === 200 ? servedBy(body) : undefined,
                            }),
                        );
                        response.on("error", (error) => done({ status: 0, error: error.message }));
                    },
                ).on("error", (error) => done({ status: 0, error: error.message }));
            });
        let faultAt = 0;
        let post: Promise<unknown> = Promise.resolve();
        try {
            await waitFor(
                () => Promise.resolve(heartbeat.seen().primary === "ok" && heartbeat.seen().backup === "ok"),
                10000,
                "the guard to see both servers healthy",
            );
            // Polls every 100 ms (or right after a slower answer), the primary hung after the tenth, and watched
            // for 9 s more: past the guard's reload and the 5 s its old workers keep what they hold.
            for (let i = 0; faultAt === 0 || Date.now() - faultAt < 9000; i += 1) {
                if (i === 10) {
                    env.primary.process.kill("SIGSTOP");
                    faultAt = Date.now();
                    // A POST reaching the hung primary is never passed to the backup, however long it waits.
                    post = request(env.local.listenPort, { method: "POST", path: "/api/v4/posts", body: "{}" }).catch(
                        (error: Error) => error,
                    );
                }
                const start = Date.now();
                await poll(i);
                await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + 100 - Date.now())));
            }
            const before = polls.filter((result) => result.start < faultAt);
            const after = polls.filter((result) => result.start >= faultAt);
            expect(before.map((result) => result.server)).toEqual(before.map(() => "primary"));
            expect(after.filter((result) => result.status !== 200)).toEqual([]);
            const firstFromBackup = after.find((result) => result.server === "backup");
            expect(firstFromBackup).toBeDefined();
            expect((firstFromBackup?.end ?? Infinity) - faultAt).toBeLessThanOrEqual(3000);
            expect(Math.max(...after.map((result) => result.end - result.start))).toBeLessThanOrEqual(3000);
            expect(after.slice(after.indexOf(firstFromBackup!)).every((result) => result.server === "backup")).toBe(
                true,
            );
            // The guard took the primary out meanwhile: the reload did not cost the tab a request either.
            expect(env.guard.log()).toContain('"marked":"backup-only"');
            await post;
            expect(JSON.parse((await request(env.local.backupPort, { path: "/__posts" })).body)).toEqual({ posts: 0 });
        } finally {
            tab.destroy();
            env.primary.process.kill("SIGCONT");
            await env.stop();
        }
    }, 60000);

    it("keeps writes and websockets on a healthy primary that answered one quick read late", async () => {
        const env = await environment();
        const clients: ReconnectingClient[] = [];
        try {
            // A GET the primary answers later than nginx waits for a quick read: nginx passes it to the
            // backup and counts the primary as failed, for requests.
            const lateMs = Number(/proxy_read_timeout (\d+)s;/.exec(quickReadBlock(rendered))?.[1]) * 1000 + 1000;
            const late = await request(env.local.listenPort, { path: `/api/v4/users/me?__delay=primary:${lateMs}` });
            expect(late.status).toBe(200);
            expect(servedBy(late.body)).toBe("backup");
            expect(servedBy((await request(env.local.listenPort, { path: "/api/v4/users/me" })).body)).toBe("backup");
            // Writes stay on the primary: only quick reads count its late answer.
            const write = await request(env.local.listenPort, { method: "POST", path: "/api/v4/posts", body: "{}" });
            expect(servedBy(write.body)).toBe("primary");
            // A websocket opened now still goes to the primary: it never fails over on a late request.
            clients.push(new ReconnectingClient(env.local.listenPort));
            await waitFor(() => Promise.resolve(clients[0]?.last !== undefined), 5000, "a websocket greeting");
            expect(clients[0]?.greetings).toEqual(["primary"]);
        } finally {
            clients.forEach((client) => client.stop());
            await env.stop();
        }
    }, 60000);

    it("never replays a POST that reached the primary before it died", async () => {
        const env = await environment({ primaryDiesOnPost: true });
        try {
            const response = await request(env.local.listenPort, {
                method: "POST",
                path: "/api/v4/posts",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ channel_id: "c1", message: "sent once" }),
            });
            await waitFor(() => Promise.resolve(env.primary.process.exitCode !== null), 5000, "the primary to die");
            expect(env.primary.output()).toContain("POST /api/v4/posts received");
            expect(response.status).toBe(502);
            expect(JSON.parse((await request(env.local.backupPort, { path: "/__posts" })).body)).toEqual({ posts: 0 });
            // The primary is gone now, so the next POST never reaches it and the backup takes it.
            const next = await request(env.local.listenPort, { method: "POST", path: "/api/v4/posts", body: "{}" });
            expect(next.status).toBe(201);
            expect(servedBy(next.body)).toBe("backup");
        } finally {
            await env.stop();
        }
    }, 60000);

    describe("the prod stack's nginx.conf, which ships its logs to the Filebeat sidecar", () => {
        let prod: Rendered;
        let env: Environment;
        const received: { access: string[]; error: string[] } = { access: [], error: [] };
        const sockets: dgram.Socket[] = [];

        async function listen(into: string[]): Promise<number> {
            const socket = dgram.createSocket("udp4");
            sockets.push(socket);
            socket.on("message", (message) => into.push(message.toString("utf8")));
            await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
            return socket.address().port;
        }

        beforeAll(async () => {
            prod = renderStack("prod");
            const syslogPorts = { access: await listen(received.access), error: await listen(received.error) };
            env = await environment({ stack: { rendered: prod, pod: renderedPodNames(prod) }, syslogPorts });
        }, 60000);

        afterAll(async () => {
            await env?.stop();
            sockets.forEach((socket) => socket.close());
            fs.rmSync(prod.dir, { recursive: true, force: true });
        });

        it("sends one JSON access line per request as syslog", async () => {
            const response = await request(env.local.listenPort, { path: "/api/v4/system/ping?shipped=1" });
            expect(response.status).toBe(200);
            await waitFor(
                () => Promise.resolve(received.access.some((line) => line.includes("shipped=1"))),
                5000,
                "the access line",
            );
            const line = received.access.find((entry) => entry.includes("shipped=1")) ?? "";
            // RFC 3164 without a host name, as nginx sends it with nohostname: "<pri>timestamp tag: message".
            const match = /^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d nginx: (\{.*\})$/.exec(line);
            expect(match).not.toBeNull();
            const entry = JSON.parse(match?.[1] ?? "{}") as Record<string, unknown>;
            expect(entry).toMatchObject({
                request: "GET /api/v4/system/ping?shipped=1 HTTP/1.1",
                status: 200,
                remote_addr: "127.0.0.1",
            });
            expect(entry.upstream_addr).toBe(`127.0.0.1:${env.local.primaryPort}`);
        });

        it("sends its errors as syslog too", async () => {
            await new Promise<void>((resolve) => env.keycloak.server.close(() => resolve()));
            const response = await request(env.local.listenPort, { path: "/auth/realms/mattermost/account" });
            expect(response.status).toBe(502);
            await waitFor(
                () => Promise.resolve(received.error.some((line) => line.includes("connect() failed"))),
                5000,
                "the error line",
            );
            expect(received.error.find((line) => line.includes("connect() failed"))).toMatch(
                /^<\d+>.* nginx: .*Connection refused/,
            );
            env.keycloak.server.listen(env.local.keycloakPort, "127.0.0.1");
        });
    });
});
