/**
 * The failover benchmark's servers for real: the real Mattermost pair of the chat suite (primary, and
 * backup with jobs off, on one PostgreSQL and one SeaweedFS, started from the test stack's render), each
 * with a host name of its own as a pod has, so that a websocket reached through nginx can tell its
 * server by the hello it gets first. Everything runs in the root namespace on loopback: nginx, the guard
 * and the users beside the servers. The faults are the fakes' (failoverBench.ts), with the real process:
 * killed and started again on its port, SIGSTOP and SIGCONT, and the blackhole dropping every packet of
 * its port (netns.ts, blackholeLoopbackPort).
 *
 * What the fakes do by themselves is done here by the users of the chat: a person types in a channel
 * every 250 ms on each server directly (each server tells its own websockets, as Team Edition has no
 * cluster), so every websocket open on a server that answers hears from it; and the polls' server is
 * read from nginx's access log, as Mattermost's ping does not name the server.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import { createPerson, local, passwordLogin, startChat, teamWithChannel, type Chat } from "../chat/fixture";
import type { MattermostServer } from "../helpers/mattermostServer";
import { blackholeLoopbackPort } from "../helpers/netns";
import { freePort, stopProcess } from "../helpers/nginxHarness";
import { projectDir, type Rendered } from "../helpers/render";
import type { BenchServers, PollEvent } from "./failoverBench";

const typingEveryMs = 250;

export class RealServers implements BenchServers {
    readonly clientArgs: string[] = [];
    private spawned: ChildProcess[] = [];
    private typing: NodeJS.Timeout | undefined;
    private restoreNetwork: (() => void) | undefined;

    private constructor(
        private readonly chat: Chat,
        private primary: MattermostServer,
        private readonly backup: MattermostServer,
        readonly frontPorts: { readonly listen: number; readonly health: number },
        private readonly typist: { readonly id: string; readonly token: string; readonly channelId: string },
        listener: string,
    ) {
        this.clientArgs = ["--token", listener];
    }

    /** The pair, a channel, a person typing in it and one listening (every websocket of the users is theirs). */
    static async start(rendered: Rendered): Promise<RealServers> {
        const chat = await startChat(rendered);
        try {
            // The first server was started without a host name of its own: the primary is started again.
            const port = chat.primary.port;
            await chat.primary.stop();
            const primary = await chat.startServer("mattermost-1", { port, hostname: "primary" });
            const backup = await chat.startServer("mattermost-2", { hostname: "backup" });
            const { teamId, channelId } = await teamWithChannel(primary, "bench", "failover");
            const people = [];
            for (const name of ["typist", "listener"]) {
                const person = await createPerson(primary, `bench-${name}`);
                await local(primary, "POST", `/teams/${teamId}/members`, { team_id: teamId, user_id: person.id });
                await local(primary, "POST", `/channels/${channelId}/members`, { user_id: person.id });
                people.push({ id: person.id, token: await passwordLogin(primary, person.username, person.password) });
            }
            const [typist, listener] = people;
            // A port of its own, so nothing else on this machine's loopback can be in the way.
            const listen = await freePort();
            return new RealServers(
                chat,
                primary,
                backup,
                { listen, health: await freePort() },
                { id: typist.id, token: typist.token, channelId },
                listener.token,
            );
        } catch (error) {
            await chat.stop();
            throw error;
        }
    }

    get upstreams(): BenchServers["upstreams"] {
        return {
            primary: { host: "127.0.0.1", port: this.primary.port },
            backup: { host: "127.0.0.1", port: this.backup.port },
        };
    }

    async prepare(): Promise<void> {
        const ping = async (server: MattermostServer) =>
            (await fetch(`${server.url}/api/v4/system/ping`, { signal: AbortSignal.timeout(2000) })).ok;
        if (!(await ping(this.primary)) || !(await ping(this.backup))) {
            throw new Error("a server of the pair does not answer at the start of a scenario");
        }
        this.typing = setInterval(() => {
            for (const server of [this.primary, this.backup]) {
                void fetch(`${server.url}/api/v4/users/${this.typist.id}/typing`, {
                    method: "POST",
                    headers: { authorization: `Bearer ${this.typist.token}`, "content-type": "application/json" },
                    body: JSON.stringify({ channel_id: this.typist.channelId }),
                    signal: AbortSignal.timeout(typingEveryMs * 4),
                }).catch(() => undefined);
            }
        }, typingEveryMs);
    }

    spawnInFront(command: string[], logFile?: string): ChildProcess {
        const logFd = logFile ? fs.openSync(logFile, "a") : undefined;
        const [program, ...args] = command;
        const child = spawn(program ?? "true", args, {
            cwd: projectDir,
            stdio: logFd === undefined ? "pipe" : ["ignore", logFd, logFd],
        });
        if (logFd !== undefined) {
            fs.closeSync(logFd);
        }
        this.spawned.push(child);
        return child;
    }

    runInFront(command: string[]): SpawnSyncReturns<string> {
        const [program, ...args] = command;
        return spawnSync(program ?? "true", args, { encoding: "utf8", timeout: 10000 });
    }

    kill(): Promise<void> {
        return this.primary.stop("SIGKILL");
    }

    async restart(): Promise<void> {
        this.primary = await this.chat.startServer("mattermost-1", { port: this.primary.port, hostname: "primary" });
    }

    pause(): void {
        this.primary.pause();
    }

    resume(): void {
        this.primary.resume();
    }

    blackhole(on: boolean): void {
        if (on) {
            this.restoreNetwork = blackholeLoopbackPort(this.primary.port);
        } else {
            this.restoreNetwork?.();
            this.restoreNetwork = undefined;
        }
    }

    attribute(polls: readonly PollEvent[], accessLog: string): void {
        const answeredBy = pollServers(accessLog, { [this.primary.port]: "primary", [this.backup.port]: "backup" });
        for (const poll of polls) {
            const server = answeredBy.get(poll.id);
            if (poll.status === 200 && server) {
                poll.server = server;
            }
        }
    }

    async finish(): Promise<void> {
        clearInterval(this.typing);
        this.restoreNetwork?.();
        this.restoreNetwork = undefined;
        this.primary.resume();
        for (const child of this.spawned.reverse()) {
            // nginx's master takes its workers with it on SIGTERM; on SIGKILL they would stay.
            await stopProcess(child);
        }
        this.spawned = [];
    }

    stop(): Promise<void> {
        return this.chat.stop();
    }
}

/**
 * Each poll's server, by poll id, from nginx's access log in the rendered conf's format: the last upstream
 * nginx tried for it (the one that answered), named by its port.
 */
export function pollServers(accessLog: string, serverByPort: Readonly<Record<number, string>>): Map<number, string> {
    const answeredBy = new Map<number, string>();
    // nginx lists every upstream it tried, comma-separated: "upstream=127.0.0.1:1, 127.0.0.1:2".
    for (const match of accessLog.matchAll(
        /"GET \/api\/v4\/system\/ping\?poll=(\d+) [^"]*" .*?upstream=((?:\S+, )*\S+)/g,
    )) {
        const last = match[2].split(",").at(-1)?.trim() ?? "";
        const server = serverByPort[Number(last.slice(last.lastIndexOf(":") + 1))];
        if (server) {
            answeredBy.set(Number(match[1]), server);
        }
    }
    return answeredBy;
}
