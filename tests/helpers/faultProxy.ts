/**
 * A proxy in front of a real server that breaks it on purpose, for fault tests: every request passes to
 * the server unchanged unless a rule matches it, and then the rule's answer replaces the server's (an
 * altered body, or a dropped connection as when the server stops mid-run).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
    | { readonly kind: "drop" }
    /** The server's JSON answer, changed (e.g. a list emptied or cut short). */
    | { readonly kind: "rewrite"; readonly change: (body: unknown) => unknown };

export interface FaultRule {
    /** Matched against `METHOD /path?query`. */
    readonly match: RegExp;
    readonly fault: Fault;
    /** Requests that match but pass before the fault starts (default 0). */
    readonly after?: number;
}

export interface FaultProxy {
    readonly url: string;
    rules: FaultRule[];
    /** `METHOD /path?query` of every request, in order. */
    readonly requests: string[];
    stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
    const state = { rules: [] as FaultRule[], requests: [] as string[], seen: new Map<FaultRule, number>() };
    const server = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            const call = `${request.method} ${request.url}`;
            state.requests.push(call);
            const rule = state.rules.find((candidate) => candidate.match.test(call));
            const seen = rule ? (state.seen.get(rule) ?? 0) : 0;
            if (rule) {
                state.seen.set(rule, seen + 1);
            }
            const active = rule && seen >= (rule.after ?? 0) ? rule.fault : undefined;
            if (active?.kind === "drop") {
                request.socket.destroy();
                return;
            }
            void forward(target, request, Buffer.concat(chunks)).then(
                ({ status, headers, body }) => {
                    const text = active ? JSON.stringify(active.change(JSON.parse(body) as unknown)) : body;
                    response.writeHead(status, { ...headers, "content-length": Buffer.byteLength(text) });
                    response.end(text);
                },
                () => request.socket.destroy(),
            );
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        get rules() {
            return state.rules;
        },
        set rules(rules: FaultRule[]) {
            state.rules = rules;
            state.seen.clear();
        },
        requests: state.requests,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

async function forward(target: string, request: http.IncomingMessage, body: Buffer) {
    const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
            (entry): entry is [string, string] => typeof entry[1] === "string" && entry[0] !== "host",
        ),
    );
    const answer = await fetch(target + request.url, {
        method: request.method,
        headers,
        body: body.length > 0 ? body : undefined,
        redirect: "manual",
    });
    const kept = ["content-type", "location"];
    return {
        status: answer.status,
        headers: Object.fromEntries(
            kept.flatMap((name) => (answer.headers.get(name) ? [[name, answer.headers.get(name)!]] : [])),
        ),
        body: await answer.text(),
    };
}
