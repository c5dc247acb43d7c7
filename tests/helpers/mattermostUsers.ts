/**
 * FAKE: Mattermost's user API as the deprovisioning job uses it (GET /api/v4/users?active=true&page&per_page,
 * DELETE /api/v4/users/{id}), from the documented shapes (shared/reference/mattermost.md section 5). The
 * real Mattermost server is issue 15's; until it runs in the tests, this is the job's Mattermost side.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface MattermostAccount {
    id: string;
    username: string;
    auth_service: string;
    auth_data: string;
    email?: string;
    delete_at: number;
    is_bot?: boolean;
}

export interface MattermostUsers {
    readonly url: string;
    readonly token: string;
    accounts: MattermostAccount[];
    /** Usernames deactivated so far, in order. */
    readonly deactivated: string[];
    stop(): Promise<void>;
}

export async function startMattermostUsers(token = "fake-mattermost-admin-token"): Promise<MattermostUsers> {
    const state = { accounts: [] as MattermostAccount[], deactivated: [] as string[] };
    const server = http.createServer((request, response) => {
        const url = new URL(request.url ?? "/", "http://fake");
        const json = (status: number, value: unknown) => {
            response.writeHead(status, { "content-type": "application/json" });
            response.end(JSON.stringify(value));
        };
        if (request.headers.authorization !== `Bearer ${token}`) {
            return json(401, { id: "api.context.session_expired.app_error" });
        }
        if (request.method === "GET" && url.pathname === "/api/v4/users") {
            const perPage = Number(url.searchParams.get("per_page") ?? "60");
            const page = Number(url.searchParams.get("page") ?? "0");
            const active = state.accounts.filter(
                (account) => url.searchParams.get("active") !== "true" || account.delete_at === 0,
            );
            return json(200, active.slice(page * perPage, (page + 1) * perPage));
        }
        const deactivate = /^\/api\/v4\/users\/([^/]+)$/.exec(url.pathname);
        if (request.method === "DELETE" && deactivate) {
            const account = state.accounts.find((candidate) => candidate.id === deactivate[1]);
            if (!account) {
                return json(404, { id: "app.user.missing_account.const" });
            }
            account.delete_at = Date.now();
            state.deactivated.push(account.username);
            return json(200, { status: "OK" });
        }
        json(404, { id: "api.context.404.app_error" });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        token,
        get accounts() {
            return state.accounts;
        },
        set accounts(accounts: MattermostAccount[]) {
            state.accounts = accounts;
        },
        deactivated: state.deactivated,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
