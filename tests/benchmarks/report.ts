/** The failover benchmark's tables, their verdicts against the project's targets, and docs/benchmarks.md. */
import type { PollMeasures, ScenarioResult } from "./failoverBench";

export interface BenchmarkRun {
    readonly date: string;
    readonly machine: string;
    readonly renderMs: number;
    readonly results: readonly ScenarioResult[];
}

export interface Verdict {
    readonly target: string;
    readonly measured: string;
    readonly met: boolean;
}

const seconds = (ms: number | null, stillWaiting = false) =>
    ms === null
        ? "none before the return"
        : `${stillWaiting ? ">" : ""}${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`;

/** A target's bound as said: 3 s, 1.5 s. */
const limit = (ms: number) => `${ms / 1000} s`;

/** The targets, the users' own numbers: nobody fails, waits long, or stays apart from the others. */
export const targets = {
    firstBackupAnswerMs: 3000,
    websocketsServedAgainMs: 10000,
    /** The killed primary's websockets, which nginx moves by itself. */
    killedWebsocketsBackMs: 1500,
    longestRequestMs: 15000,
    splitWindowMs: 5000,
    reloadsIn30s: 1,
    renderMs: 5000,
} as const;

/** The project's targets, judged on its rows: for every fault, both polling clients and the websockets. */
export function judge(results: readonly ScenarioResult[], renderMs?: number): Verdict[] {
    const verdicts: Verdict[] = [];
    const check = (target: string, measured: string, met: boolean) => verdicts.push({ target, measured, met });
    for (const result of results.filter((candidate) => candidate.design === "project")) {
        const fault = result.fault;
        const clients = [
            { name: "new connections", measures: result as PollMeasures },
            ...(result.keptAlive ? [{ name: "kept-alive", measures: result.keptAlive }] : []),
        ];
        const each = (measure: (measures: PollMeasures) => string) =>
            clients.map((client) => `${client.name} ${measure(client.measures)}`).join(", ");
        check(
            `${fault}: no failed request (${clients.map((client) => client.name).join(", ")})`,
            each((measures) => String(measures.failedRequests)),
            clients.every((client) => client.measures.failedRequests === 0),
        );
        check(
            `${fault}: first answer from the backup within ${limit(targets.firstBackupAnswerMs)} of the fault`,
            each((measures) => seconds(measures.firstBackupAnswerMs)),
            clients.every(
                (client) =>
                    client.measures.firstBackupAnswerMs !== null &&
                    client.measures.firstBackupAnswerMs <= targets.firstBackupAnswerMs,
            ),
        );
        check(
            `${fault}: no request waiting longer than ${limit(targets.longestRequestMs)}`,
            each((measures) => seconds(measures.longestRequestMs, measures.longestStillWaiting)),
            clients.every((client) => client.measures.longestRequestMs <= targets.longestRequestMs),
        );
        const websocketsWithin = fault === "killed" ? targets.killedWebsocketsBackMs : targets.websocketsServedAgainMs;
        check(
            `${fault}: every websocket served again within ${limit(websocketsWithin)}`,
            seconds(result.websocketsServedAgainMs),
            result.websocketsServedAgainMs !== null && result.websocketsServedAgainMs <= websocketsWithin,
        );
        check(
            `${fault}, after the return: split window at most ${limit(targets.splitWindowMs)}, none at the end`,
            `${seconds(result.splitWindowMs)}${result.splitAtEnd ? ", split at the end" : ""}`,
            result.splitWindowMs <= targets.splitWindowMs && !result.splitAtEnd,
        );
        check(
            `${fault}: nginx reloads at most once per 30 s`,
            `${result.reloads} reload(s), at most ${result.maxReloadsIn30s} in 30 s`,
            result.maxReloadsIn30s <= targets.reloadsIn30s,
        );
    }
    if (renderMs !== undefined) {
        check(
            `npm run render -- --stack prod under ${limit(targets.renderMs)}`,
            seconds(renderMs),
            renderMs < targets.renderMs,
        );
    }
    return verdicts;
}

/** The kept-alive client's row of each scenario, beside the main table. */
export function renderKeptAliveTable(results: readonly ScenarioResult[]): string {
    const header = ["primary", "design", "failed requests", "longest wait", "first answer from the backup"];
    const rows = results.map((result) =>
        result.keptAlive
            ? [
                  result.fault,
                  result.design,
                  String(result.keptAlive.failedRequests),
                  seconds(result.keptAlive.longestRequestMs, result.keptAlive.longestStillWaiting),
                  seconds(result.keptAlive.firstBackupAnswerMs),
              ]
            : [result.fault, result.design, "-", "-", "-"],
    );
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function renderTable(results: readonly ScenarioResult[]): string {
    const header = [
        "primary",
        "design",
        "failed GETs",
        "longest request",
        "first answer from the backup",
        "every websocket served again",
        "split window after the return",
        "split at the end",
        "nginx reloads (most in 30 s)",
    ];
    const rows = results.map((result) => [
        result.fault,
        result.design,
        String(result.failedRequests),
        seconds(result.longestRequestMs, result.longestStillWaiting),
        seconds(result.firstBackupAnswerMs),
        seconds(result.websocketsServedAgainMs),
        seconds(result.splitWindowMs),
        result.splitAtEnd ? "yes" : "no",
        `${result.reloads} (${result.maxReloadsIn30s})`,
    ]);
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** How the servers, the users and the faults are made, for fakes or for the real pair. */
function setUp(
    servers: "fake" | "real",
    lateEverySeconds: number,
): { title: string; setUp: string; blackhole: string; reading: string } {
    const users = `The users: one client
GETs \`/api/v4/system/ping\` every 100 ms, each request on a new connection and on its own (a hung one never
holds the next back); another polls it as a browser tab does, on one kept-alive connection (a Node
\`http.Agent\` with \`keepAlive\` and \`maxSockets: 1\`), one request at a time, the next right after the
previous answer or 100 ms after the previous request started, whichever is later, with no timeout of
its own and no retry; five websocket clients connect before the fault and five more arrive after the
primary returns, one every ${lateEverySeconds} s. A websocket client reconnects 100 ms after a close, and
never times out a silent socket itself (neither do the Mattermost apps, short of the server's 60 s ping).`;
    if (servers === "fake") {
        return {
            title: "Failover benchmark",
            setUp: `Real nginx (Debian's) in front of two fake Mattermost servers, each in a network namespace of its own
joined by a bridge: the front (nginx, the failover guard, the users) and the primary and the backup. The
fakes answer the API and hold websockets, sending a message on each every 250 ms. ${users}`,
            blackhole: "nftables drops every packet in and out of the primary's namespace",
            reading: `Reading it: with a hung or unreachable primary, the original design's requests wait for the
primary's return (its zero failed GETs are requests that waited that long), and its split after the
return lasts to the end of the measurement: the websockets that moved to the backup stay there, while
newcomers land on the primary. In the project's design nginx gives up on a GET of the API after the
quick reads' read timeout (or the connect timeout, for an unreachable primary), passes it to the backup,
and counts the primary as failed, so the quick reads after it skip the primary at once; the guard's reload
follows and its 5 s drain releases the websockets. The kept-alive client's longest wait is that one
timeout. A POST already sent to a hung primary (the users here send none) is never replayed: it still
waits until the guard's reload cuts it.`,
        };
    }
    return {
        title: "Failover benchmark with the real servers",
        setUp: `Real nginx (Debian's) in front of the real Mattermost pair (Team Edition built from its Go module,
as in the chat suite: the primary, and the backup with jobs off, on one PostgreSQL and one SeaweedFS,
started from the test stack's render), each with a host name of its own, all on loopback. ${users} The
websockets are one person's session; another person types in their channel every 250 ms on each server
directly (Team Edition has no cluster: each server tells its own websockets), so a websocket hears every
250 ms while its server answers, and its server is the one its hello named. A poll's server is the
upstream nginx logged for it (for the original design, its conf logs requests in the rendered conf's
format; nothing else differs).`,
        blackhole: "nftables drops every packet to and from the primary's port",
        reading: `Reading it: the measures are the fakes' (the section above), taken from the real servers. A websocket on
a server that answers hears the typing every 250 ms; one on a hung or unreachable server hears nothing
until nginx closes it (in the project's design, the guard's reload after its 5 s drain) or the server
returns. A GET of the API waiting on the primary is passed to the backup by nginx after the quick reads'
read timeout, as with the fakes. As Team Edition has no cluster, people split between the two
servers after the return also miss each other's posts live, not only their server's typing.`,
    };
}

export function renderReport(
    run: BenchmarkRun,
    servers: "fake" | "real" = "fake",
): { table: string; document: string } {
    const table = renderTable(run.results);
    const first = run.results[0];
    const verdicts = judge(run.results, run.renderMs)
        .map((verdict) => `- ${verdict.met ? "met" : "**missed**"}: ${verdict.target} (measured: ${verdict.measured})`)
        .join("\n");
    const lateEverySeconds = Math.round(Math.min(10000, ((first?.observeMs ?? 60000) - 5000) / 5) / 1000);
    const described = setUp(servers, lateEverySeconds);
    const document = `# ${described.title}

Written by \`npm run bench:failover -- ${servers === "real" ? "--servers real " : ""}--write docs/benchmarks.md\` (tests/benchmarks/). Run of ${run.date} on
${run.machine}. \`npm run render -- --stack prod\` took ${seconds(run.renderMs)}.

## Method

${described.setUp}

Faults of the primary, each for ${seconds(first?.faultMs ?? 15000)}, then it returns and the clients are watched for
${seconds(first?.observeMs ?? 60000)}:

- **killed**: SIGKILL; the return is a new process listening again;
- **hung**: SIGSTOP (the kernel still accepts connections, nothing answers); the return is SIGCONT;
- **blackholed**: ${described.blackhole}, as when its node dies;
  the return deletes the rule;
- **flapping**: hung 3 s, fine 3 s, over the fault's whole time.

Designs, both run as they are apart from addresses, ports and paths:

- **original**: the original system's upstream (the primary, the backup as \`backup\`, nginx's passive
  defaults) inside Mattermost's recommended proxy settings (\`proxy_connect_timeout 90s\`, websocket
  \`proxy_read_timeout 90s\`, \`proxy_read_timeout 600s\` elsewhere, keepalive 32), kept in
  \`tests/fixtures/original-nginx.conf\`;
- **project**: the test stack's rendered nginx.conf with the failover guard beside it, run from the
  rendered ConfigMap with the rendered Deployment's arguments.

Measures, from the users' events: **failed GETs** (errors and statuses other than 200, from the fault to
the end); **longest request** (">" when it was still waiting at the end); **first answer from the backup**
(from the fault, before the return); these three for each polling client, the kept-alive one's in a table
of its own; **every websocket served again**: from the fault until each
websocket open before it is served again, a websocket being unserved from a close until its next message
and while its server is silent for more than 1 s ("none before the return" if that never happened during
the fault); **split window**: after the return, sampled every 100 ms, how long the websockets being served
were served by different servers; **split at the end**: still split in the last 5 s; **nginx reloads**,
and the most in any 30 s.

## Results

The client on new connections, the websockets and nginx:

${table}

The kept-alive client (one connection, as a browser tab):

${renderKeptAliveTable(run.results)}

${described.reading}

## The project's targets

${verdicts}
`;
    return { table, document };
}
