/**
 * The cluster's router for the chat's public hostname, as a pod reaches it: in the cluster the hostname
 * resolves to the router, which terminates TLS (an edge route) and passes the request to nginx with the
 * X-Forwarded-* headers it sets. Here a server process is pointed at it through HTTPS_PROXY: an HTTP
 * CONNECT proxy on loopback that takes tunnels to the public hostname's port 443 only, terminates TLS
 * with a certificate for that hostname, and forwards each request to nginx on loopback. Any other tunnel
 * is refused and recorded, so a call that would leave the test is seen, not made.
 */
import * as http from "node:http";
import * as https from "node:https";
import type * as net from "node:net";

export interface PublicRouter {
    /** `http://127.0.0.1:<port>`, for HTTPS_PROXY. */
    readonly proxyUrl: string;
    /** Each request passed to nginx: method and path. */
    readonly forwarded: string[];
    /** Each tunnel refused: its target. */
    readonly refused: string[];
    stop(): Promise<void>;
}

export interface PublicRouterOptions {
    /** e.g. https://chat.test.example.com */
    readonly publicOrigin: string;
    /** Where nginx listens on loopback. */
    readonly nginxPort: number;
    /** PEM certificate (for the public hostname) and key. */
    readonly certificate: string;
    readonly key: string;
}

export async function startPublicRouter(options: PublicRouterOptions): Promise<PublicRouter> {
    const host = new URL(options.publicOrigin).hostname;
    const forwarded: string[] = [];
    const refused: string[] = [];
    const tunnels = new Set<net.Socket>();

    const edge = https.createServer({ cert: options.certificate, key: options.key }, (incoming, outgoing) => {
        forwarded.push(`${incoming.method} ${incoming.url}`);
        const upstream = http.request(
            {
                host: "127.0.0.1",
                port: options.nginxPort,
                method: incoming.method,
                path: incoming.url,
                headers: {
                    ...incoming.headers,
                    "x-forwarded-proto": "https",
                    "x-forwarded-host": host,
                    "x-forwarded-port": "443",
                    "x-forwarded-for": incoming.socket.remoteAddress ?? "127.0.0.1",
                },
                timeout: 30000,
            },
            (answer) => {
                outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(outgoing);
            },
        );
        upstream.on("timeout", () => upstream.destroy(new Error("nginx did not answer in 30 s")));
        upstream.on("error", () => {
            if (!outgoing.headersSent) {
                outgoing.writeHead(502);
            }
            outgoing.end();
        });
        incoming.pipe(upstream);
    });

    const proxy = http.createServer((_incoming, outgoing) => {
        outgoing.writeHead(405).end("CONNECT only\n");
    });
    proxy.on("connect", (request: http.IncomingMessage, socket: net.Socket) => {
        if (request.url !== `${host}:443`) {
            refused.push(request.url ?? "");
            socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
            return;
        }
        tunnels.add(socket);
        socket.once("close", () => tunnels.delete(socket));
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        edge.emit("connection", socket);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const { port } = proxy.address() as net.AddressInfo;
    return {
        proxyUrl: `http://127.0.0.1:${port}`,
        forwarded,
        refused,
        async stop() {
            for (const socket of tunnels) {
                socket.destroy();
            }
            await new Promise((resolve) => proxy.close(resolve));
            edge.close();
        },
    };
}
