/**
 * The deprovisioning job's own rules (allow list, bots, local accounts, dry run, the per-run limit, the
 * deadline, errors half-way) in the fast suite, against fakes of Keycloak and Mattermost built from the
 * documented API shapes (shared/reference/keycloak.md section 5, mattermost.md section 5) and kept in
 * line with what the real servers answer (Keycloak's user count and pages; Mattermost 11's user list,
 * whose auth_data an admin sees, and, from Mattermost's source, the older servers' blank one). The job
 * against the real Keycloak and a real AD is tests/identity/directory.test.ts; against the real Keycloak
 * and the real Mattermost, tests/chat/deprovision.test.ts.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { renderDeprovisionScript } from "../../config/guard";
import type { AddressInfo } from "node:net";
import { deprovision, optionsFromEnvironment, perRunLimit, type DeprovisionOptions } from "../../scripts/deprovision";

/** A user as Mattermost's user list shows it to a system admin (what the job reads). */
interface MattermostAccount {
    id: string;
    username: string;
    auth_service: string;
    auth_data: string;
    email?: string;
    delete_at: number;
    is_bot?: boolean;
}

interface KeycloakUser {
    id: string;
    username: string;
    email?: string;
    enabled: boolean;
    attributes: Record<string, string[]>;
}

/** A Mattermost preference, as the server stores and answers it. */
interface Preference {
    user_id: string;
    category: string;
    name: string;
    value: string;
}

/** The account whose token the job holds (a system-admin bot). */
const jobAccount = "mm-job-bot";

/**
 * One fake of each, sharing a log of every call; `fail` makes the next matching call answer 500;
 * `duringPage` runs as a page of Keycloak's users is about to be answered (the directory changing under
 * the read); `rewritePage` changes a page on its way (a proxy cutting it short).
 */
class Fakes {
    readonly calls: string[] = [];
    keycloakUsers: KeycloakUser[] = [];
    mattermostUsers: MattermostAccount[] = [];
    preferences: Preference[] = [];
    fail?: RegExp;
    hang?: RegExp;
    duringPage?: (first: number) => void;
    rewritePage?: (users: KeycloakUser[], first: number) => KeycloakUser[];
    private server?: http.Server;
    url = "";

    async start(): Promise<void> {
        this.server = http.createServer((request, response) => {
            let body = "";
            request.on("data", (chunk: Buffer) => (body += chunk.toString()));
            request.on("end", () => this.answer(request, body, response));
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        this.server?.closeAllConnections();
        return new Promise((resolve) => this.server?.close(() => resolve()));
    }

    private answer(request: http.IncomingMessage, body: string, response: http.ServerResponse): void {
        const url = new URL(request.url ?? "", "http://fake");
        const call = `${request.method} ${url.pathname}${url.search}`;
        this.calls.push(call);
        const json = (status: number, value?: unknown) => {
            response.writeHead(status, { "content-type": "application/json" });
            response.end(value === undefined ? "" : JSON.stringify(value));
        };
        if (this.hang?.test(call)) {
            return; // Never answers.
        }
        if (this.fail?.test(call)) {
            this.fail = undefined;
            json(500, { message: "internal error" });
            return;
        }
        const kcAuth = request.headers.authorization === "Bearer kc-access-token";
        const mmAuth = request.headers.authorization === "Bearer mm-token";
        const page = <T>(items: T[], from: number, size: number) => items.slice(from, from + size);
        if (call === "POST /auth/realms/mattermost/protocol/openid-connect/token") {
            const form = new URLSearchParams(body);
            const ok = form.get("grant_type") === "client_credentials" && form.get("client_secret") === "kc-secret";
            json(ok ? 200 : 401, ok ? { access_token: "kc-access-token" } : { error: "unauthorized_client" });
        } else if (url.pathname.startsWith("/auth/admin/") && !kcAuth) {
            json(401);
        } else if (url.pathname === "/auth/admin/realms/mattermost/users/count") {
            json(200, this.keycloakUsers.length);
        } else if (url.pathname === "/auth/admin/realms/mattermost/users") {
            const first = Number(url.searchParams.get("first"));
            const max = Number(url.searchParams.get("max"));
            this.duringPage?.(first);
            const users = page(this.keycloakUsers, first, max);
            json(200, this.rewritePage ? this.rewritePage(users, first) : users);
        } else if (url.pathname.startsWith("/api/v4/") && !mmAuth) {
            json(401, { message: "invalid token" });
        } else if (url.pathname === "/api/v4/users/me" && request.method === "GET") {
            json(200, { id: jobAccount, username: "deprovision-bot", is_bot: true });
        } else if (url.pathname === "/api/v4/users/me/preferences" && request.method === "GET") {
            // The server's nil list for an account without preferences.
            json(200, this.preferences.length > 0 ? this.preferences : null);
        } else if (url.pathname === "/api/v4/users/me/preferences" && request.method === "PUT") {
            const saved = JSON.parse(body) as Preference[];
            // As the server's UpdatePreferences: only the session's own account's.
            if (saved.some((preference) => preference.user_id !== jobAccount)) {
                json(403, { message: "savePreferences" });
                return;
            }
            for (const preference of saved) {
                this.preferences = this.preferences
                    .filter((kept) => kept.category !== preference.category || kept.name !== preference.name)
                    .concat(preference);
            }
            json(200, { status: "OK" });
        } else if (url.pathname === "/api/v4/users" && request.method === "GET") {
            const perPage = Number(url.searchParams.get("per_page"));
            const active = this.mattermostUsers.filter(
                (user) => url.searchParams.get("active") !== "true" || user.delete_at === 0,
            );
            json(200, page(active, Number(url.searchParams.get("page")) * perPage, perPage));
        } else if (/^\/api\/v4\/users\/[^/]+$/.test(url.pathname) && request.method === "DELETE") {
            const user = this.mattermostUsers.find((candidate) => candidate.id === url.pathname.split("/").pop());
            if (user) {
                user.delete_at = 1;
            }
            json(user ? 200 : 404, { status: "OK" });
        } else {
            json(404);
        }
    }
}

const fakes = new Fakes();

/** 120 people in AD and Mattermost; #5 disabled in AD, #7 removed from it; and the accounts around them. */
function directory(): void {
    fakes.keycloakUsers = Array.from({ length: 120 }, (_, i) => ({
        id: `kc-${i}`,
        username: `user${i}`,
        email: `user${i}@corp.example.com`,
        enabled: i !== 5,
        attributes: { mattermostId: [String(1000 + i)] },
    }))
        .filter((user) => user.id !== "kc-7")
        .concat([
            {
                id: "kc-admin",
                username: "breakglass",
                email: "breakglass@corp.example.com",
                enabled: false,
                attributes: { mattermostId: ["9999"] },
            },
        ]);
    fakes.mattermostUsers = [
        ...Array.from({ length: 120 }, (_, i) => ({
            id: `mm-${i}`,
            username: `user${i}`,
            email: `User${i}@corp.example.com`.toLowerCase(),
            auth_service: "gitlab",
            auth_data: String(1000 + i),
            delete_at: 0,
        })),
        { id: "mm-local", username: "local-admin", auth_service: "", auth_data: "", delete_at: 0 },
        { id: "mm-breakglass", username: "breakglass", auth_service: "gitlab", auth_data: "9999", delete_at: 0 },
        { id: "mm-bot", username: "jira-bot", auth_service: "", auth_data: "", delete_at: 0, is_bot: true },
        { id: "mm-gone-before", username: "left-long-ago", auth_service: "gitlab", auth_data: "5000", delete_at: 17 },
    ];
}

const options = (): DeprovisionOptions => ({
    keycloakUrl: `${fakes.url}/auth`,
    realm: "mattermost",
    clientId: "mattermost-deprovision",
    clientSecret: "kc-secret",
    idAttribute: "mattermostId",
    mattermostUrl: fakes.url,
    mattermostToken: "mm-token",
    authService: "gitlab",
    allowList: ["breakglass"],
    dryRun: false,
    maxPerRun: 20,
    deadlineMs: 5000,
    pageSize: 50,
});

/** The transpiled program as the CronJob runs it; spawned, not run synchronously: the fakes answer from this very process. */
async function runScript(environment: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deprovision-"));
    const script = path.join(dir, "deprovision.js");
    fs.writeFileSync(script, renderDeprovisionScript());
    try {
        return await new Promise((resolve) => {
            const child = spawn(process.execPath, [script], { env: environment });
            let output = "";
            child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
            child.on("close", (code) => resolve({ status: code, output }));
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const writes = () => fakes.calls.filter((call) => /^(DELETE|POST) .*\/api\/v4\/users\//.test(call));

beforeAll(() => fakes.start());
afterAll(() => fakes.stop());
beforeEach(() => {
    directory();
    fakes.calls.length = 0;
    fakes.preferences = [];
    fakes.fail = undefined;
    fakes.hang = undefined;
    fakes.duringPage = undefined;
    fakes.rewritePage = undefined;
});

describe("the deprovisioning job", () => {
    it("deactivates the disabled and the removed, and touches nobody else", async () => {
        const summary = await deprovision(options());
        expect(summary).toMatchObject({
            outcome: "ok",
            keycloakUsers: 120,
            mattermostSsoAccounts: 121,
            localAccountsIgnored: 1,
            allowListed: ["breakglass"],
            disabled: ["user5"],
            orphans: ["user7"],
            deactivated: ["user5", "user7"],
            perRunLimit: 6,
            lastGood: null,
            recordedAsGood: true,
        });
        expect(writes()).toEqual(["DELETE /api/v4/users/mm-5", "DELETE /api/v4/users/mm-7"]);
        // Of Keycloak it only reads (its client holds view-users alone): no sync, no logout, no user made.
        const keycloakCalls = fakes.calls.filter((call) => call.includes(" /auth/"));
        expect(keycloakCalls.filter((call) => !call.startsWith("GET "))).toEqual([
            "POST /auth/realms/mattermost/protocol/openid-connect/token",
        ]);
        // Keycloak's users twice (before and after Mattermost's), three pages each.
        expect(fakes.calls.filter((call) => call.startsWith("GET /auth/admin/realms/mattermost/users?"))).toHaveLength(
            6,
        );
        expect(fakes.calls.filter((call) => call.startsWith("GET /api/v4/users?"))).toHaveLength(3);
    });

    it("maps accounts by e-mail address where the server blanks auth_data, as Mattermost before 11 does", async () => {
        for (const account of fakes.mattermostUsers) {
            account.auth_data = "";
        }
        const summary = await deprovision(options());
        expect(summary).toMatchObject({
            outcome: "ok",
            disabled: ["user5"],
            orphans: ["user7"],
            deactivated: ["user5", "user7"],
        });
        // Every SSO account but the allow-listed one, which is never looked up.
        expect(summary.mappedByEmail).toHaveLength(120);
    });

    it("changes nothing when run again", async () => {
        await deprovision(options());
        fakes.calls.length = 0;
        const again = await deprovision(options());
        expect(again).toMatchObject({ outcome: "ok", deactivated: [], disabled: [], orphans: [] });
        expect(writes()).toEqual([]);
    });

    it("only reports in a dry run", async () => {
        const summary = await deprovision({ ...options(), dryRun: true });
        expect(summary).toMatchObject({
            outcome: "ok",
            dryRun: true,
            disabled: ["user5"],
            orphans: ["user7"],
            deactivated: [],
        });
        expect(writes()).toEqual([]);
    });

    it("changes nothing when a read fails half-way, and the next run does the work", async () => {
        fakes.fail = /^GET \/api\/v4\/users\?active=true&page=1&/;
        const failed = await deprovision(options());
        expect(failed).toMatchObject({ outcome: "failed", deactivated: [] });
        expect(failed.error).toBe("GET /api/v4/users answered 500");
        expect(writes()).toEqual([]);
        const next = await deprovision(options());
        expect(next).toMatchObject({ outcome: "ok", deactivated: ["user5", "user7"] });
    });

    it("stops at a failed deactivation and finishes it in the next run, never twice", async () => {
        fakes.fail = /^DELETE \/api\/v4\/users\/mm-7$/;
        const failed = await deprovision(options());
        expect(failed).toMatchObject({ outcome: "failed", deactivated: ["user5"] });
        fakes.calls.length = 0;
        const next = await deprovision(options());
        expect(next).toMatchObject({ outcome: "ok", deactivated: ["user7"] });
        expect(writes()).toEqual(["DELETE /api/v4/users/mm-7"]);
    });

    it("refuses to deactivate more than its absolute limit in one run", async () => {
        // 29 people past the cut look removed, beside user5 (disabled) and user7 (removed).
        fakes.keycloakUsers = fakes.keycloakUsers.slice(0, 90);
        const summary = await deprovision({ ...options(), maxFractionPerRun: 0.9 });
        expect(summary).toMatchObject({ outcome: "refused", perRunLimit: 20 });
        expect(summary.error).toMatch(/^31 accounts would be deactivated, more than the 20 allowed in one run /);
        expect(writes()).toEqual([]);
    });

    it("refuses to deactivate everyone, whatever its limit (an emptied directory must not empty the chat)", async () => {
        fakes.keycloakUsers = [];
        const summary = await deprovision({ ...options(), maxPerRun: 100000 });
        expect(summary.outcome).toBe("refused");
        expect(summary.error).toMatch(/^every one of the 120 SSO accounts would be deactivated/);
        expect(writes()).toEqual([]);
    });

    it("stops at its deadline when a server hangs", async () => {
        fakes.hang = /^GET \/auth\/admin\/realms\/mattermost\/users\?/;
        const summary = await deprovision({ ...options(), deadlineMs: 500 });
        expect(summary).toMatchObject({ outcome: "failed", error: "stopped at the deadline of 500 ms" });
        expect(writes()).toEqual([]);
    });

    it("runs as the CronJob runs it: the transpiled program, configured by its environment", async () => {
        const environment = {
            PATH: process.env.PATH,
            KEYCLOAK_URL: `${fakes.url}/auth`,
            KEYCLOAK_REALM: "mattermost",
            KEYCLOAK_CLIENT_ID: "mattermost-deprovision",
            KEYCLOAK_CLIENT_SECRET: "kc-secret",
            KEYCLOAK_ID_ATTRIBUTE: "mattermostId",
            MATTERMOST_URL: fakes.url,
            MATTERMOST_TOKEN: "mm-token",
            MATTERMOST_AUTH_SERVICE: "gitlab",
            ALLOW_LIST: "breakglass",
            DRY_RUN: "false",
            MAX_PER_RUN: "20",
            DEADLINE_SECONDS: "10",
        };
        const { status, output } = await runScript(environment);
        expect(status).toBe(0);
        const summary = JSON.parse(output.trim()) as Record<string, unknown>;
        expect(summary).toMatchObject({ event: "deprovision-summary", outcome: "ok", deactivated: ["user5", "user7"] });
        // The one log line names accounts, never a token or a secret.
        expect(output).not.toMatch(/kc-secret|mm-token|kc-access-token/);
    });
});

/** The last good run's view, as the job keeps it in Mattermost. */
const lastGood = () => {
    const stored = fakes.preferences.find(
        (preference) => preference.category === "deprovisioning" && preference.name === "last_good_run",
    );
    return stored ? (JSON.parse(stored.value) as { enabledUsers: number; users: number; at: string }) : undefined;
};

/** Keycloak loses these people (and AD still has them): what a cut-short directory view looks like. */
const dropFromKeycloak = (from: number, to: number) => {
    const gone = new Set(Array.from({ length: to - from }, (_, i) => `kc-${from + i}`));
    fakes.keycloakUsers = fakes.keycloakUsers.filter((user) => !gone.has(user.id));
};

describe("the deprovisioning job's view of the directory", () => {
    it("changes nothing when a user is removed and another added while the pages are read", async () => {
        // user3 goes while page 2 is being asked for: everyone after user3 shifts one place, so page 2
        // starts one later and user51 is on no page; the newcomer keeps the count where it was.
        let changed = false;
        fakes.duringPage = (first) => {
            if (first === 50 && !changed) {
                changed = true;
                fakes.keycloakUsers = fakes.keycloakUsers.filter((user) => user.id !== "kc-3");
                fakes.keycloakUsers.push({
                    id: "kc-new",
                    username: "newcomer",
                    enabled: true,
                    attributes: { mattermostId: ["1999"] },
                });
            }
        };
        const summary = await deprovision(options());
        expect(summary.outcome).toBe("failed");
        expect(summary.error).toBe(
            "Keycloak's two reads of its 120 users differ in 2: the directory changed while it was read, so nothing changed; the next run reads it again",
        );
        expect(writes()).toEqual([]);
        expect(summary.deactivated).toEqual([]);
        // The next run sees user3 gone, and user51 where they always were.
        const next = await deprovision(options());
        expect(next).toMatchObject({
            outcome: "ok",
            orphans: ["user3", "user7"],
            deactivated: ["user3", "user5", "user7"],
        });
    });

    it("changes nothing when a page comes back short, and names the counts", async () => {
        fakes.rewritePage = (users, first) => (first === 50 ? users.slice(0, 30) : users);
        const summary = await deprovision(options());
        expect(summary).toMatchObject({ outcome: "failed", deactivated: [] });
        expect(summary.error).toBe(
            "Keycloak listed 80 users but counts 120: a page came back short, so nothing changed",
        );
        expect(writes()).toEqual([]);
    });

    it("changes nothing when a page longer than asked for comes back (a proxy ignoring max)", async () => {
        fakes.rewritePage = (users, first) => (first === 0 ? fakes.keycloakUsers.slice(0, 60) : users);
        const summary = await deprovision(options());
        expect(summary).toMatchObject({ outcome: "failed", deactivated: [] });
        expect(summary.error).toMatch(/^Keycloak answered a page of users that is not a list of at most 50/);
        expect(writes()).toEqual([]);
    });

    it("deactivates an account once when Mattermost's pages shift under the read", async () => {
        // user5 activated again while the pages were read: on page 1 and, shifted, on page 2.
        fakes.mattermostUsers.splice(60, 0, fakes.mattermostUsers[5]);
        const summary = await deprovision(options());
        expect(summary).toMatchObject({ outcome: "ok", deactivated: ["user5", "user7"] });
        expect(writes().filter((call) => call === "DELETE /api/v4/users/mm-5")).toHaveLength(1);
    });

    it("records its view after a good run only, and does not rewrite an unchanged one", async () => {
        await deprovision({ ...options(), dryRun: true });
        expect(lastGood()).toBeUndefined();
        const first = await deprovision(options());
        expect(first).toMatchObject({ outcome: "ok", enabledKeycloakUsers: 118, recordedAsGood: true });
        expect(lastGood()).toMatchObject({ enabledUsers: 118, users: 120 });
        fakes.calls.length = 0;
        const again = await deprovision(options());
        expect(again).toMatchObject({ outcome: "ok", recordedAsGood: false, lastGood: { enabledUsers: 118 } });
        expect(fakes.calls.filter((call) => call.startsWith("PUT "))).toEqual([]);
    });

    it("refuses a view that shrank against the last good run, says by how much and how to accept it", async () => {
        await deprovision(options());
        fakes.calls.length = 0;
        // Ten people vanish from Keycloak's view at once, fewer than either per-run limit would stop.
        dropFromKeycloak(100, 110);
        const summary = await deprovision({ ...options(), maxFractionPerRun: 0.5 });
        expect(summary).toMatchObject({
            outcome: "refused",
            enabledKeycloakUsers: 108,
            perRunLimit: 20,
            deactivated: [],
        });
        expect(summary.error).toMatch(
            /^Keycloak shows 108 enabled users, 10 \(8%\) fewer than the 118 of the last good run \(seen first at \d{4}-\d\d-\d\dT[^)]+\), more than the 5% allowed: .*nothing changed\. If those people really left or were disabled, accept this view for one run: set deprovisionAcceptDirectorySize to 108, and unset it after$/,
        );
        expect(writes()).toEqual([]);
        // The shrunken view is not the new last good one.
        expect(lastGood()).toMatchObject({ enabledUsers: 118 });
    });

    it("refuses a shrunken view even when nobody would be deactivated, so it never becomes the last good one", async () => {
        await deprovision(options());
        // These ten never used the chat: the shrink deactivates nobody, but the next shrink would be
        // measured against it.
        fakes.mattermostUsers = fakes.mattermostUsers.filter((user) => !/^mm-10[0-9]$/.test(user.id));
        dropFromKeycloak(100, 110);
        const summary = await deprovision(options());
        expect(summary).toMatchObject({ outcome: "refused", deactivated: [], recordedAsGood: false });
        expect(lastGood()).toMatchObject({ enabledUsers: 118 });
    });

    it("takes a shrunken view when the operator accepts that very size, and only that one", async () => {
        await deprovision(options());
        dropFromKeycloak(100, 110);
        const accepted = await deprovision({ ...options(), maxFractionPerRun: 0.5, acceptDirectorySize: 108 });
        expect(accepted).toMatchObject({ outcome: "ok", recordedAsGood: true });
        expect(accepted.deactivated).toHaveLength(10);
        expect(lastGood()).toMatchObject({ enabledUsers: 108 });
        // The override left set lets no further shrink by.
        dropFromKeycloak(90, 100);
        const next = await deprovision({ ...options(), maxFractionPerRun: 0.5, acceptDirectorySize: 108 });
        expect(next.outcome).toBe("refused");
        expect(next.error).toMatch(/^Keycloak shows 98 enabled users, 10 \(9%\) fewer than the 108 /);
        expect(next.error).toMatch(/\(deprovisionAcceptDirectorySize is 108, which is not this view\)$/);
        expect(next.deactivated).toEqual([]);
    });

    it("lets a small chat lose a person or two per run (the shrink is measured against a few, at least)", async () => {
        await deprovision(options());
        fakes.keycloakUsers.find((user) => user.id === "kc-20")!.enabled = false;
        dropFromKeycloak(30, 32);
        const summary = await deprovision(options());
        expect(summary).toMatchObject({ outcome: "ok", deactivated: ["user20", "user30", "user31"] });
        expect(lastGood()).toMatchObject({ enabledUsers: 115 });
    });

    it("changes nothing when the last good run's view cannot be read from Mattermost", async () => {
        fakes.fail = /^GET \/api\/v4\/users\/me\/preferences$/;
        const summary = await deprovision(options());
        expect(summary).toMatchObject({
            outcome: "failed",
            error: "GET /api/v4/users/me/preferences answered 500",
            deactivated: [],
        });
        expect(writes()).toEqual([]);
    });

    it("changes nothing when the kept view is unreadable, until the operator accepts a size", async () => {
        fakes.preferences = [
            { user_id: jobAccount, category: "deprovisioning", name: "last_good_run", value: "{not json" },
        ];
        const summary = await deprovision(options());
        expect(summary).toMatchObject({ outcome: "failed", deactivated: [] });
        expect(summary.error).toMatch(/preference deprovisioning\/last_good_run of the job's account\) is unreadable/);
        const accepted = await deprovision({ ...options(), acceptDirectorySize: 118 });
        expect(accepted).toMatchObject({ outcome: "ok", deactivated: ["user5", "user7"] });
        expect(lastGood()).toMatchObject({ enabledUsers: 118 });
    });

    it("a refusal exits non-zero from the program the CronJob runs, naming what shrank", async () => {
        fakes.preferences = [
            {
                user_id: jobAccount,
                category: "deprovisioning",
                name: "last_good_run",
                value: JSON.stringify({ enabledUsers: 118, users: 120, at: "2026-01-01T00:00:00.000Z" }),
            },
        ];
        dropFromKeycloak(60, 120);
        const { status, output } = await runScript({
            PATH: process.env.PATH,
            KEYCLOAK_URL: `${fakes.url}/auth`,
            KEYCLOAK_REALM: "mattermost",
            KEYCLOAK_CLIENT_ID: "mattermost-deprovision",
            KEYCLOAK_CLIENT_SECRET: "kc-secret",
            KEYCLOAK_ID_ATTRIBUTE: "mattermostId",
            MATTERMOST_URL: fakes.url,
            MATTERMOST_TOKEN: "mm-token",
            MATTERMOST_AUTH_SERVICE: "gitlab",
            ALLOW_LIST: "breakglass",
            MAX_PER_RUN: "100000",
            MAX_FRACTION_PER_RUN: "0.9",
            DEADLINE_SECONDS: "10",
        });
        expect(status).toBe(1);
        const summary = JSON.parse(output.trim()) as Record<string, unknown>;
        expect(summary).toMatchObject({ outcome: "refused", deactivated: [] });
        expect(summary.error).toMatch(
            /^Keycloak shows 58 enabled users, 60 \(51%\) fewer than the 118 of the last good run/,
        );
        expect(writes()).toEqual([]);
    });
});

describe("the deprovisioning job's per-run limit", () => {
    it("is a fraction of the SSO accounts, at least a few, at most the absolute limit", () => {
        expect(perRunLimit(121, 20, 0.05)).toBe(6);
        expect(perRunLimit(5000, 20, 0.05)).toBe(20);
        expect(perRunLimit(5000, 500, 0.05)).toBe(250);
        expect(perRunLimit(2, 20, 0.05)).toBe(3);
        expect(perRunLimit(2, 1, 0.05)).toBe(1);
    });

    it("refuses ten departures at once in a chat of 121, which the absolute 20 alone let through", async () => {
        dropFromKeycloak(100, 110);
        const summary = await deprovision(options());
        expect(summary).toMatchObject({ outcome: "refused", perRunLimit: 6, deactivated: [] });
        expect(summary.error).toBe(
            "12 accounts would be deactivated, more than the 6 allowed in one run (5% of the 121 SSO accounts, at least 3, at most deprovisionMaxPerRun 20): check the directory; if they really left, raise deprovisionMaxFractionPerRun (and deprovisionMaxPerRun if need be) for one run",
        );
        expect(writes()).toEqual([]);
    });

    it("refuses a directory cut to a quarter even when the absolute limit was raised, with no last good run", async () => {
        fakes.keycloakUsers = fakes.keycloakUsers.slice(0, 30);
        const summary = await deprovision({ ...options(), maxPerRun: 100000 });
        expect(summary).toMatchObject({ outcome: "refused", lastGood: null, deactivated: [] });
        expect(summary.error).toMatch(/^91 accounts would be deactivated, more than the 6 allowed in one run/);
        expect(writes()).toEqual([]);
    });

    it("is read strictly from the environment: a typo is an error, not a limit switched off", () => {
        const environment = {
            KEYCLOAK_URL: "http://keycloak/auth",
            KEYCLOAK_REALM: "mattermost",
            KEYCLOAK_CLIENT_ID: "mattermost-deprovision",
            KEYCLOAK_CLIENT_SECRET: "kc-secret",
            KEYCLOAK_ID_ATTRIBUTE: "mattermostId",
            MATTERMOST_URL: "http://nginx",
            MATTERMOST_TOKEN: "mm-token",
            MATTERMOST_AUTH_SERVICE: "gitlab",
        };
        expect(optionsFromEnvironment(environment)).toMatchObject({
            maxPerRun: 20,
            maxFractionPerRun: 0.05,
            maxDirectoryShrink: 0.05,
            acceptDirectorySize: undefined,
        });
        expect(() => optionsFromEnvironment({ ...environment, MAX_PER_RUN: "twenty" })).toThrow(
            "MAX_PER_RUN is twenty, not a whole number of 1 or more",
        );
        expect(() => optionsFromEnvironment({ ...environment, MAX_FRACTION_PER_RUN: "1" })).toThrow(
            "MAX_FRACTION_PER_RUN is 1, not a fraction between 0 and 1",
        );
        expect(() => optionsFromEnvironment({ ...environment, ACCEPT_DIRECTORY_SIZE: "-1" })).toThrow(
            "ACCEPT_DIRECTORY_SIZE is -1, not a whole number",
        );
        expect(optionsFromEnvironment({ ...environment, ACCEPT_DIRECTORY_SIZE: "108" }).acceptDirectorySize).toBe(108);
    });
});
