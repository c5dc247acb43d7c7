/**
 * The failover benchmark's users, run as one process next to nginx (in its network namespace):
 *   node --import tsx tests/benchmarks/failoverClients.ts --port 8080 --websockets 5 [--poll-ms 100]
 * A polling client GETs /api/v4/system/ping every poll-ms on a new connection, each request on its own,
 * so a hung one never holds the next back. A kept-alive client polls the same as a browser tab does: one
 * connection, kept alive and reused, one request at a time, the next right after the previous answer or
 * poll-ms after the previous request started, whichever is later. Websocket clients reconnect 100 ms after a close, as the
 * Mattermost apps do, and never time a silent socket out (neither do the apps, short of the 60 s ping).
 * Every event is one JSON line on stdout, with Date.now() times; "add N" on stdin opens N more
 * websockets, "stop" ends it and reports the requests still waiting.
 */
import * as http from "node:http";
import * as readline from "node:readline";
import { parseArgs } from "node:util";
import WebSocket from "ws";

const { values } = parseArgs({
    options: {
        port: { type: "string" },
        websockets: { type: "string", default: "5" },
        "poll-ms": { type: "string", default: "100" },
        token: { type: "string" },
    },
});
const port = Number(values.port);
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const pollMs = Number(values["poll-ms"]);
type Client = "new-connection" | "kept-alive";
const pending = new Map<number, { start: number; client: Client }>();
// One id sequence for both clients: the real servers' polls are told apart by it in nginx's access log.
let nextPoll = 0;
let stopped = false;

/** One GET of the ping; `done` is called once, with its answer or its error. */
function poll(client: Client, agent: http.Agent | false, done?: () => void): void {
    const id = nextPoll++;
    const start = Date.now();
    pending.set(id, { start, client });
    const finish = (fields: Record<string, unknown>) => {
        if (pending.delete(id)) {
            emit({ type: "poll", client, id, start, end: Date.now(), ...fields });
            done?.();
        }
    };
    const request = http.get({ host: "127.0.0.1", port, path: `/api/v4/system/ping?poll=${id}`, agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
            let server: string | undefined;
            try {
                server = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { server?: string }).server;
            } catch {
                server = undefined;
            }
            finish({ status: response.statusCode, server });
        });
        response.on("error", (error) => finish({ error: error.message }));
    });
    request.on("error", (error) => finish({ error: error.message }));
}

/** The browser tab: no timeout of its own, and an error is a failed request (nothing is retried). */
const tab = new http.Agent({ keepAlive: true, maxSockets: 1 });
function keptAlivePoll(): void {
    if (stopped) {
        return;
    }
    const start = Date.now();
    poll("kept-alive", tab, () => setTimeout(keptAlivePoll, Math.max(0, start + pollMs - Date.now())));
}

let nextSocket = 0;
const sockets: WebSocket[] = [];
function openWebsocket(id = nextSocket++): void {
    if (stopped) {
        return;
    }
    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v4/websocket`, {
        headers: values.token ? { authorization: `Bearer ${values.token}` } : {},
    });
    sockets[id] = socket;
    let hostname: string | undefined;
    socket.on("open", () => emit({ type: "ws", id, event: "open", t: Date.now() }));
    socket.on("message", (data: WebSocket.RawData) => {
        const text = Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
        const message = JSON.parse(text) as { server?: string; event?: string; data?: { server_hostname?: string } };
        if (message.event === "hello") {
            hostname = message.data?.server_hostname;
        }
        emit({ type: "ws", id, event: "message", server: message.server ?? hostname, t: Date.now() });
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
        emit({ type: "ws", id, event: "close", t: Date.now() });
        setTimeout(() => openWebsocket(id), 100);
    });
}

const poller = setInterval(() => poll("new-connection", false), pollMs);
keptAlivePoll();
for (let i = 0; i < Number(values.websockets); i++) {
    openWebsocket();
}
readline.createInterface({ input: process.stdin }).on("line", (line) => {
    const [command, argument] = line.trim().split(/\s+/);
    if (command === "add") {
        for (let i = 0; i < Number(argument); i++) {
            openWebsocket();
        }
    } else if (command === "stop") {
        stopped = true;
        clearInterval(poller);
        const now = Date.now();
        for (const [id, { start, client }] of pending) {
            emit({ type: "poll", client, id, start, end: now, error: "still waiting at the end" });
        }
        tab.destroy();
        sockets.forEach((socket) => socket.terminate());
        emit({ type: "stopped", t: now });
        process.exit(0);
    }
});
emit({ type: "started", t: Date.now() });
