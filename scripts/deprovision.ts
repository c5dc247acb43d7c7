/**
 * The deprovisioning job (issue 7, DESIGN decision 9): shuts out of Mattermost the people disabled in or
 * removed from Active Directory. Mattermost does not do it by itself: SSO sessions outlive the AD
 * account, personal access tokens and bots keep working, and a user deactivated only in Mattermost is
 * re-activated at the next SSO login while Keycloak still lets them in.
 *
 * Each run: (a) asks Keycloak to sync the users changed in AD; (b) reads every Keycloak user (checked
 * against Keycloak's own count) and every active Mattermost user, page by page, and changes nothing if any
 * read fails; (c) maps each Mattermost SSO account to its Keycloak user by the numeric id (`auth_service`
 * + `auth_data`), or by its e-mail address where the server does not show the id (before Mattermost 11 its
 * user list blanks `auth_data` even for a system admin; the SSO login sets the account's address from
 * Keycloak's at every login, lower-cased); (d) logs the disabled users out of Keycloak, then (e)
 * deactivates the accounts whose Keycloak user is disabled or gone (which revokes their sessions and
 * tokens and disables their bots); (f) reports the accounts whose id no longer exists in Keycloak; (g)
 * never touches local accounts or the allow-list. A broken directory must not empty the chat: it changes
 * nothing when Keycloak shows every AD user disabled (what Keycloak answers when it cannot reach AD), when
 * every SSO account would go, or when more than `maxPerRun` would. It stops at the deadline and ends with
 * one JSON summary line. A failed run is retried by the next one; a repeated run changes nothing. Node's
 * standard library only, so the ConfigMap holds the whole program.
 *
 * Configuration, from the environment: KEYCLOAK_URL (with /auth), KEYCLOAK_REALM, KEYCLOAK_CLIENT_ID,
 * KEYCLOAK_CLIENT_SECRET, KEYCLOAK_ID_ATTRIBUTE, MATTERMOST_URL, MATTERMOST_TOKEN, MATTERMOST_AUTH_SERVICE
 * (gitlab or openid), ALLOW_LIST (usernames, comma-separated), DRY_RUN (true/false), MAX_PER_RUN,
 * DEADLINE_SECONDS.
 */

export interface DeprovisionOptions {
    readonly keycloakUrl: string;
    readonly realm: string;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly idAttribute: string;
    readonly mattermostUrl: string;
    readonly mattermostToken: string;
    readonly authService: "gitlab" | "openid";
    readonly allowList: readonly string[];
    readonly dryRun: boolean;
    readonly maxPerRun: number;
    readonly deadlineMs: number;
    readonly pageSize?: number;
}

export interface Summary {
    readonly event: "deprovision-summary";
    readonly dryRun: boolean;
    readonly outcome: "ok" | "refused" | "failed";
    readonly keycloakUsers: number;
    readonly mattermostSsoAccounts: number;
    readonly localAccountsIgnored: number;
    readonly allowListed: readonly string[];
    /** Accounts whose Keycloak user is disabled. */
    readonly disabled: readonly string[];
    /** Accounts whose id no longer exists in Keycloak (removed from AD, or an id that changed). */
    readonly orphans: readonly string[];
    readonly deactivated: readonly string[];
    readonly loggedOutOfKeycloak: readonly string[];
    /**
     * Keycloak users whose id is missing or not a positive whole number: Mattermost's GitLab login cannot
     * take them (Keycloak's userinfo fails on a non-number), so they cannot log in until AD is corrected.
     */
    readonly withoutValidId: readonly string[];
    /** SSO accounts whose id the server did not show, mapped to their Keycloak user by e-mail address. */
    readonly mappedByEmail: readonly string[];
    /** What Keycloak answered to each changed-users sync. */
    readonly syncResults: readonly unknown[];
    readonly error?: string;
    readonly durationMs: number;
}

interface KeycloakUser {
    id: string;
    username: string;
    email?: string;
    enabled: boolean;
    /** The user-storage provider (AD) the user comes from. */
    federationLink?: string;
    attributes?: Record<string, string[]>;
}
interface MattermostUser {
    id: string;
    username: string;
    auth_service: string;
    auth_data?: string;
    email?: string;
    delete_at: number;
    is_bot?: boolean;
}

class ApiError extends Error {}

type Call = (method: string, url: string, headers: Record<string, string>, body?: string) => Promise<unknown>;

/**
 * Every Keycloak user, page by page, checked against Keycloak's own count: a page cut short (a proxy, a
 * timeout, a restarting pod) would otherwise end the list early and make everyone after it look removed.
 */
async function readKeycloakUsers(
    call: Call,
    admin: string,
    headers: Record<string, string>,
    pageSize: number,
): Promise<KeycloakUser[]> {
    const expected = (await call("GET", `${admin}/users/count`, headers)) as number;
    const users: KeycloakUser[] = [];
    for (let first = 0; ; first += pageSize) {
        const page = (await call(
            "GET",
            `${admin}/users?briefRepresentation=false&first=${first}&max=${pageSize}`,
            headers,
        )) as KeycloakUser[];
        users.push(...page);
        if (page.length < pageSize) {
            break;
        }
    }
    if (users.length !== expected) {
        throw new ApiError(
            `Keycloak listed ${users.length} users but counts ${expected}: a page came back short, so nothing changed`,
        );
    }
    return users;
}

/** The id Mattermost's GitLab provider takes: a positive int64, as the realm's user profile declares it. */
function usersWithoutValidId(users: readonly KeycloakUser[], idAttribute: string): string[] {
    return users
        .filter((user) => !(user.attributes?.[idAttribute] ?? []).some((id) => /^[1-9][0-9]{0,17}$/.test(id)))
        .map((user) => user.username);
}

/** fetch's own error says only "fetch failed"; its cause says why (refused, reset, no such host). */
function unreachable(error: unknown): string {
    const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
    const reason = cause?.code ?? cause?.message;
    return reason ? `${String(error)} (${reason})` : String(error);
}

export async function deprovision(options: DeprovisionOptions): Promise<Summary> {
    const started = Date.now();
    const deadline = AbortSignal.timeout(options.deadlineMs);
    const pageSize = options.pageSize ?? 100;
    const counts = { keycloakUsers: 0, mattermostSsoAccounts: 0, localAccountsIgnored: 0 };
    const found = {
        allowListed: [] as string[],
        disabled: [] as string[],
        orphans: [] as string[],
        mappedByEmail: [] as string[],
        syncResults: [] as unknown[],
        withoutValidId: [] as string[],
    };
    const done = { deactivated: [] as string[], loggedOutOfKeycloak: [] as string[] };
    const summary = (outcome: Summary["outcome"], error?: string): Summary => ({
        event: "deprovision-summary",
        dryRun: options.dryRun,
        outcome,
        ...counts,
        ...found,
        ...done,
        ...(error ? { error } : {}),
        durationMs: Date.now() - started,
    });

    async function call(method: string, url: string, headers: Record<string, string>, body?: string): Promise<unknown> {
        const response = await fetch(url, { method, headers, body, signal: deadline });
        if (!response.ok) {
            throw new ApiError(`${method} ${new URL(url).pathname} answered ${response.status}`);
        }
        const text = await response.text();
        return text ? (JSON.parse(text) as unknown) : undefined;
    }

    try {
        const keycloak = options.keycloakUrl.replace(/\/+$/, "");
        const token = (await call(
            "POST",
            `${keycloak}/realms/${options.realm}/protocol/openid-connect/token`,
            { "content-type": "application/x-www-form-urlencoded" },
            new URLSearchParams({
                grant_type: "client_credentials",
                client_id: options.clientId,
                client_secret: options.clientSecret,
            }).toString(),
        )) as { access_token: string };
        const admin = `${keycloak}/admin/realms/${options.realm}`;
        const asKeycloak = { authorization: `Bearer ${token.access_token}` };

        // (a) AD's latest changes first (disabled flags come with them), then everything is read.
        const providers = (await call(
            "GET",
            `${admin}/components?type=org.keycloak.storage.UserStorageProvider`,
            asKeycloak,
        )) as { id: string }[];
        for (const provider of providers) {
            const result = await call(
                "POST",
                `${admin}/user-storage/${provider.id}/sync?action=triggerChangedUsersSync`,
                asKeycloak,
            );
            found.syncResults.push(result);
        }

        // (b) Read everything before changing anything: a failed read leaves no half-done run.
        const keycloakUsers = await readKeycloakUsers(call, admin, asKeycloak, pageSize);
        counts.keycloakUsers = keycloakUsers.length;
        if (options.authService === "gitlab") {
            found.withoutValidId.push(...usersWithoutValidId(keycloakUsers, options.idAttribute));
        }
        const mattermost = options.mattermostUrl.replace(/\/+$/, "");
        const asMattermost = { authorization: `Bearer ${options.mattermostToken}` };
        const accounts: MattermostUser[] = [];
        for (let page = 0; ; page += 1) {
            const users = (await call(
                "GET",
                `${mattermost}/api/v4/users?active=true&page=${page}&per_page=${pageSize}`,
                asMattermost,
            )) as MattermostUser[];
            accounts.push(...users);
            if (users.length < pageSize) {
                break;
            }
        }

        // (c) Each SSO account's Keycloak user, by the numeric id (OpenID Connect may key on the subject),
        // or by e-mail address when the server blanked the id.
        const byId = new Map<string, KeycloakUser>();
        const byEmail = new Map<string, KeycloakUser>();
        for (const user of keycloakUsers) {
            for (const id of user.attributes?.[options.idAttribute] ?? []) {
                byId.set(id, user);
            }
            if (options.authService === "openid") {
                byId.set(user.id, user);
            }
            if (user.email) {
                byEmail.set(user.email.toLowerCase(), user);
            }
        }
        const keycloakUserOf = (account: MattermostUser): KeycloakUser | undefined => {
            if (account.auth_data) {
                return byId.get(account.auth_data);
            }
            found.mappedByEmail.push(account.username);
            return account.email ? byEmail.get(account.email.toLowerCase()) : undefined;
        };
        const toDeactivate: { account: MattermostUser; keycloakUser?: KeycloakUser }[] = [];
        for (const account of accounts) {
            if (account.delete_at !== 0 || account.is_bot) {
                continue;
            }
            if (account.auth_service !== options.authService) {
                counts.localAccountsIgnored += 1;
                continue;
            }
            counts.mattermostSsoAccounts += 1;
            if (options.allowList.includes(account.username)) {
                found.allowListed.push(account.username);
                continue;
            }
            const keycloakUser = keycloakUserOf(account);
            if (!keycloakUser) {
                found.orphans.push(account.username);
                toDeactivate.push({ account });
            } else if (!keycloakUser.enabled) {
                found.disabled.push(account.username);
                toDeactivate.push({ account, keycloakUser });
            }
        }
        const federated = keycloakUsers.filter((user) => user.federationLink);
        if (federated.length > 0 && federated.every((user) => !user.enabled)) {
            // Keycloak answers this way when it cannot reach AD: each AD user as disabled, read-only.
            return summary(
                "refused",
                `Keycloak shows every one of its ${federated.length} users from AD as disabled, as it does when it cannot reach AD: nothing changed. Check Keycloak's connection to the domain controllers`,
            );
        }
        const candidates = counts.mattermostSsoAccounts - found.allowListed.length;
        if (toDeactivate.length > 0 && toDeactivate.length === candidates) {
            return summary(
                "refused",
                `every one of the ${candidates} SSO accounts would be deactivated: Keycloak's user list looks broken (a directory outage?), so nothing changed. If all of them really left, deactivate them in Mattermost by hand`,
            );
        }
        if (toDeactivate.length > options.maxPerRun) {
            return summary(
                "refused",
                `${toDeactivate.length} accounts would be deactivated, more than the ${options.maxPerRun} allowed in one run: check the directory, then raise deprovisionMaxPerRun`,
            );
        }
        if (options.dryRun) {
            return summary("ok");
        }

        // (d) then (e): Keycloak first, so a run cut short leaves the account active, and the next run,
        // which reads only active accounts, does both. Deactivation revokes sessions and tokens and bots.
        for (const { account, keycloakUser } of toDeactivate) {
            if (keycloakUser) {
                await call("POST", `${admin}/users/${keycloakUser.id}/logout`, asKeycloak);
                done.loggedOutOfKeycloak.push(account.username);
            }
            await call("DELETE", `${mattermost}/api/v4/users/${account.id}`, asMattermost);
            done.deactivated.push(account.username);
        }
        return summary("ok");
    } catch (error) {
        const message =
            error instanceof ApiError
                ? error.message
                : deadline.aborted
                  ? `stopped at the deadline of ${options.deadlineMs} ms`
                  : unreachable(error);
        return summary("failed", message);
    }
}

export function optionsFromEnvironment(environment: NodeJS.ProcessEnv): DeprovisionOptions {
    const required = (name: string) => {
        const value = environment[name];
        if (!value) {
            throw new Error(`${name} is not set`);
        }
        return value;
    };
    const authService = required("MATTERMOST_AUTH_SERVICE");
    if (authService !== "gitlab" && authService !== "openid") {
        throw new Error(`MATTERMOST_AUTH_SERVICE is ${authService}, not gitlab or openid`);
    }
    return {
        keycloakUrl: required("KEYCLOAK_URL"),
        realm: required("KEYCLOAK_REALM"),
        clientId: required("KEYCLOAK_CLIENT_ID"),
        clientSecret: required("KEYCLOAK_CLIENT_SECRET"),
        idAttribute: required("KEYCLOAK_ID_ATTRIBUTE"),
        mattermostUrl: required("MATTERMOST_URL"),
        mattermostToken: required("MATTERMOST_TOKEN"),
        authService,
        allowList: (environment.ALLOW_LIST ?? "")
            .split(",")
            .map((name) => name.trim())
            .filter(Boolean),
        dryRun: environment.DRY_RUN === "true",
        maxPerRun: Number(environment.MAX_PER_RUN ?? "20"),
        deadlineMs: Number(environment.DEADLINE_SECONDS ?? "120") * 1000,
    };
}

if (require.main === module) {
    deprovision(optionsFromEnvironment(process.env))
        .then((summary) => {
            console.log(JSON.stringify({ time: new Date().toISOString(), ...summary }));
            process.exit(summary.outcome === "ok" ? 0 : 1);
        })
        .catch((error: unknown) => {
            console.log(JSON.stringify({ event: "deprovision-summary", outcome: "failed", error: String(error) }));
            process.exit(1);
        });
}
