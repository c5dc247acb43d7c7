/**
 * Integrations as code against the real Mattermost (the calls `pulumi up` makes through the dynamic
 * providers of components/integrations.ts): who may create integrations, as the team_user role's
 * permissions under the names this server version checks, and incoming webhooks whose URL posts into
 * their channel. The API is reached directly here: in the cluster `pulumi up` reaches it through nginx at
 * the site URL.
 */
import {
    deleteIncomingWebhook,
    ensureIncomingWebhook,
    setIntegrationCreators,
    type MattermostApi,
} from "../../components/mattermostApi";
import { renderStack } from "../helpers/render";
import { adminBot, Api, createPerson, local, passwordLogin, startChat, teamWithChannel, type Chat } from "./fixture";

describe("integrations on the real Mattermost", () => {
    let chat: Chat;
    let api: MattermostApi;
    let team: { teamId: string; channelId: string };
    let member: Api & { userId: string };

    beforeAll(async () => {
        chat = await startChat(renderStack("test"));
        api = { siteUrl: chat.primary.url, token: (await adminBot(chat.primary)).token };
        team = await teamWithChannel(chat.primary, "engineering", "builds");
        const dana = await createPerson(chat.primary, "dana");
        await local(chat.primary, "POST", `/teams/${team.teamId}/members`, { team_id: team.teamId, user_id: dana.id });
        await local(chat.primary, "POST", `/channels/${team.channelId}/members`, { user_id: dana.id });
        member = Object.assign(new Api(chat.primary, await passwordLogin(chat.primary, dana.username, dana.password)), {
            userId: dana.id,
        });
    });
    afterAll(async () => {
        await chat?.stop();
    });

    const memberCreatesWebhook = async () =>
        (await member.call("POST", "/hooks/incoming", { channel_id: team.channelId, display_name: "by dana" })).status;

    it("lets a team member create webhooks with everyone, under this version's permission names", async () => {
        expect(await setIntegrationCreators(api, "everyone")).toBe(true);
        expect(await memberCreatesWebhook()).toBe(201);
        expect(await setIntegrationCreators(api, "everyone")).toBe(false);
    });

    it("stops a team member with admins, and keeps the role's other permissions", async () => {
        const before = (await local(chat.primary, "GET", "/roles/name/team_user")).permissions as string[];
        expect(await setIntegrationCreators(api, "admins")).toBe(true);
        expect(await memberCreatesWebhook()).toBe(403);
        const after = (await local(chat.primary, "GET", "/roles/name/team_user")).permissions as string[];
        expect(after).toEqual(expect.arrayContaining(before.filter((p) => !/webhooks|slash_commands/.test(p))));
        expect(await setIntegrationCreators(api, "admins")).toBe(false);
    });

    it("creates a webhook once, and its URL posts into its channel", async () => {
        const spec = { team: "engineering", channel: "builds", displayName: "TeamCity" };
        const hook = await ensureIncomingWebhook(api, spec);
        expect(await ensureIncomingWebhook(api, spec)).toEqual(hook);
        // The stack output is <siteUrl>/hooks/<id>; the site URL's nginx is not in front here.
        const text = `build ${Date.now()} passed`;
        const posted = await fetch(`${chat.primary.url}/hooks/${hook.id}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ text }),
        });
        expect(posted.status).toBe(200);
        const posts = await local(chat.primary, "GET", `/channels/${team.channelId}/posts`);
        expect(Object.values(posts.posts as Record<string, { message: string }>).map((p) => p.message)).toContain(text);
    });

    it("finds its webhook again behind 250 others of the team, across pages", async () => {
        const other = await teamWithChannel(chat.primary, "operations", "alerts");
        // Ten at a time: 250 inserts at once failed once in CI with a 500 ("Unable to save"), a load no operator makes.
        for (let batch = 0; batch < 250; batch += 10) {
            await Promise.all(
                Array.from({ length: 10 }, (_, i) =>
                    local(chat.primary, "POST", "/hooks/incoming", {
                        channel_id: other.channelId,
                        display_name: `Other ${batch + i}`,
                        user_id: member.userId,
                    }),
                ),
            );
        }
        const spec = { team: "operations", channel: "alerts", displayName: "Nagios" };
        const hook = await ensureIncomingWebhook(api, spec);
        expect(await ensureIncomingWebhook(api, spec)).toEqual(hook);
        const pages = await Promise.all(
            [0, 1].map((page) =>
                local(chat.primary, "GET", `/hooks/incoming?team_id=${other.teamId}&per_page=200&page=${page}`),
            ),
        );
        const listed = (pages as { display_name: string }[][]).flat();
        expect(listed).toHaveLength(251);
        expect(listed.filter((h) => h.display_name === "Nagios")).toHaveLength(1);
    });

    it("deletes a webhook, and deleting one already gone is no error", async () => {
        const hook = await ensureIncomingWebhook(api, { team: "engineering", channel: "builds", displayName: "Gone" });
        await deleteIncomingWebhook(api, hook.id);
        await deleteIncomingWebhook(api, hook.id);
        expect((await chat.primary.local("GET", `/hooks/incoming/${hook.id}`)).status).toBe(404);
    });

    it("names the call that failed, and never the token, for a team that does not exist", async () => {
        await expect(
            ensureIncomingWebhook(api, { team: "marketing", channel: "builds", displayName: "TeamCity" }),
        ).rejects.toThrow(new Error("Mattermost answered 404 to GET /api/v4/teams/name/marketing"));
    });
});
