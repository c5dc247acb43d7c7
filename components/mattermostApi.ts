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

/**
 * The team permissions that say who may create webhooks and slash commands (what replaced
 * EnableOnlyAdminIntegrations), by the names the server checks: Mattermost 11 checks `manage_own_*`
 * (mattermost/mattermost#34421) and keeps the older names only as deprecated ones that grant nothing.
 */
export const legacyIntegrationPermissions = [
    "manage_incoming_webhooks",
    "manage_outgoing_webhooks",
    "manage_slash_commands",
] as const;
export const ownIntegrationPermissions = [
    "manage_own_incoming_webhooks",
    "manage_own_outgoing_webhooks",
    "manage_own_slash_commands",
] as const;

/** The integration permissions a server of this version checks (its `X-Version-Id`, e.g. `11.4.0.…`). */
export function integrationPermissions(serverVersion: string): readonly string[] {
    const major = Number(/^(\d+)\./.exec(serverVersion)?.[1]);
    if (!Number.isInteger(major)) {
        throw new Error(
            `Mattermost reported no version (X-Version-Id "${serverVersion}"), so the permission names are unknown`,
        );
    }
    return major >= 11 ? ownIntegrationPermissions : legacyIntegrationPermissions;
}

export class MattermostApiError extends Error {
    constructor(
        message: string,
        readonly status: number,
    ) {
        super(message);
    }
}

async function request<T>(
    api: MattermostApi,
    method: string,
    path: string,
    body?: unknown,
): Promise<{ json: T; headers: Headers }> {
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
    return { json: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

async function call<T>(api: MattermostApi, method: string, path: string, body?: unknown): Promise<T> {
    return (await request<T>(api, method, path, body)).json;
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
 * integration permissions, under the names this server checks, added to or taken from the team_user role
 * (the older names are taken away in both cases). Returns whether it changed it. Mattermost routes the
 * role patch as PUT only (api4/role.go).
 */
export async function setIntegrationCreators(api: MattermostApi, creators: "admins" | "everyone"): Promise<boolean> {
    const { json: role, headers } = await request<{ id: string; permissions: string[] }>(
        api,
        "GET",
        "/roles/name/team_user",
    );
    const granted = integrationPermissions(headers.get("x-version-id") ?? "");
    const managed = new Set<string>([...legacyIntegrationPermissions, ...ownIntegrationPermissions]);
    const others = role.permissions.filter((permission) => !managed.has(permission));
    const wanted = creators === "everyone" ? [...others, ...granted] : others;
    if ([...wanted].sort().join() === [...role.permissions].sort().join()) {
        return false;
    }
    await call(api, "PUT", `/roles/${role.id}/patch`, { permissions: wanted });
    return true;
}
