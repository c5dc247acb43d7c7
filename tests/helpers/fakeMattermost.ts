/**
 * A stand-in for one Mattermost server, run as its own process so that a test can kill it for real:
 *   tsx tests/helpers/fakeMattermost.ts --name primary --port 18065 [--host 127.0.0.1] [--die-on-post]
 *       [--tick-ms 250]
 * GET answers {"server": name, "path": ...}; POST is counted (or, with --die-on-post, read and then the
 * process exits without answering, as a server that crashes mid-request); /api/v4/websocket upgrades
 * and greets with {"event": "hello", "server": name, "host": <Host header>}, then, with --tick-ms, sends
 * {"event": "tick", "server": name} at that interval, so a client can tell it is still being served and
 * by whom. GET /__posts tells how many POSTs it answered.
 * A GET with `__delay=<name>:<ms>` in its query is answered that late by the server of that name (the
 * other answers at once), as a busy but healthy server answers a heavy request.
 *
 * A fake, for what needs no toolchain: the fast suite's nginx tests, which kill and hang it on cue, and
 * the benchmark's first section. The real pair runs behind the same nginx in the chat suite
 * (tests/chat/failover.test.ts), the identity suite's logins, and `bench:failover -- --servers real`.
 */
import * as http from "node:http";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";

const { values } = parseArgs({
    options: {
        name: { type: "string" },
        port: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        "die-on-post": { type: "boolean", default: false },
        "tick-ms": { type: "string" },
    },
});
const name = values.name ?? "mattermost";
let posts = 0;

const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
        const reply = (status: number, body: unknown) => {
            response.writeHead(status, { "content-type": "application/json" });
            response.end(JSON.stringify(body));
        };
        if (request.method === "POST") {
            console.log(`POST ${request.url} received`);
            if (values["die-on-post"]) {
                process.exit(1);
            }
            posts += 1;
            reply(201, { server: name, path: request.url });
        } else if (request.url === "/__posts") {
            reply(200, { posts });
        } else {
            const [, delayed, ms] = /[?&]__delay=([a-z]+):(\d+)/.exec(request.url ?? "") ?? [];
            const delayMs = delayed === name ? Number(ms) : 0;
            setTimeout(() => reply(200, { server: name, path: request.url, headers: request.headers }), delayMs);
        }
    });
});

const websockets = new WebSocketServer({ noServer: true });
server.on("upgrade", (request, socket, head) => {
    if (!/^\/api\/v4\/websocket/.test(request.url ?? "")) {
        socket.destroy();
        return;
    }
    websockets.handleUpgrade(request, socket, head, (client) => {
        client.send(JSON.stringify({ event: "hello", server: name, host: request.headers.host }));
        if (values["tick-ms"]) {
            const ticker = setInterval(
                () => client.send(JSON.stringify({ event: "tick", server: name })),
                Number(values["tick-ms"]),
            );
            client.on("close", () => clearInterval(ticker));
        }
    });
});

server.listen(Number(values.port), values.host, () => console.log("ready"));
