/**
 * The deprovisioning job: shuts out of Mattermost the people disabled in or
 * removed from Active Directory. Mattermost does not do it by itself: SSO sessions outlive the AD
 * account, personal access tokens and bots keep working, and a user deactivated only in Mattermost is
 * re-activated at the next SSO login while Keycloak still lets them in.
 *
 * Each run: (a) reads every Keycloak user (checked against Keycloak's own count) and every active
 * Mattermost user, page by page, and changes nothing if any read fails; (b) maps each Mattermost SSO
 * account to its Keycloak user by the numeric id (`auth_service` + `auth_data`), or by its e-mail address
 * where the server does not show the id (before Mattermost 11 its user list blanks `auth_data` even for a
 * system admin; the SSO login sets the account's address from Keycloak's at every login, lower-cased);
 * (c) deactivates the accounts whose Keycloak user is disabled or gone (which revokes their sessions and
 * tokens and disables their bots); (d) reports the accounts whose id no longer exists in Keycloak; (e)
 * never touches local accounts or the allow-list.
 *
 * Its Keycloak client can only read users. Keycloak asks AD at every lookup of a user and pulls AD's
 * changes itself, so a disabled person shows as disabled without a sync from here; and it refuses a
 * disabled user's session cookie by itself, so that person's next SSO login cannot re-activate the
 * account. Asking for a sync or a logout would need `manage-users`, with which a stolen job secret could
 * create a Keycloak user claiming anyone's id.
 *
 * A broken directory must not empty the chat. Keycloak's users are read twice, before and after
 * Mattermost's, each read checked against Keycloak's count taken before and after it, and the two reads
 * must agree: a page cut short or a user removed while the pages were read (which shifts everyone after
 * them off the page they were on, so that one person seems gone) fails the run. It then changes nothing
 * when Keycloak shows every AD user disabled (what Keycloak answers when it cannot reach AD), when every
 * SSO account would go, when Keycloak's enabled users shrank by more than a fraction since the last good
 * run, or when more would go than the per-run limit: a fraction of the SSO accounts, at least a few, at
 * most `maxPerRun`. The last good run's view is kept in Mattermost, as a preference of the account whose
 * token the job holds (the only store the job can write: its network policy lets it reach Keycloak and
 * nginx only, and it has no Kubernetes token). It stops at the deadline and ends with one JSON summary
 * line. A failed or refused run exits non-zero and is retried by the next one; a repeated run changes
 * nothing. Node's standard library only, so the ConfigMap holds the whole program.
 *
 * Configuration, from the environment: KEYCLOAK_URL (with /auth), KEYCLOAK_REALM, KEYCLOAK_CLIENT_ID,
 * KEYCLOAK_CLIENT_SECRET, KEYCLOAK_ID_ATTRIBUTE, MATTERMOST_URL, MATTERMOST_TOKEN, MATTERMOST_AUTH_SERVICE
 * (gitlab or openid), ALLOW_LIST (usernames, comma-separated), DRY_RUN (true/false), MAX_PER_RUN,
 * MAX_FRACTION_PER_RUN (0.05), MAX_DIRECTORY_SHRINK (0.05), ACCEPT_DIRECTORY_SIZE (the one-off override of
 * the shrink check: the number of enabled Keycloak users the operator has checked), DEADLINE_SECONDS.
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
    /** The most one run may deactivate, however large the chat. */
    readonly maxPerRun: number;
    /** The share of the SSO accounts one run may deactivate (never fewer than `minimumPerRun`). */
    readonly maxFractionPerRun?: number;
    /** The share by which Keycloak's enabled users may shrink against the last good run. */
    readonly maxDirectoryShrink?: number;
    /** The enabled users an operator has checked: a view of exactly this many passes the shrink check. */
    readonly acceptDirectorySize?: number;
    readonly deadlineMs: number;
    readonly pageSize?: number;
}

export const defaultMaxFractionPerRun = 0.05;
export const defaultMaxDirectoryShrink = 0.05;
/**
 * However small the chat, one run may deactivate this many (if `maxPerRun` allows): a few people leaving
 * on one day must not block a small chat, where a fraction rounds to nothing; a run never takes everyone.
 */
export const minimumPerRun = 3;

/** Where the last good run's view is kept: a preference of the job's own Mattermost account. */
export const lastGoodPreference = { category: "deprovisioning", name: "last_good_run" } as const;

/** What the last good run saw of the directory. */
export interface DirectoryView {
    readonly enabledUsers: number;
    readonly users: number;
    /** When this view was first seen (later runs with the same view do not write it again). */
    readonly at: string;
}

export interface Summary {
    readonly event: "deprovision-summary";
    readonly dryRun: boolean;
    readonly outcome: "ok" | "refused" | "failed";
    readonly keycloakUsers: number;
    readonly enabledKeycloakUsers: number;
    readonly mattermostSsoAccounts: number;
    readonly localAccountsIgnored: number;
    /** How many this run could deactivate. */
    readonly perRunLimit: number;
    /** The last good run's view, as read from Mattermost before this run; null before the first. */
    readonly lastGood: DirectoryView | null;
    /** Whether this run wrote its view as the new last good one. */
    readonly recordedAsGood: boolean;
    readonly allowListed: readonly string[];
    /** Accounts whose Keycloak user is disabled. */
    readonly disabled: readonly string[];
    /** Accounts whose id no longer exists in Keycloak (removed from AD, or an id that changed). */
    readonly orphans: readonly string[];
    readonly deactivated: readonly string[];
    /**
     * Keycloak users whose id is missing or not a positive whole number: Mattermost's GitLab login cannot
     * take them (Keycloak's userinfo fails on a non-number), so they cannot log in until AD is corrected.
     */
    readonly withoutValidId: readonly string[];
    /** SSO accounts whose id the server did not show, mapped to their Keycloak user by e-mail address. */
    readonly mappedByEmail: readonly string[];
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
interface Preference {
    user_id: string;
    category: string;
    name: string;
    value: string;
}

class ApiError extends Error {}

type Call = (method: string, url: string, headers: Record<string, string>, body?: string) => Promise<unknown>;

const isCount = (value: unknown): value is number =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

async function keycloakCount(call: Call, admin: string, headers: Record<string, string>): Promise<number> {
    const count = await call("GET", `${admin}/users/count`, headers);
    if (!isCount(count)) {
        throw new ApiError(`Keycloak's user count answered ${JSON.stringify(count)}, not a number, so nothing changed`);
    }
    return count;
}

/**
 * Every Keycloak user, page by page, checked against Keycloak's own count before and after: a page cut
 * short (a proxy, a timeout, a restarting pod) would otherwise end the list early, and a user removed
 * while the pages are read shifts the next one off its page; either makes someone look removed.
 */
async function readKeycloakUsers(
    call: Call,
    admin: string,
    headers: Record<string, string>,
    pageSize: number,
): Promise<KeycloakUser[]> {
    const expected = await keycloakCount(call, admin, headers);
    const users: KeycloakUser[] = [];
    for (let first = 0; ; first += pageSize) {
        const page = await call(
            "GET",
            `${admin}/users?briefRepresentation=false&first=${first}&max=${pageSize}`,
            headers,
        );
        if (!Array.isArray(page) || page.length > pageSize) {
            throw new ApiError(
                `Keycloak answered a page of users that is not a list of at most ${pageSize}, so nothing changed`,
            );
        }
        users.push(...(page as KeycloakUser[]));
        if (page.length < pageSize) {
            break;
        }
    }
    if (users.length !== expected) {
        throw new ApiError(
            `Keycloak listed ${users.length} users but counts ${expected}: a page came back short, so nothing changed`,
        );
    }
    const after = await keycloakCount(call, admin, headers);
    if (after !== expected) {
        throw new ApiError(
            `Keycloak counted ${expected} users before its list and ${after} after: the directory changed while it was read, so nothing changed; the next run reads it again`,
        );
    }
    // A user removed while the pages were read and another added leave the count as it was, but the
    // shift can show one user twice.
    if (new Set(users.map((user) => user.id)).size !== users.length) {
        throw new ApiError(
            "Keycloak listed a user twice: the directory changed while it was read, so nothing changed; the next run reads it again",
        );
    }
    return users;
}

/** What decides who is deactivated; two reads of the directory must agree on it. */
function fingerprint(users: readonly KeycloakUser[], idAttribute: string): Set<string> {
    return new Set(
        users.map((user) =>
            JSON.stringify([
                user.id,
                user.enabled,
                [...(user.attributes?.[idAttribute] ?? [])].sort(),
                user.email?.toLowerCase() ?? "",
            ]),
        ),
    );
}

function differences(a: Set<string>, b: Set<string>): number {
    return [...a].filter((entry) => !b.has(entry)).length + [...b].filter((entry) => !a.has(entry)).length;
}

/** The id Mattermost's GitLab provider takes: a positive int64, as the realm's user profile declares it. */
function usersWithoutValidId(users: readonly KeycloakUser[], idAttribute: string): string[] {
    return users
        .filter((user) => !(user.attributes?.[idAttribute] ?? []).some((id) => /^[1-9][0-9]{0,17}$/.test(id)))
        .map((user) => user.username);
}

function parseView(value: string): DirectoryView | undefined {
    try {
        const view = JSON.parse(value) as Partial<DirectoryView>;
        if (isCount(view.enabledUsers) && isCount(view.users) && typeof view.at === "string") {
            return { enabledUsers: view.enabledUsers, users: view.users, at: view.at };
        }
    } catch {
        // Reported below as unreadable.
    }
    return undefined;
}

/** The per-run limit: a fraction of the chat's SSO accounts, at least a few, at most `maxPerRun`. */
export function perRunLimit(ssoAccounts: number, maxPerRun: number, fraction: number): number {
    return Math.min(maxPerRun, Math.max(minimumPerRun, Math.floor(fraction * ssoAccounts)));
}

const percent = (part: number, whole: number) => `${Math.round((100 * part) / whole)}%`;

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
    const fraction = options.maxFractionPerRun ?? defaultMaxFractionPerRun;
    const shrink = options.maxDirectoryShrink ?? defaultMaxDirectoryShrink;
    const counts = {
        keycloakUsers: 0,
        enabledKeycloakUsers: 0,
        mattermostSsoAccounts: 0,
        localAccountsIgnored: 0,
        perRunLimit: 0,
    };
    const found = {
        lastGood: null as DirectoryView | null,
        allowListed: [] as string[],
        disabled: [] as string[],
        orphans: [] as string[],
        mappedByEmail: [] as string[],
        withoutValidId: [] as string[],
    };
    const done = { recordedAsGood: false, deactivated: [] as string[] };
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
        const mattermost = options.mattermostUrl.replace(/\/+$/, "");
        const asMattermost = { authorization: `Bearer ${options.mattermostToken}` };

        // The last good view first: a run that cannot read it cannot tell a shrunken directory, so it
        // fails rather than runs as if it were the first.
        const me = (await call("GET", `${mattermost}/api/v4/users/me`, asMattermost)) as { id: string };
        // An account without preferences gets JSON null (the server's nil list), not [].
        const preferences = (await call("GET", `${mattermost}/api/v4/users/me/preferences`, asMattermost)) ?? [];
        if (!Array.isArray(preferences)) {
            throw new ApiError(
                "Mattermost answered its preferences with something that is not a list, so nothing changed",
            );
        }
        const stored = (preferences as Preference[]).find(
            (preference) =>
                preference.category === lastGoodPreference.category && preference.name === lastGoodPreference.name,
        );
        if (stored) {
            const view = parseView(stored.value);
            if (!view && options.acceptDirectorySize === undefined) {
                throw new ApiError(
                    `the last good run's view kept in Mattermost (preference ${lastGoodPreference.category}/${lastGoodPreference.name} of the job's account) is unreadable, so nothing changed: check the directory, then set deprovisionAcceptDirectorySize to the number of enabled Keycloak users for one run`,
                );
            }
            found.lastGood = view ?? null;
        }

        // (a) Read everything before changing anything: a failed read leaves no half-done run.
        const keycloakUsers = await readKeycloakUsers(call, admin, asKeycloak, pageSize);
        counts.keycloakUsers = keycloakUsers.length;
        counts.enabledKeycloakUsers = keycloakUsers.filter((user) => user.enabled).length;
        if (options.authService === "gitlab") {
            found.withoutValidId.push(...usersWithoutValidId(keycloakUsers, options.idAttribute));
        }
        const accounts = new Map<string, MattermostUser>();
        for (let page = 0; ; page += 1) {
            const users = (await call(
                "GET",
                `${mattermost}/api/v4/users?active=true&page=${page}&per_page=${pageSize}`,
                asMattermost,
            )) as MattermostUser[];
            // An account activated while the pages are read shifts the next one onto the following page.
            for (const user of users) {
                accounts.set(user.id, user);
            }
            if (users.length < pageSize) {
                break;
            }
        }
        // Read again after Mattermost: what changed in between, or while the first read was paged, shows
        // as a difference, and a person a shifted page hid from one read is in the other.
        const changed = differences(
            fingerprint(keycloakUsers, options.idAttribute),
            fingerprint(await readKeycloakUsers(call, admin, asKeycloak, pageSize), options.idAttribute),
        );
        if (changed > 0) {
            throw new ApiError(
                `Keycloak's two reads of its ${keycloakUsers.length} users differ in ${changed}: the directory changed while it was read, so nothing changed; the next run reads it again`,
            );
        }

        // (b) Each SSO account's Keycloak user, by the numeric id (OpenID Connect may key on the subject),
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
        const toDeactivate: MattermostUser[] = [];
        for (const account of accounts.values()) {
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
                toDeactivate.push(account);
            } else if (!keycloakUser.enabled) {
                found.disabled.push(account.username);
                toDeactivate.push(account);
            }
        }
        counts.perRunLimit = perRunLimit(counts.mattermostSsoAccounts, options.maxPerRun, fraction);

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
        // Checked even when nobody would go: a shrunken view recorded as good would hide the next shrink.
        // A few people may always go, or a small directory could not lose one person a run.
        const last = found.lastGood;
        if (last && options.acceptDirectorySize !== counts.enabledKeycloakUsers) {
            const fewer = last.enabledUsers - counts.enabledKeycloakUsers;
            if (fewer > Math.max(minimumPerRun, Math.floor(shrink * last.enabledUsers))) {
                const stale =
                    options.acceptDirectorySize === undefined
                        ? ""
                        : ` (deprovisionAcceptDirectorySize is ${options.acceptDirectorySize}, which is not this view)`;
                return summary(
                    "refused",
                    `Keycloak shows ${counts.enabledKeycloakUsers} enabled users, ${fewer} (${percent(fewer, last.enabledUsers)}) fewer than the ${last.enabledUsers} of the last good run (seen first at ${last.at}), more than the ${percent(shrink, 1)} allowed: its view of the directory looks cut short (an LDAP filter or base DN, a lost import, an outage?), so nothing changed. If those people really left or were disabled, accept this view for one run: set deprovisionAcceptDirectorySize to ${counts.enabledKeycloakUsers}, and unset it after${stale}`,
                );
            }
        }
        if (toDeactivate.length > counts.perRunLimit) {
            return summary(
                "refused",
                `${toDeactivate.length} accounts would be deactivated, more than the ${counts.perRunLimit} allowed in one run (${percent(fraction, 1)} of the ${counts.mattermostSsoAccounts} SSO accounts, at least ${Math.min(minimumPerRun, options.maxPerRun)}, at most deprovisionMaxPerRun ${options.maxPerRun}): check the directory; if they really left, raise deprovisionMaxFractionPerRun (and deprovisionMaxPerRun if need be) for one run`,
            );
        }
        if (options.dryRun) {
            return summary("ok");
        }

        // (c) Deactivation revokes sessions and tokens and disables bots.
        for (const account of toDeactivate) {
            await call("DELETE", `${mattermost}/api/v4/users/${account.id}`, asMattermost);
            done.deactivated.push(account.username);
        }

        // Only a run that passed every check moves the last good view; an unchanged one is not rewritten
        // (each write is an audit record in Mattermost).
        if (last?.enabledUsers !== counts.enabledKeycloakUsers || last.users !== counts.keycloakUsers) {
            const view: DirectoryView = {
                enabledUsers: counts.enabledKeycloakUsers,
                users: counts.keycloakUsers,
                at: new Date().toISOString(),
            };
            await call(
                "PUT",
                `${mattermost}/api/v4/users/me/preferences`,
                { ...asMattermost, "content-type": "application/json" },
                JSON.stringify([{ user_id: me.id, ...lastGoodPreference, value: JSON.stringify(view) }]),
            );
            done.recordedAsGood = true;
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

/** A number from the environment, refused rather than read as NaN (which would turn a limit off). */
function numberFrom(
    environment: NodeJS.ProcessEnv,
    name: string,
    fallback: number | undefined,
    valid: (value: number) => boolean,
    what: string,
): number | undefined {
    const text = environment[name];
    if (text === undefined || text === "") {
        return fallback;
    }
    const value = Number(text);
    if (!/^\s*[0-9.]+\s*$/.test(text) || !valid(value)) {
        throw new Error(`${name} is ${text}, not ${what}`);
    }
    return value;
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
    const whole = (value: number) => Number.isSafeInteger(value);
    const share = (value: number) => value > 0 && value < 1;
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
        maxPerRun: numberFrom(
            environment,
            "MAX_PER_RUN",
            20,
            (value) => whole(value) && value >= 1,
            "a whole number of 1 or more",
        )!,
        maxFractionPerRun: numberFrom(
            environment,
            "MAX_FRACTION_PER_RUN",
            defaultMaxFractionPerRun,
            share,
            "a fraction between 0 and 1",
        ),
        maxDirectoryShrink: numberFrom(
            environment,
            "MAX_DIRECTORY_SHRINK",
            defaultMaxDirectoryShrink,
            share,
            "a fraction between 0 and 1",
        ),
        acceptDirectorySize: numberFrom(environment, "ACCEPT_DIRECTORY_SIZE", undefined, whole, "a whole number"),
        deadlineMs:
            numberFrom(environment, "DEADLINE_SECONDS", 120, (value) => value > 0, "a number of seconds")! * 1000,
    };
}

if (require.main === module) {
    let options: DeprovisionOptions;
    try {
        options = optionsFromEnvironment(process.env);
    } catch (error) {
        console.log(JSON.stringify({ event: "deprovision-summary", outcome: "failed", error: String(error) }));
        process.exit(1);
    }
    deprovision(options)
        .then((summary) => {
            console.log(JSON.stringify({ time: new Date().toISOString(), ...summary }));
            process.exit(summary.outcome === "ok" ? 0 : 1);
        })
        .catch((error: unknown) => {
            console.log(JSON.stringify({ event: "deprovision-summary", outcome: "failed", error: String(error) }));
            process.exit(1);
        });
}
