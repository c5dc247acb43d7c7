/**
 * The few calls to Mattermost's REST API (v4) that `pulumi up` makes for the integrations (issue 8):
 * incoming webhooks, and the role permissions that say who may create integrations. Each is idempotent,
 * so a repeated `pulumi up` changes nothing. Used by the dynamic providers in integrations.ts; kept free
 * of Pulumi so the tests call them against a fake server.
 */

export interface MattermostApi {
    /** The chat's public URL, https://<hostname>. */
    readonly siteUrl: string;
    /** A system-admin bot's access token. */
    readonly token: string;
}

export interface WebhookSpec {
    readonly team: string;
    readonly channel: string;
    readonly displayName: string;
}

/** The permissions that were EnableOnlyAdminIntegrations until Mattermost 4.9. */
export const integrationPermissions = [
    "manage_incoming_webhooks",
    "manage_outgoing_webhooks",
    "manage_slash_commands",
    "manage_oauth",
];

export class MattermostApiError extends Error {
    constructor(
        message: string,
        readonly status: number,
    ) {
        super(message);
    }
}

async function call<T>(api: MattermostApi, method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${api.siteUrl.replace(/\/+$/, "")}/api/v4${path}`, {
        method,
        headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30000),
    });
    if (!response.ok) {
        // The path names what failed; the token is never part of a message.
        throw new MattermostApiError(
            `Mattermost answered ${response.status} to ${method} /api/v4${path}`,
            response.status,
        );
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
}

interface Hook {
    id: string;
    channel_id: string;
    display_name: string;
}

/** The webhook with this display name in this channel, created if there is none. */
export async function ensureIncomingWebhook(api: MattermostApi, spec: WebhookSpec): Promise<{ id: string }> {
    const team = await call<{ id: string }>(api, "GET", `/teams/name/${encodeURIComponent(spec.team)}`);
    const channel = await call<{ id: string }>(
        api,
        "GET",
        `/teams/${team.id}/channels/name/${encodeURIComponent(spec.channel)}`,
    );
    for (let page = 0; ; page++) {
        const hooks = await call<Hook[]>(api, "GET", `/hooks/incoming?team_id=${team.id}&page=${page}&per_page=200`);
        const existing = hooks.find((hook) => hook.channel_id === channel.id && hook.display_name === spec.displayName);
        if (existing) {
            return { id: existing.id };
        }
        if (hooks.length < 200) {
            break;
        }
    }
    const created = await call<Hook>(api, "POST", "/hooks/incoming", {
        channel_id: channel.id,
        display_name: spec.displayName,
        description: "Managed by the mattermost Pulumi program (incomingWebhooks)",
    });
    return { id: created.id };
}

/** Deletes the webhook; one already gone is fine. */
export async function deleteIncomingWebhook(api: MattermostApi, id: string): Promise<void> {
    try {
        await call(api, "DELETE", `/hooks/incoming/${id}`);
    } catch (error) {
        if (!(error instanceof MattermostApiError && error.status === 404)) {
            throw error;
        }
    }
}

/**
 * Team members may create integrations (`everyone`) or only team and system admins may (`admins`): the
 * integration permissions added to or taken from the team_user role. Returns whether it changed it.
 */
export async function setIntegrationCreators(api: MattermostApi, creators: "admins" | "everyone"): Promise<boolean> {
    const role = await call<{ id: string; permissions: string[] }>(api, "GET", "/roles/name/team_user");
    const others = role.permissions.filter((permission) => !integrationPermissions.includes(permission));
    const wanted = creators === "everyone" ? [...others, ...integrationPermissions] : others;
    if ([...wanted].sort().join() === [...role.permissions].sort().join()) {
        return false;
    }
    await call(api, "PATCH", `/roles/${role.id}/patch`, { permissions: wanted });
    return true;
}
