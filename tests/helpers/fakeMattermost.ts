/**
 * A stand-in for one Mattermost server, run as its own process so that a test can kill it for real:
 *   tsx tests/helpers/fakeMattermost.ts --name primary --port 18065 [--die-on-post]
 * GET answers {"server": name, "path": ...}; POST is counted (or, with --die-on-post, read and then the
 * process exits without answering, as a server that crashes mid-request); /api/v4/websocket upgrades
 * and greets with {"event": "hello", "server": name, "host": <Host header>}. GET /__posts tells how many POSTs it answered.
 */
import * as http from "node:http";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";

const { values } = parseArgs({
    options: { name: { type: "string" }, port: { type: "string" }, "die-on-post": { type: "boolean", default: false } },
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
            reply(200, { server: name, path: request.url, headers: request.headers });
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
    });
});

server.listen(Number(values.port), "127.0.0.1", () => console.log("ready"));
