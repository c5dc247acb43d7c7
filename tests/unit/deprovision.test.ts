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
import { deprovision, type DeprovisionOptions } from "../../scripts/deprovision";

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

/** One fake of each, sharing a log of every call; `fail` makes the next matching call answer 500. */
class Fakes {
    readonly calls: string[] = [];
    keycloakUsers: KeycloakUser[] = [];
    mattermostUsers: MattermostAccount[] = [];
    fail?: RegExp;
    hang?: RegExp;
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
        } else if (url.pathname === "/auth/admin/realms/mattermost/components") {
            json(200, [{ id: "ldap-1", providerId: "ldap" }]);
        } else if (url.pathname === "/auth/admin/realms/mattermost/user-storage/ldap-1/sync") {
            json(200, { added: 0, updated: 1, removed: 0, failed: 0 });
        } else if (url.pathname === "/auth/admin/realms/mattermost/users/count") {
            json(200, this.keycloakUsers.length);
        } else if (url.pathname === "/auth/admin/realms/mattermost/users") {
            const first = Number(url.searchParams.get("first"));
            const max = Number(url.searchParams.get("max"));
            json(200, page(this.keycloakUsers, first, max));
        } else if (/^\/auth\/admin\/realms\/mattermost\/users\/[^/]+\/logout$/.test(url.pathname)) {
            json(204);
        } else if (url.pathname.startsWith("/api/v4/") && !mmAuth) {
            json(401, { message: "invalid token" });
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

const writes = () => fakes.calls.filter((call) => /^(DELETE|POST) .*(\/api\/v4\/users\/|\/logout)/.test(call));

beforeAll(() => fakes.start());
afterAll(() => fakes.stop());
beforeEach(() => {
    directory();
    fakes.calls.length = 0;
    fakes.fail = undefined;
    fakes.hang = undefined;
});

describe("the deprovisioning job", () => {
    it("deactivates the disabled and the removed, logs the disabled out of Keycloak, and touches nobody else", async () => {
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
            loggedOutOfKeycloak: ["user5"],
        });
        // Keycloak's logout first: a run cut short between the two leaves the account active for the next run.
        expect(writes()).toEqual([
            "POST /auth/admin/realms/mattermost/users/kc-5/logout",
            "DELETE /api/v4/users/mm-5",
            "DELETE /api/v4/users/mm-7",
        ]);
        // AD's changes were pulled in first, and every page was read.
        expect(fakes.calls).toContain(
            "POST /auth/admin/realms/mattermost/user-storage/ldap-1/sync?action=triggerChangedUsersSync",
        );
        expect(fakes.calls.filter((call) => call.startsWith("GET /auth/admin/realms/mattermost/users?"))).toHaveLength(
            3,
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

    it("refuses to deactivate more than its limit in one run", async () => {
        // 29 people past the cut look removed, beside user5 (disabled) and user7 (removed).
        fakes.keycloakUsers = fakes.keycloakUsers.slice(0, 90);
        const summary = await deprovision(options());
        expect(summary.outcome).toBe("refused");
        expect(summary.error).toBe(
            "31 accounts would be deactivated, more than the 20 allowed in one run: check the directory, then raise deprovisionMaxPerRun",
        );
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
        const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "deprovision-")), "deprovision.js");
        fs.writeFileSync(script, renderDeprovisionScript());
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
        // Spawned, not run synchronously: the fakes answer from this very process.
        const { status, output } = await new Promise<{ status: number | null; output: string }>((resolve) => {
            const child = spawn(process.execPath, [script], { env: environment });
            let output = "";
            child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
            child.on("close", (code) => resolve({ status: code, output }));
        });
        expect(status).toBe(0);
        const summary = JSON.parse(output.trim()) as Record<string, unknown>;
        expect(summary).toMatchObject({ event: "deprovision-summary", outcome: "ok", deactivated: ["user5", "user7"] });
        // The one log line names accounts, never a token or a secret.
        expect(output).not.toMatch(/kc-secret|mm-token|kc-access-token/);
    });
});
