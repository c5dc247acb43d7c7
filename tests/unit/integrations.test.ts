/**
 * Integrations as code against a fake Mattermost API built from the documented endpoints (shared/
 * reference/mattermost.md section 5): webhooks found again rather than duplicated, across pages; a
 * deleted one gone for good; the integration permissions given to or taken from team members. And the
 * component under Pulumi's mocks: one resource per webhook, the URLs a secret output.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import {
    deleteIncomingWebhook,
    ensureIncomingWebhook,
    integrationPermissions,
    setIntegrationCreators,
    type MattermostApi,
} from "../../components/mattermostApi";

interface Hook {
    id: string;
    channel_id: string;
    team_id: string;
    display_name: string;
}

const state = {
    hooks: [] as Hook[],
    teamUserPermissions: [] as string[],
    calls: [] as string[],
    created: 0,
};
let server: http.Server;
let api: MattermostApi;

beforeAll(async () => {
    server = http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk.toString()));
        request.on("end", () => {
            const url = new URL(request.url ?? "", "http://fake");
            state.calls.push(`${request.method} ${url.pathname}`);
            const json = (status: number, value?: unknown) => {
                response.writeHead(status, { "content-type": "application/json" });
                response.end(value === undefined ? "" : JSON.stringify(value));
            };
            if (request.headers.authorization !== "Bearer admin-token") {
                json(401, { message: "invalid or expired session" });
            } else if (url.pathname === "/api/v4/teams/name/engineering") {
                json(200, { id: "team-1", name: "engineering" });
            } else if (url.pathname.startsWith("/api/v4/teams/name/")) {
                json(404, { message: "team not found" });
            } else if (url.pathname === "/api/v4/teams/team-1/channels/name/builds") {
                json(200, { id: "channel-builds", name: "builds" });
            } else if (url.pathname === "/api/v4/hooks/incoming" && request.method === "GET") {
                const page = Number(url.searchParams.get("page"));
                const perPage = Number(url.searchParams.get("per_page"));
                const ofTeam = state.hooks.filter((hook) => hook.team_id === url.searchParams.get("team_id"));
                json(200, ofTeam.slice(page * perPage, (page + 1) * perPage));
            } else if (url.pathname === "/api/v4/hooks/incoming" && request.method === "POST") {
                const input = JSON.parse(body) as { channel_id: string; display_name: string };
                state.created += 1;
                const hook = { id: `hook-${state.created}`, team_id: "team-1", ...input };
                state.hooks.push(hook);
                json(201, hook);
            } else if (url.pathname.startsWith("/api/v4/hooks/incoming/") && request.method === "DELETE") {
                const id = url.pathname.split("/").pop();
                const before = state.hooks.length;
                state.hooks = state.hooks.filter((hook) => hook.id !== id);
                json(state.hooks.length < before ? 200 : 404, { status: "OK" });
            } else if (url.pathname === "/api/v4/roles/name/team_user") {
                json(200, { id: "role-team-user", name: "team_user", permissions: state.teamUserPermissions });
            } else if (url.pathname === "/api/v4/roles/role-team-user/patch" && request.method === "PATCH") {
                state.teamUserPermissions = (JSON.parse(body) as { permissions: string[] }).permissions;
                json(200, { id: "role-team-user", permissions: state.teamUserPermissions });
            } else {
                json(404, { message: "not found" });
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = { siteUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: "admin-token" };
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(() => {
    // 250 other webhooks of the team first, so the one looked for is on the second page.
    state.hooks = Array.from({ length: 250 }, (_, i) => ({
        id: `other-${i}`,
        team_id: "team-1",
        channel_id: "channel-other",
        display_name: `Other ${i}`,
    }));
    state.calls = [];
    state.created = 0;
});

const teamCity = { team: "engineering", channel: "builds", displayName: "TeamCity" };

describe("incoming webhooks", () => {
    it("are created once, then found again on every later run, across pages", async () => {
        const first = await ensureIncomingWebhook(api, teamCity);
        const again = await ensureIncomingWebhook(api, teamCity);
        expect(again).toEqual(first);
        expect(state.created).toBe(1);
        expect(state.hooks.filter((hook) => hook.display_name === "TeamCity")).toEqual([
            expect.objectContaining({ id: first.id, channel_id: "channel-builds", display_name: "TeamCity" }),
        ]);
    });

    it("are deleted, and deleting one already gone is no error", async () => {
        const hook = await ensureIncomingWebhook(api, teamCity);
        await deleteIncomingWebhook(api, hook.id);
        await deleteIncomingWebhook(api, hook.id);
        expect(state.hooks.some((candidate) => candidate.id === hook.id)).toBe(false);
    });

    it("fail with the call that failed, and never the token, for a team that does not exist", async () => {
        await expect(ensureIncomingWebhook(api, { ...teamCity, team: "marketing" })).rejects.toThrow(
            new Error("Mattermost answered 404 to GET /api/v4/teams/name/marketing"),
        );
        expect(state.created).toBe(0);
    });
});

describe("who may create integrations", () => {
    it("gives team members the integration permissions, or takes them away, keeping the others", async () => {
        state.teamUserPermissions = ["create_post", "manage_incoming_webhooks"];
        expect(await setIntegrationCreators(api, "admins")).toBe(true);
        expect(state.teamUserPermissions).toEqual(["create_post"]);
        expect(await setIntegrationCreators(api, "admins")).toBe(false);
        expect(await setIntegrationCreators(api, "everyone")).toBe(true);
        expect([...state.teamUserPermissions].sort()).toEqual(["create_post", ...integrationPermissions].sort());
        expect(state.calls.filter((call) => call.startsWith("PATCH"))).toHaveLength(2);
    });
});

describe("the Integrations component", () => {
    it("declares one webhook resource each, and exports their URLs as a secret", async () => {
        const registered: { type: string; name: string }[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource(args) {
                    registered.push({ type: args.type, name: args.name });
                    const inputs = args.inputs as Record<string, unknown>;
                    return {
                        id: `${args.name}-id`,
                        state: args.type.endsWith(":IncomingWebhook")
                            ? { ...inputs, url: `https://chat.example.com/hooks/${args.name}` }
                            : inputs,
                    };
                },
                call: (args) => args.inputs as Record<string, unknown>,
            },
            "mattermost",
            "unit",
            false,
        );
        const { Integrations } = await import("../../components/integrations");
        const integrations = new Integrations("integrations", {
            siteUrl: "https://chat.example.com",
            token: pulumi.secret("admin-token"),
            incomingWebhooks: [teamCity, { team: "engineering", channel: "code-review", displayName: "Bitbucket" }],
            creators: "admins",
        });
        const urls = await new Promise<Record<string, string>>((resolve) => integrations.urls.apply(resolve));
        expect(Object.keys(urls).sort()).toEqual(["Bitbucket", "TeamCity"]);
        expect(await pulumi.isSecret(integrations.urls)).toBe(true);
        expect(registered.filter((resource) => resource.type.endsWith(":IncomingWebhook"))).toHaveLength(2);
        expect(registered.filter((resource) => resource.type.endsWith(":IntegrationCreators"))).toHaveLength(1);
    });
});
