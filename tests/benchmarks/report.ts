/** The failover benchmark's table, its verdicts against issue 6's targets, and docs/benchmarks.md. */
import type { Fault, ScenarioResult } from "./failoverBench";

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

/** The project's targets (issue 6), judged on its rows. */
export function judge(results: readonly ScenarioResult[], renderMs?: number): Verdict[] {
    const verdicts: Verdict[] = [];
    const check = (target: string, measured: string, met: boolean) => verdicts.push({ target, measured, met });
    const project = (fault: Fault) => results.find((result) => result.design === "project" && result.fault === fault);
    const killed = project("killed");
    if (killed) {
        check("killed: 0 failed GETs", String(killed.failedRequests), killed.failedRequests === 0);
        check(
            "killed: websockets back within 1.5 s",
            seconds(killed.websocketsServedAgainMs),
            killed.websocketsServedAgainMs !== null && killed.websocketsServedAgainMs <= 1500,
        );
    }
    for (const fault of ["hung", "blackholed"] as const) {
        const result = project(fault);
        if (!result) {
            continue;
        }
        check(
            `${fault}: first answer from the backup within 5 s`,
            seconds(result.firstBackupAnswerMs),
            result.firstBackupAnswerMs !== null && result.firstBackupAnswerMs <= 5000,
        );
        check(
            `${fault}: every websocket served again within 15 s`,
            seconds(result.websocketsServedAgainMs),
            result.websocketsServedAgainMs !== null && result.websocketsServedAgainMs <= 15000,
        );
        check(
            `${fault}: no request waiting longer than 15 s`,
            seconds(result.longestRequestMs, result.longestStillWaiting),
            result.longestRequestMs <= 15000,
        );
    }
    for (const result of results.filter((candidate) => candidate.design === "project")) {
        check(
            `${result.fault}, after the return: split window at most 15 s, none at the end`,
            `${seconds(result.splitWindowMs)}${result.splitAtEnd ? ", split at the end" : ""}`,
            result.splitWindowMs <= 15000 && !result.splitAtEnd,
        );
    }
    const flapping = project("flapping");
    if (flapping) {
        check(
            "flapping: nginx reloads at most once per 30 s",
            `${flapping.reloads} reload(s), at most ${flapping.maxReloadsIn30s} in 30 s`,
            flapping.maxReloadsIn30s <= 1,
        );
    }
    if (renderMs !== undefined) {
        check("npm run render -- --stack prod under 5 s", seconds(renderMs), renderMs < 5000);
    }
    return verdicts;
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
holds the next back); five websocket clients connect before the fault and five more arrive after the
primary returns, one every ${lateEverySeconds} s. A websocket client reconnects 100 ms after a close, and
never times out a silent socket itself (neither do the Mattermost apps, short of the server's 60 s ping).`;
    if (servers === "fake") {
        return {
            title: "Failover benchmark",
            setUp: `Real nginx (Debian's) in front of two fake Mattermost servers, each in a network namespace of its own
joined by a bridge: the front (nginx, the failover guard, the users) and the primary and the backup. The
fakes answer the API and hold websockets, sending a message on each every 250 ms. ${users}`,
            blackhole: "nftables drops every packet in and out of the primary's namespace",
            reading: `Reading it: with a hung or unreachable primary, the project's failed GETs are the requests that were
already waiting on it when the guard took it out; the reload's 5 s drain closes them (after about 8 s)
instead of letting them wait for the 600 s read timeout, and nginx cannot replay them elsewhere. The
original design's zero there means those requests waited for the primary's return instead. Its split
after the return lasts to the end of the measurement: the websockets that moved to the backup stay
there, while newcomers land on the primary.`,
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
returns. The failed GETs are requests that were already waiting on the primary when the guard took it
out; nginx cannot replay them elsewhere. As Team Edition has no cluster, people split between the two
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
(from the fault, before the return); **every websocket served again**: from the fault until each
websocket open before it is served again, a websocket being unserved from a close until its next message
and while its server is silent for more than 1 s ("none before the return" if that never happened during
the fault); **split window**: after the return, sampled every 100 ms, how long the websockets being served
were served by different servers; **split at the end**: still split in the last 5 s; **nginx reloads**,
and the most in any 30 s.

## Results

${table}

${described.reading}

## The project's targets (issue 6)

${verdicts}
`;
    return { table, document };
}
