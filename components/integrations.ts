import * as pulumi from "@pulumi/pulumi";
import * as mattermostApi from "./mattermostApi";
import type { WebhookSpec } from "./mattermostApi";
import { webhookResourceSuffix } from "../config/webhooks";

export const integrationsType = "mattermost:app:Integrations";

export interface IntegrationsArgs {
    readonly siteUrl: string;
    /** A system-admin bot's access token (a secret). */
    readonly token: pulumi.Input<string>;
    readonly incomingWebhooks: readonly WebhookSpec[];
    readonly creators: "admins" | "everyone";
}

interface WebhookInputs extends WebhookSpec {
    siteUrl: string;
    token: string;
}

/**
 * Runs where `pulumi up` runs, against Mattermost's public URL; Pulumi serializes these methods with the
 * API module they use.
 */
const webhookProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: WebhookInputs) {
        const hook = await mattermostApi.ensureIncomingWebhook(
            { siteUrl: inputs.siteUrl, token: inputs.token },
            inputs,
        );
        return { id: hook.id, outs: { ...inputs, url: `${inputs.siteUrl.replace(/\/+$/, "")}/hooks/${hook.id}` } };
    },
    diff(_id: string, olds: WebhookInputs, news: WebhookInputs) {
        const replaces = (["siteUrl", "team", "channel", "displayName"] as const).filter(
            (key) => olds[key] !== news[key],
        );
        return Promise.resolve({
            changes: replaces.length > 0 || olds.token !== news.token,
            replaces,
            deleteBeforeReplace: true,
        });
    },
    update(id: string, _olds: WebhookInputs, news: WebhookInputs) {
        // Only the token changed: the webhook stays, and its URL with it.
        return Promise.resolve({ outs: { ...news, url: `${news.siteUrl.replace(/\/+$/, "")}/hooks/${id}` } });
    },
    async delete(id: string, props: WebhookInputs) {
        await mattermostApi.deleteIncomingWebhook({ siteUrl: props.siteUrl, token: props.token }, id);
    },
};

interface PermissionInputs {
    siteUrl: string;
    token: string;
    creators: "admins" | "everyone";
}

const permissionsProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: PermissionInputs) {
        await mattermostApi.setIntegrationCreators({ siteUrl: inputs.siteUrl, token: inputs.token }, inputs.creators);
        return { id: "team_user", outs: inputs };
    },
    async update(_id: string, _olds: PermissionInputs, news: PermissionInputs) {
        await mattermostApi.setIntegrationCreators({ siteUrl: news.siteUrl, token: news.token }, news.creators);
        return { outs: news };
    },
};

class IncomingWebhook extends pulumi.dynamic.Resource {
    declare public readonly url: pulumi.Output<string>;

    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(webhookProvider, name, { ...args, url: undefined }, opts, "mattermost", "IncomingWebhook");
    }
}

class IntegrationCreators extends pulumi.dynamic.Resource {
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(permissionsProvider, name, args, opts, "mattermost", "IntegrationCreators");
    }
}

/**
 * Integrations as code (issue 8): who may create integrations, as role permissions (what replaced
 * EnableOnlyAdminIntegrations), and the declared incoming webhooks, created once and found again on
 * every later run. Each webhook's URL is a credential: the `urls` output is secret.
 */
export class Integrations extends pulumi.ComponentResource {
    /** Display name to webhook URL. */
    public readonly urls: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: IntegrationsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(integrationsType, name, {}, opts);
        const secretOutputs = { parent: this, additionalSecretOutputs: ["token", "url"] };
        new IntegrationCreators(
            `${name}-creators`,
            { siteUrl: args.siteUrl, token: args.token, creators: args.creators },
            secretOutputs,
        );
        const hooks = args.incomingWebhooks.map(
            (spec) =>
                [
                    spec.displayName,
                    new IncomingWebhook(
                        `${name}-webhook-${webhookResourceSuffix(spec)}`,
                        { siteUrl: args.siteUrl, token: args.token, ...spec },
                        secretOutputs,
                    ),
                ] as const,
        );
        this.urls = pulumi.secret(
            pulumi
                .all(hooks.map(([displayName, hook]) => hook.url.apply((url) => [displayName, url] as const)))
                .apply((entries) => Object.fromEntries(entries)),
        );
        this.registerOutputs({ urls: this.urls });
    }
}
