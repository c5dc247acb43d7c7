import * as fs from "node:fs";
import { measure } from "../benchmarks/failoverBench";
import { pollServers } from "../benchmarks/realServers";
import { judge, renderTable } from "../benchmarks/report";
import { renderStack, type Rendered } from "../helpers/render";

const faultAt = 10000;
const returnAt = 20000;
const endAt = 40000;
const moments = { faultAt, returnAt, endAt, websockets: 2 };

/** A websocket's messages from one server every 250 ms over [from, to). */
function ticks(id: number, server: string, from: number, to: number) {
    const events = [];
    for (let t = from; t < to; t += 250) {
        events.push({ type: "ws" as const, id, event: "message" as const, server, t });
    }
    return events;
}

describe("the failover benchmark's measures", () => {
    it("times a websocket from the fault until it is served again, after a close or a silence", () => {
        const events = [
            // Closed at the fault, served by the backup 400 ms later.
            ...ticks(0, "primary", 0, faultAt),
            { type: "ws" as const, id: 0, event: "close" as const, t: faultAt + 50 },
            ...ticks(0, "backup", faultAt + 400, endAt),
            // Never closed, but silent for 3 s (a hung server), then served by the backup.
            ...ticks(1, "primary", 0, faultAt),
            ...ticks(1, "backup", faultAt + 3000, endAt),
        ];
        expect(measure(events, moments).websocketsServedAgainMs).toBe(3000);
    });

    it("says so when a websocket was not served again before the return", () => {
        const events = [...ticks(0, "primary", 0, faultAt), ...ticks(1, "primary", 0, endAt)];
        expect(measure(events, moments).websocketsServedAgainMs).toBeNull();
    });

    it("counts the time websockets are served by different servers after the return, and a split at the end", () => {
        const events = [
            ...ticks(0, "backup", 0, endAt),
            // The second is on the primary for 10 s after the return, then on the backup too.
            ...ticks(1, "backup", 0, returnAt),
            ...ticks(1, "primary", returnAt, returnAt + 10000),
            ...ticks(1, "backup", returnAt + 10000, endAt),
        ];
        const measured = measure(events, moments);
        expect(measured.splitWindowMs).toBeGreaterThanOrEqual(10000);
        expect(measured.splitWindowMs).toBeLessThanOrEqual(11000);
        expect(measured.splitAtEnd).toBe(false);
        const stayed = measure([...ticks(0, "backup", 0, endAt), ...ticks(1, "primary", 0, endAt)], moments);
        expect(stayed.splitAtEnd).toBe(true);
    });

    it("counts failed polls and the first answer from the backup before the return", () => {
        const poll = (start: number, end: number, fields: Record<string, unknown>) => ({
            type: "poll" as const,
            id: start,
            start,
            end,
            ...fields,
        });
        const measured = measure(
            [
                poll(9900, 9905, { status: 200, server: "primary" }),
                poll(faultAt + 100, faultAt + 8000, { error: "socket hang up" }),
                poll(faultAt + 2000, faultAt + 2900, { status: 200, server: "backup" }),
                poll(faultAt + 3000, faultAt + 3001, { status: 502 }),
            ],
            moments,
        );
        expect(measured.failedRequests).toBe(2);
        expect(measured.longestRequestMs).toBe(7900);
        expect(measured.firstBackupAnswerMs).toBe(2900);
    });
});

describe("the benchmark's verdicts", () => {
    it("judges the project's rows against the project's targets", () => {
        const row = {
            design: "project" as const,
            failedRequests: 0,
            failures: [],
            longestRequestMs: 100,
            longestStillWaiting: false,
            firstBackupAnswerMs: 100,
            websocketsServedAgainMs: 1200,
            splitWindowMs: 0,
            splitAtEnd: false,
            reloads: 1,
            maxReloadsIn30s: 1,
            guardTimelines: [],
            faultMs: 15000,
            observeMs: 60000,
        };
        const verdicts = judge([
            { ...row, fault: "killed" },
            { ...row, fault: "hung", websocketsServedAgainMs: 16000 },
        ]);
        expect(verdicts.filter((verdict) => !verdict.met).map((verdict) => verdict.target)).toEqual([
            "hung: every websocket served again within 10 s",
        ]);
        expect(renderTable([{ ...row, fault: "killed" }])).toContain(
            "| killed | project | 0 | 100 ms | 100 ms | 1.2 s | 0 ms | no | 1 (1) |",
        );
    });
});

describe("the real servers' polls, told apart by nginx's access log", () => {
    let rendered: Rendered;
    beforeAll(() => {
        rendered = renderStack("test");
    });
    afterAll(() => fs.rmSync(rendered.dir, { recursive: true, force: true }));

    /** An access line as the rendered conf's log_format writes it, with these values. */
    function accessLine(values: Record<string, string>): string {
        const conf = rendered.file("files/nginx/nginx.conf");
        const format = /log_format upstreamlog ((?:'[^']*'\s*)+);/.exec(conf)?.[1];
        if (!format) {
            throw new Error("the rendered nginx.conf has no upstreamlog format");
        }
        const text = [...format.matchAll(/'([^']*)'/g)].map((part) => part[1]).join("");
        return text.replace(/\$(\w+)/g, (_whole, name: string) => values[name] ?? "-");
    }

    it("names each poll by the last upstream nginx tried, the one that answered", () => {
        const log = [
            accessLine({
                request: "GET /api/v4/system/ping?poll=7 HTTP/1.1",
                status: "200",
                upstream_addr: "127.0.0.1:4001",
            }),
            accessLine({
                request: "GET /api/v4/system/ping?poll=8 HTTP/1.1",
                status: "200",
                upstream_addr: "127.0.0.1:4001, 127.0.0.1:4002",
                upstream_status: "504, 200",
            }),
            accessLine({ request: "GET /api/v4/websocket HTTP/1.1", status: "101", upstream_addr: "127.0.0.1:4002" }),
        ].join("\n");
        const servers = pollServers(log, { 4001: "primary", 4002: "backup" });
        expect([...servers]).toEqual([
            [7, "primary"],
            [8, "backup"],
        ]);
    });
});
