/**
 * People chatting through the rendered nginx.conf (real nginx, the rendered failover guard beside it) in
 * front of the real pair: the primary and the backup (jobs off) on one database and one store. One person
 * posts, another receives it over the websocket; the primary hangs (SIGSTOP) and comes back, is cut off
 * from the network and comes back, and is then killed: each time the same people keep chatting on the
 * backup with the sessions they had, and the time until the first post gets through again is measured. Bounded: every loop has a fixed number of tries
 * and a deadline.
 *
 * Logins here are passwords (the test stack keeps local login on): the GitLab login through Keycloak is
 * the identity suite's. nginx's Keycloak upstream points at a port where nothing listens, as no request
 * here goes there.
 */
import WebSocket from "ws";
import type { MattermostServer } from "../helpers/mattermostServer";
import { blackholeLoopbackPort } from "../helpers/netns";
import { freePort, startRenderedFront, waitFor, type RunningFront } from "../helpers/nginxHarness";
import { renderStack, type Rendered } from "../helpers/render";
import { createPerson, local, startChat, teamWithChannel, type Chat } from "./fixture";

let rendered: Rendered;
let chat: Chat;
let backup: MattermostServer;
let front: RunningFront;
let channelId: string;
const people: Record<"alice" | "bob", { id: string; token: string }> = {
    alice: { id: "", token: "" },
    bob: { id: "", token: "" },
};

/** A call through nginx, as the apps make it. */
async function viaNginx(method: string, apiPath: string, token?: string, body?: unknown) {
    const response = await fetch(`http://127.0.0.1:${front.addresses.listenPort}/api/v4${apiPath}`, {
        method,
        headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
}

async function post(message: string): Promise<number> {
    return (await viaNginx("POST", "/posts", people.alice.token, { channel_id: channelId, message })).status;
}

/** Posts until one gets through (at most `tries`, a second apart); the milliseconds it took. */
async function postUntilThrough(message: string, tries = 60): Promise<number> {
    const started = Date.now();
    for (let attempt = 0; attempt < tries; attempt += 1) {
        const status = await post(message).catch(() => 0);
        if (status === 201) {
            return Date.now() - started;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(`no post got through in ${tries} tries`);
}

/** Bob's websocket through nginx; resolves with the next post event carrying `message`. */
function nextPosted(message: string, timeoutMs = 60000): { ready: Promise<void>; received: Promise<string> } {
    const socket = new WebSocket(`ws://127.0.0.1:${front.addresses.listenPort}/api/v4/websocket`, {
        headers: { authorization: `Bearer ${people.bob.token}` },
        handshakeTimeout: 5000,
    });
    const ready = new Promise<void>((resolve, reject) => {
        socket.once("message", () => resolve());
        socket.once("error", reject);
    });
    const received = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
            socket.terminate();
            reject(new Error(`no posted event with "${message}" in ${timeoutMs} ms`));
        }, timeoutMs);
        socket.on("message", (data: WebSocket.RawData) => {
            const text = Buffer.isBuffer(data)
                ? data.toString("utf8")
                : Buffer.from(data as ArrayBuffer).toString("utf8");
            const event = JSON.parse(text) as { event?: string; data?: { post?: string } };
            if (event.event === "posted" && event.data?.post?.includes(message)) {
                clearTimeout(timer);
                socket.close();
                resolve(message);
            }
        });
    });
    return { ready, received };
}

beforeAll(async () => {
    rendered = renderStack("test");
    chat = await startChat(rendered);
    backup = await chat.startServer("mattermost-2");
    const { teamId, channelId: channel } = await teamWithChannel(chat.primary, "ops", "war-room");
    channelId = channel;
    for (const name of ["alice", "bob"] as const) {
        const person = await createPerson(chat.primary, `${name}-chat`);
        await local(chat.primary, "POST", `/teams/${teamId}/members`, { team_id: teamId, user_id: person.id });
        await local(chat.primary, "POST", `/channels/${channelId}/members`, { user_id: person.id });
        people[name].id = person.id;
        people[name].token = person.password; // replaced by the session token once nginx runs
    }

    // nginx's Keycloak upstream: a port where nothing listens, as no request here goes there.
    front = await startRenderedFront(rendered, {
        primaryPort: chat.primary.port,
        backupPort: backup.port,
        keycloakPort: await freePort(),
    });

    for (const name of ["alice", "bob"] as const) {
        const login = await viaNginx("POST", "/users/login", undefined, {
            login_id: `${name}-chat`,
            password: people[name].token,
        });
        expect(login.status).toBe(200);
        people[name].token = login.headers.get("token")!;
    }
});

afterAll(async () => {
    await front?.stop();
    await chat?.stop();
});

describe("chatting through nginx in front of the real pair", () => {
    it("delivers a post to the other person over the websocket, served by the primary", async () => {
        const seen = nextPosted("hello from alice");
        await seen.ready;
        expect(await post("hello from alice")).toBe(201);
        expect(await seen.received).toBe("hello from alice");
        const posts = await local(chat.primary, "GET", `/channels/${channelId}/posts`);
        // Besides the system messages of the two joining the channel.
        const said = Object.values(posts.posts as Record<string, { type: string; message: string }>)
            .filter((p) => p.type === "")
            .map((p) => p.message);
        expect(said).toEqual(["hello from alice"]);
    });

    /**
     * A post gets through, and Bob hears the next one: on the backup, the only server answering. With
     * `guard`, the next is sent once the guard has taken the primary out that many times and nginx's
     * workers from before the fault are gone: until then a request that one of them takes (one sent on a
     * kept-alive connection just before the reload) may still go to the silent primary and wait, at most
     * the drain (worker_shutdown_timeout); a POST is never replayed, so the person resends it, as
     * postUntilThrough does.
     */
    async function chattingOnTheBackup(
        label: string,
        guard?: { guardMarks: number; workersBefore: number[] },
    ): Promise<number> {
        const tookMs = await postUntilThrough(`${label}: first post`);
        if (guard) {
            await waitFor(
                () =>
                    Promise.resolve(
                        front.reloads("backup-only") >= guard.guardMarks &&
                            !front.workers().some((pid) => guard.workersBefore.includes(pid)),
                    ),
                30000,
                "the guard to take the primary out, and nginx's workers from before to finish",
            );
        }
        const seen = nextPosted(`${label}: bob hears the backup`);
        await seen.ready;
        expect(await post(`${label}: bob hears the backup`)).toBe(201);
        expect(await seen.received).toBe(`${label}: bob hears the backup`);
        const posts = await local(backup, "GET", `/channels/${channelId}/posts`);
        const messages = Object.values(posts.posts as Record<string, { message: string }>).map((p) => p.message);
        expect(messages).toEqual(expect.arrayContaining(["hello from alice", `${label}: first post`]));
        return tookMs;
    }

    /** A fault the guard must see: the same people chat on the backup while it lasts (time measured). */
    async function chattingThroughAFault(label: string, guardMarks: number, fault: { begin(): void; end(): void }) {
        const workersBefore = front.workers();
        fault.begin();
        try {
            const tookMs = await chattingOnTheBackup(label, { guardMarks, workersBefore });
            console.log(`failover (${label}): first post through after ${tookMs} ms`);
            expect(front.reloads("backup-only")).toBe(guardMarks);
            expect(tookMs).toBeLessThan(30000);
        } finally {
            fault.end();
        }
    }

    it("keeps the same people chatting when the primary hangs: the guard takes it out (time measured)", async () => {
        await chattingThroughAFault("hung", 1, { begin: () => chat.primary.pause(), end: () => chat.primary.resume() });
    });

    /** Waits for the guard to put the primary back (its `times`-th time), then chats on it. */
    async function backOnThePrimary(times: number, label: string): Promise<void> {
        const deadline = Date.now() + 120000;
        while (front.reloads("primary") < times && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        expect(front.reloads("primary")).toBe(times);
        const seen = nextPosted(label);
        await seen.ready;
        expect(await post(label)).toBe(201);
        expect(await seen.received).toBe(label);
    }

    it("puts the primary back once it has stayed healthy, and people chat on it again", async () => {
        await backOnThePrimary(1, "back on the primary");
    });

    it("keeps the same people chatting when the primary is cut off from the network (time measured)", async () => {
        // Every packet to and from the primary's port dropped, as when its node dies: connections hang
        // instead of being refused.
        let restore = () => {};
        await chattingThroughAFault("blackholed", 2, {
            begin: () => (restore = blackholeLoopbackPort(chat.primary.port)),
            end: () => restore(),
        });
        await backOnThePrimary(2, "back on the primary after the blackhole");
    });

    it("keeps the same people chatting when the primary is killed: nginx sends them to the backup (time measured)", async () => {
        await chat.primary.stop("SIGKILL");
        const tookMs = await chattingOnTheBackup("killed");
        console.log(`failover after a kill: first post through after ${tookMs} ms`);
        expect(tookMs).toBeLessThan(30000);
    });
});
