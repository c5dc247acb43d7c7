/**
 * The Integrations component under Pulumi's mocks: one resource per webhook, the URLs a secret output.
 * What its providers do against Mattermost (webhooks found again, the role permissions each version
 * checks) is proven against the real server in the chat suite (tests/chat/integrations.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";

const teamCity = { team: "engineering", channel: "builds", displayName: "TeamCity" };

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
