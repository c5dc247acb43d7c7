/**
 * The realm-apply Job's program: makes Keycloak's `mattermost` realm what the rendered
 * realm file says, through Keycloak's admin API, on every change of that file or of its secrets. It takes
 * the place of keycloak-config-cli, which no reachable registry publishes, and keeps the realm as data in
 * Keycloak's own export format (config/realm.ts).
 *
 * What it owns, it makes exact: the realm's settings, the listed client scopes, the listed clients with
 * their protocol mappers, default and optional client scopes, secrets, service-account roles and scope
 * mappings, the user profile, the listed user-storage providers with exactly their listed mappers
 * (Keycloak's default LDAP mappers are removed), and the listed local users. Applying the same file twice
 * changes nothing; every change is logged as a JSON line and counted in the closing summary.
 *
 * Secrets are never in the file: a field that holds one says `$(env:NAME)`, and only at the fields listed
 * in `secretFields`, as the whole value, is it replaced by the environment variable NAME, once. Anything
 * else that looks like a placeholder (a directory value, a name) stays literal text.
 *
 * It also puts a permanent administrator in place of Keycloak's temporary bootstrap admin: the first run
 * logs in as the bootstrap admin, creates the permanent one, and deletes the bootstrap user; later runs log
 * in as the permanent one. Node's standard library only, so the ConfigMap holds the whole program.
 *
 * Environment: KEYCLOAK_URL (with /auth), ADMIN_CONSOLE_URL, REALM_FILE, ADMIN_USERNAME, ADMIN_PASSWORD,
 * BOOTSTRAP_ADMIN_USERNAME, BOOTSTRAP_ADMIN_PASSWORD, WAIT_SECONDS, and the secrets the file refers to.
 */
import * as fs from "node:fs";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Where a secret may be: `$(env:NAME)` there, as the whole value, is replaced by that variable. */
export const secretFields = [
    "clients[].secret",
    "components[*][].config.bindCredential[]",
    "users[].credentials[].value",
] as const;

/** A value of the realm or of an answer as text: ids and names are strings, anything else is shown as JSON. */
function text(value: unknown): string {
    return typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value);
}

const placeholderPattern = /^\$\(env:([A-Z][A-Z0-9_]*)\)$/;

function resolveOne(value: Json, environment: NodeJS.ProcessEnv, where: string): Json {
    if (typeof value !== "string") {
        return value;
    }
    const match = placeholderPattern.exec(value);
    if (!match) {
        return value;
    }
    const secret = environment[match[1]];
    if (secret === undefined || secret === "") {
        throw new Error(`${where} refers to the secret ${match[1]}, which is not set in the environment`);
    }
    return secret;
}

const asObjects = (value: Json | undefined): JsonObject[] =>
    Array.isArray(value) ? value.filter((item): item is JsonObject => typeof item === "object" && item !== null) : [];

/** A copy of the realm with the secrets of `secretFields` filled in; nothing else is touched. */
export function resolveSecrets(realm: JsonObject, environment: NodeJS.ProcessEnv): JsonObject {
    const copy = JSON.parse(JSON.stringify(realm)) as JsonObject;
    for (const client of asObjects(copy.clients)) {
        if ("secret" in client) {
            client.secret = resolveOne(client.secret, environment, `client ${text(client.clientId)}: secret`);
        }
    }
    const components = (copy.components ?? {}) as Record<string, Json>;
    for (const component of Object.values(components).flatMap(asObjects)) {
        const config = (component.config ?? {}) as JsonObject;
        if (Array.isArray(config.bindCredential)) {
            const where = `component ${text(component.name)}: bindCredential`;
            config.bindCredential = config.bindCredential.map((value) => resolveOne(value, environment, where));
        }
    }
    for (const user of asObjects(copy.users)) {
        for (const credential of asObjects(user.credentials)) {
            credential.value = resolveOne(credential.value, environment, `user ${text(user.username)}: password`);
        }
    }
    return copy;
}

/** True when `current` has every value `desired` gives (lists of plain values compare as sets). */
export function matches(desired: Json | undefined, current: Json | undefined): boolean {
    if (Array.isArray(desired)) {
        if (!Array.isArray(current) || desired.length !== current.length) {
            return false;
        }
        if (desired.every((item) => typeof item !== "object" || item === null)) {
            const sorted = (list: Json[]) => list.map((item) => JSON.stringify(item)).sort();
            return JSON.stringify(sorted(desired)) === JSON.stringify(sorted(current));
        }
        return desired.every((item, index) => matches(item, current[index]));
    }
    if (typeof desired === "object" && desired !== null) {
        if (typeof current !== "object" || current === null || Array.isArray(current)) {
            return false;
        }
        return Object.entries(desired).every(([key, value]) => matches(value, current[key]));
    }
    return desired === current;
}

function without(object: JsonObject, keys: readonly string[]): JsonObject {
    return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));
}

export class KeycloakAdminError extends Error {}

/** Keycloak's admin API as one administrator of the master realm, with the token renewed before it ends. */
export class KeycloakAdmin {
    private token?: { value: string; expires: number };

    constructor(
        private readonly baseUrl: string,
        private readonly username: string,
        private readonly password: string,
    ) {}

    /** Forgets the token: one issued before a change of the master realm's address is no longer valid. */
    forgetToken(): void {
        this.token = undefined;
    }

    /** Logs in; false when Keycloak refuses these credentials (401). */
    async login(): Promise<boolean> {
        const response = await fetch(`${this.baseUrl}/realms/master/protocol/openid-connect/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
                grant_type: "password",
                client_id: "admin-cli",
                username: this.username,
                password: this.password,
            }).toString(),
        });
        if (response.status === 401 || response.status === 400) {
            return false;
        }
        if (!response.ok) {
            throw new KeycloakAdminError(`login as ${this.username} answered ${response.status}`);
        }
        const body = (await response.json()) as { access_token: string; expires_in: number };
        this.token = { value: body.access_token, expires: Date.now() + (body.expires_in - 10) * 1000 };
        return true;
    }

    /** One admin call under /admin/realms; `undefined` for a 404 when `missingIsFine`. */
    async call(method: string, path: string, body?: Json, missingIsFine = false): Promise<Json | undefined> {
        if (!this.token || Date.now() > this.token.expires) {
            if (!(await this.login())) {
                throw new KeycloakAdminError(`Keycloak no longer accepts the password of ${this.username}`);
            }
        }
        const response = await fetch(`${this.baseUrl}/admin/realms${path}`, {
            method,
            headers: {
                authorization: `Bearer ${this.token!.value}`,
                ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (response.status === 404 && missingIsFine) {
            return undefined;
        }
        const text = await response.text();
        if (!response.ok) {
            throw new KeycloakAdminError(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
        }
        return text ? (JSON.parse(text) as Json) : null;
    }

    async list(path: string): Promise<JsonObject[]> {
        return asObjects((await this.call("GET", path)) ?? []);
    }
}

export interface ApplySummary {
    readonly event: "realm-apply-summary";
    readonly realm: string;
    readonly changes: string[];
    readonly durationMs: number;
}

/** The reconciliation of one realm; `changes` says what it did, in order. */
class RealmApplier {
    readonly changes: string[] = [];
    private readonly base: string;

    constructor(
        private readonly admin: KeycloakAdmin,
        private readonly realm: JsonObject,
        private readonly log: (line: JsonObject) => void,
    ) {
        this.base = `/${encodeURIComponent(text(realm.realm))}`;
    }

    private changed(what: string): void {
        this.changes.push(what);
        this.log({ event: "realm-apply-change", change: what });
    }

    private path(suffix: string): string {
        return `${this.base}${suffix}`;
    }

    async apply(): Promise<void> {
        await this.applyRealmSettings();
        await this.applyUserProfile();
        await this.applyClientScopes();
        for (const client of asObjects(this.realm.clients)) {
            await this.applyClient(client);
        }
        await this.applyServiceAccounts();
        await this.applyScopeMappings();
        await this.applyUserStorage();
        await this.applyUsers();
    }

    /** The realm's own settings: every plain value of the file's top level. */
    private async applyRealmSettings(): Promise<void> {
        const settings = Object.fromEntries(
            Object.entries(this.realm).filter(([, value]) => typeof value !== "object" || value === null),
        );
        const current = await this.admin.call("GET", this.base, undefined, true);
        if (current === undefined) {
            await this.admin.call("POST", "", settings);
            this.changed(`realm ${text(this.realm.realm)} created`);
            return;
        }
        if (!matches(settings, current)) {
            await this.admin.call("PUT", this.base, settings);
            this.changed(`realm ${text(this.realm.realm)} settings updated`);
        }
    }

    /** Keycloak 24+ keeps the user profile behind its own endpoint; the file holds it as the export does. */
    private async applyUserProfile(): Promise<void> {
        const components = (this.realm.components ?? {}) as Record<string, Json>;
        const [profile] = asObjects(components["org.keycloak.userprofile.UserProfileProvider"]);
        const profileText = (
            (profile?.config as JsonObject | undefined)?.["kc.user.profile.config"] as Json[] | undefined
        )?.[0];
        if (typeof profileText !== "string") {
            return;
        }
        const desired = JSON.parse(profileText) as JsonObject;
        const current = (await this.admin.call("GET", this.path("/users/profile"))) as JsonObject;
        const names = (config: JsonObject) =>
            asObjects(config.attributes)
                .map((attribute) => text(attribute.name))
                .sort()
                .join(",");
        if (
            names(desired) !== names(current) ||
            !matches(desired, { ...current, attributes: desired.attributes }) ||
            !asObjects(desired.attributes).every((attribute) =>
                matches(
                    attribute,
                    asObjects(current.attributes).find((other) => other.name === attribute.name),
                ),
            )
        ) {
            await this.admin.call("PUT", this.path("/users/profile"), desired);
            this.changed("user profile updated");
        }
    }

    private async applyClientScopes(): Promise<void> {
        const current = await this.admin.list(this.path("/client-scopes"));
        for (const scope of asObjects(this.realm.clientScopes)) {
            const existing = current.find((candidate) => candidate.name === scope.name);
            if (!existing) {
                await this.admin.call("POST", this.path("/client-scopes"), scope);
                this.changed(`client scope ${text(scope.name)} created`);
            } else if (!matches(scope, existing)) {
                await this.admin.call("PUT", this.path(`/client-scopes/${text(existing.id)}`), {
                    ...existing,
                    ...scope,
                });
                this.changed(`client scope ${text(scope.name)} updated`);
            }
        }
    }

    private async clientByClientId(clientId: string): Promise<JsonObject | undefined> {
        const found = await this.admin.list(this.path(`/clients?clientId=${encodeURIComponent(clientId)}`));
        return found.find((client) => client.clientId === clientId);
    }

    private async applyClient(client: JsonObject): Promise<void> {
        const clientId = text(client.clientId);
        const settings = without(client, ["protocolMappers", "defaultClientScopes", "optionalClientScopes", "secret"]);
        let existing = await this.clientByClientId(clientId);
        if (!existing) {
            await this.admin.call("POST", this.path("/clients"), settings);
            this.changed(`client ${clientId} created`);
            existing = (await this.clientByClientId(clientId))!;
        } else if (!matches(settings, existing)) {
            await this.admin.call("PUT", this.path(`/clients/${text(existing.id)}`), { ...existing, ...settings });
            this.changed(`client ${clientId} updated`);
        }
        const id = text(existing.id);
        if (typeof client.secret === "string") {
            await this.applyClientSecret(clientId, id, existing, client.secret);
        }
        await this.applyProtocolMappers(clientId, id, asObjects(client.protocolMappers));
        for (const kind of ["default", "optional"] as const) {
            const wanted = client[`${kind}ClientScopes`];
            if (Array.isArray(wanted)) {
                await this.applyClientScopeList(clientId, id, kind, wanted.map(String));
            }
        }
    }

    private async applyClientSecret(clientId: string, id: string, existing: JsonObject, secret: string) {
        const current = (await this.admin.call("GET", this.path(`/clients/${id}/client-secret`))) as JsonObject;
        if (current.value !== secret) {
            const fresh = (await this.admin.call("GET", this.path(`/clients/${id}`))) as JsonObject;
            await this.admin.call("PUT", this.path(`/clients/${id}`), { ...existing, ...fresh, secret });
            this.changed(`client ${clientId} secret set`);
        }
    }

    private async applyProtocolMappers(clientId: string, id: string, wanted: JsonObject[]): Promise<void> {
        const models = this.path(`/clients/${id}/protocol-mappers/models`);
        const current = await this.admin.list(models);
        for (const mapper of wanted) {
            const existing = current.find((candidate) => candidate.name === mapper.name);
            if (!existing) {
                await this.admin.call("POST", models, mapper);
                this.changed(`client ${clientId}: protocol mapper ${text(mapper.name)} created`);
            } else if (!matches(mapper, existing) || !matches(existing.config, mapper.config)) {
                await this.admin.call("PUT", `${models}/${text(existing.id)}`, { ...mapper, id: existing.id });
                this.changed(`client ${clientId}: protocol mapper ${text(mapper.name)} updated`);
            }
        }
        for (const extra of current.filter((mapper) => !wanted.some((other) => other.name === mapper.name))) {
            await this.admin.call("DELETE", `${models}/${text(extra.id)}`);
            this.changed(`client ${clientId}: protocol mapper ${text(extra.name)} removed`);
        }
    }

    /** Exactly the listed scopes: Keycloak gives a new client the realm's defaults, which are taken off. */
    private async applyClientScopeList(clientId: string, id: string, kind: "default" | "optional", wanted: string[]) {
        const scopes = await this.admin.list(this.path("/client-scopes"));
        const current = await this.admin.list(this.path(`/clients/${id}/${kind}-client-scopes`));
        for (const name of wanted.filter((scope) => !current.some((other) => other.name === scope))) {
            const scope = scopes.find((candidate) => candidate.name === name);
            if (!scope) {
                throw new KeycloakAdminError(
                    `client ${clientId} lists the client scope ${name}, which the realm lacks`,
                );
            }
            await this.admin.call("PUT", this.path(`/clients/${id}/${kind}-client-scopes/${text(scope.id)}`));
            this.changed(`client ${clientId}: ${kind} client scope ${name} added`);
        }
        for (const extra of current.filter((scope) => !wanted.includes(text(scope.name)))) {
            await this.admin.call("DELETE", this.path(`/clients/${id}/${kind}-client-scopes/${text(extra.id)}`));
            this.changed(`client ${clientId}: ${kind} client scope ${text(extra.name)} removed`);
        }
    }

    /** Roles of one client, by name, for role mappings. */
    private async clientRoles(
        roleClientId: string,
        names: readonly string[],
    ): Promise<{ id: string; roles: JsonObject[] }> {
        const roleClient = await this.clientByClientId(roleClientId);
        if (!roleClient) {
            throw new KeycloakAdminError(`the realm has no client ${roleClientId} to take roles from`);
        }
        const all = await this.admin.list(this.path(`/clients/${text(roleClient.id)}/roles`));
        const roles = names.map((name) => {
            const role = all.find((candidate) => candidate.name === name);
            if (!role) {
                throw new KeycloakAdminError(`client ${roleClientId} has no role ${name}`);
            }
            return role;
        });
        return { id: text(roleClient.id), roles };
    }

    /** Makes the roles at `mappingPath` exactly `wanted` (role mappings and scope mappings share this shape). */
    private async exactRoles(mappingPath: string, wanted: JsonObject[], what: string): Promise<void> {
        const current = await this.admin.list(mappingPath);
        const missing = wanted.filter((role) => !current.some((other) => other.id === role.id));
        const extra = current.filter((role) => !wanted.some((other) => other.id === role.id));
        if (missing.length > 0) {
            await this.admin.call("POST", mappingPath, missing);
            this.changed(`${what}: ${missing.map((role) => text(role.name)).join(", ")} added`);
        }
        if (extra.length > 0) {
            await this.admin.call("DELETE", mappingPath, extra);
            this.changed(`${what}: ${extra.map((role) => text(role.name)).join(", ")} removed`);
        }
    }

    /** Service-account users of the file's clients get exactly the client roles the file gives them. */
    private async applyServiceAccounts(): Promise<void> {
        for (const user of asObjects(this.realm.users).filter((candidate) => candidate.serviceAccountClientId)) {
            const clientId = text(user.serviceAccountClientId);
            const client = await this.clientByClientId(clientId);
            if (!client) {
                throw new KeycloakAdminError(`service account ${text(user.username)}: no client ${clientId}`);
            }
            const account = (await this.admin.call(
                "GET",
                this.path(`/clients/${text(client.id)}/service-account-user`),
            )) as JsonObject;
            for (const [roleClientId, names] of Object.entries((user.clientRoles ?? {}) as Record<string, Json>)) {
                const { id, roles } = await this.clientRoles(roleClientId, (names as Json[]).map(String));
                const mapping = this.path(`/users/${text(account.id)}/role-mappings/clients/${id}`);
                await this.exactRoles(mapping, roles, `service account of ${clientId}: ${roleClientId} roles`);
            }
        }
    }

    /**
     * A client with fullScopeAllowed false carries only the roles in its scope: Keycloak's admin API asks
     * for the role both on the user and in the client's scope, so the file's scope mappings are made exact.
     */
    private async applyScopeMappings(): Promise<void> {
        const mappings = (this.realm.clientScopeMappings ?? {}) as Record<string, Json>;
        for (const [roleClientId, entries] of Object.entries(mappings)) {
            for (const entry of asObjects(entries)) {
                const client = await this.clientByClientId(text(entry.client));
                if (!client) {
                    throw new KeycloakAdminError(`scope mapping for ${text(entry.client)}: no such client`);
                }
                const { id, roles } = await this.clientRoles(roleClientId, (entry.roles as Json[]).map(String));
                const mapping = this.path(`/clients/${text(client.id)}/scope-mappings/clients/${id}`);
                await this.exactRoles(mapping, roles, `client ${text(entry.client)}: ${roleClientId} scope`);
            }
        }
    }

    private async applyUserStorage(): Promise<void> {
        const components = (this.realm.components ?? {}) as Record<string, Json>;
        const providerType = "org.keycloak.storage.UserStorageProvider";
        const realmId = text(((await this.admin.call("GET", this.base)) as JsonObject).id);
        const current = await this.admin.list(this.path(`/components?type=${providerType}`));
        for (const provider of asObjects(components[providerType])) {
            const subComponents = (provider.subComponents ?? {}) as Record<string, Json>;
            const body = { ...without(provider, ["subComponents"]), providerType, parentId: realmId };
            let existing = current.find((candidate) => candidate.name === provider.name);
            if (!existing) {
                await this.admin.call("POST", this.path("/components"), body);
                this.changed(`user storage ${text(provider.name)} created`);
                existing = (await this.admin.list(this.path(`/components?type=${providerType}`))).find(
                    (candidate) => candidate.name === provider.name,
                )!;
            } else {
                await this.updateProvider(provider, existing, body);
            }
            for (const [mapperType, mappers] of Object.entries(subComponents)) {
                await this.applyMappers(text(provider.name), text(existing.id), mapperType, asObjects(mappers));
            }
        }
    }

    /**
     * Keycloak never shows a stored bind password (it answers with a mask), so it is written on every run:
     * the same value changes nothing, and a rotated one takes effect. Only other differences count as change.
     */
    private async updateProvider(provider: JsonObject, existing: JsonObject, body: JsonObject): Promise<void> {
        const secretKeys = ["bindCredential"];
        const desiredConfig = without((provider.config ?? {}) as JsonObject, secretKeys);
        const currentConfig = without((existing.config ?? {}) as JsonObject, secretKeys);
        const same = matches(without(body, ["config"]), existing) && matches(desiredConfig, currentConfig);
        await this.admin.call("PUT", this.path(`/components/${text(existing.id)}`), { ...body, id: existing.id });
        if (!same) {
            this.changed(`user storage ${text(provider.name)} updated`);
        }
    }

    /** Exactly the listed mappers: Keycloak adds default ones when the provider is created. */
    private async applyMappers(providerName: string, parentId: string, mapperType: string, wanted: JsonObject[]) {
        const current = await this.admin.list(this.path(`/components?parent=${parentId}&type=${mapperType}`));
        for (const mapper of wanted) {
            const body: JsonObject = { ...without(mapper, ["subComponents"]), providerType: mapperType, parentId };
            const existing = current.find((candidate) => candidate.name === mapper.name);
            if (!existing) {
                await this.admin.call("POST", this.path("/components"), body);
                this.changed(`user storage ${providerName}: mapper ${text(mapper.name)} created`);
            } else if (!matches(body, existing) || !matches(existing.config, body.config)) {
                await this.admin.call("PUT", this.path(`/components/${text(existing.id)}`), {
                    ...body,
                    id: existing.id,
                });
                this.changed(`user storage ${providerName}: mapper ${text(mapper.name)} updated`);
            }
        }
        for (const extra of current.filter((mapper) => !wanted.some((other) => other.name === mapper.name))) {
            await this.admin.call("DELETE", this.path(`/components/${text(extra.id)}`));
            this.changed(`user storage ${providerName}: mapper ${text(extra.name)} removed`);
        }
    }

    /**
     * Local users of the file (test users). A password is set when the user is created: Keycloak keeps only
     * a hash, so a later run cannot tell whether it changed; a rotated testUserPassword needs the user
     * deleted in Keycloak first (README).
     */
    private async applyUsers(): Promise<void> {
        for (const user of asObjects(this.realm.users).filter((candidate) => !candidate.serviceAccountClientId)) {
            const username = text(user.username);
            const settings = without(user, ["credentials"]);
            const query = this.path(
                `/users?exact=true&briefRepresentation=false&username=${encodeURIComponent(username)}`,
            );
            let [existing] = await this.admin.list(query);
            if (!existing) {
                await this.admin.call("POST", this.path("/users"), settings);
                [existing] = await this.admin.list(query);
                for (const credential of asObjects(user.credentials)) {
                    await this.admin.call("PUT", this.path(`/users/${text(existing.id)}/reset-password`), credential);
                }
                this.changed(`user ${username} created`);
            } else if (!matches(settings, existing)) {
                await this.admin.call("PUT", this.path(`/users/${text(existing.id)}`), { ...existing, ...settings });
                this.changed(`user ${username} updated`);
            }
        }
    }
}

export interface ApplyOptions {
    readonly keycloakUrl: string;
    /** The master realm's own address (the admin console's, through a port-forward). */
    readonly adminConsoleUrl?: string;
    readonly admin: { readonly username: string; readonly password: string };
    readonly bootstrapAdmin: { readonly username: string; readonly password: string };
    readonly waitMs: number;
    readonly log: (line: JsonObject) => void;
}

/** Keycloak answers its master realm once it serves requests; a fresh pod may take minutes. */
async function waitForKeycloak(url: string, waitMs: number): Promise<void> {
    const until = Date.now() + waitMs;
    let last = "";
    while (Date.now() < until) {
        try {
            const response = await fetch(`${url}/realms/master`, { signal: AbortSignal.timeout(5000) });
            if (response.ok) {
                return;
            }
            last = `answered ${response.status}`;
        } catch (error) {
            last = text(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    throw new KeycloakAdminError(`Keycloak at ${url} did not answer within ${waitMs / 1000} s (last: ${last})`);
}

/**
 * The permanent admin: logs in as it, or else as the bootstrap admin, creates it (realm role admin of
 * master) and deletes the bootstrap user, whose account Keycloak marks temporary.
 */
async function permanentAdmin(options: ApplyOptions, changes: string[]): Promise<KeycloakAdmin> {
    const { keycloakUrl, admin, bootstrapAdmin } = options;
    const permanent = new KeycloakAdmin(keycloakUrl, admin.username, admin.password);
    if (await permanent.login()) {
        return permanent;
    }
    // Stacks made before the permanent admin gave the bootstrap admin the password the permanent one has now.
    let bootstrap = new KeycloakAdmin(keycloakUrl, bootstrapAdmin.username, bootstrapAdmin.password);
    if (!(await bootstrap.login())) {
        bootstrap = new KeycloakAdmin(keycloakUrl, bootstrapAdmin.username, admin.password);
    }
    if (!(await bootstrap.login())) {
        throw new KeycloakAdminError(
            `Keycloak accepts neither the admin ${admin.username} nor the bootstrap admin ${bootstrapAdmin.username}: ` +
                "if the admin's password was changed in Keycloak, put it back in the stack's Keycloak credentials Secret",
        );
    }
    const users = `/master/users`;
    const byName = (name: string) => bootstrap.list(`${users}?exact=true&username=${encodeURIComponent(name)}`);
    let [user] = await byName(admin.username);
    if (!user) {
        await bootstrap.call("POST", users, { username: admin.username, enabled: true });
        [user] = await byName(admin.username);
    }
    await bootstrap.call("PUT", `${users}/${text(user.id)}/reset-password`, {
        type: "password",
        value: admin.password,
        temporary: false,
    });
    const adminRole = (await bootstrap.call("GET", "/master/roles/admin")) as JsonObject;
    await bootstrap.call("POST", `${users}/${text(user.id)}/role-mappings/realm`, [adminRole]);
    if (!(await permanent.login())) {
        throw new KeycloakAdminError(`the new admin ${admin.username} cannot log in`);
    }
    const [temporary] = await byName(bootstrapAdmin.username);
    if (temporary) {
        await permanent.call("DELETE", `${users}/${text(temporary.id)}`);
    }
    changes.push(`permanent admin ${admin.username} in place of ${bootstrapAdmin.username}`);
    options.log({ event: "realm-apply-change", change: changes[changes.length - 1] });
    return permanent;
}

/**
 * The master realm's pages (the admin console's login among them) on the admin address: KC_HOSTNAME_ADMIN
 * moves the console itself there, but its login form would post to the public name, where nginx keeps
 * the master realm out.
 */
async function masterFrontendUrl(
    admin: KeycloakAdmin,
    url: string,
    changes: string[],
    log: (line: JsonObject) => void,
): Promise<void> {
    const master = (await admin.call("GET", "/master")) as JsonObject;
    const attributes = (master.attributes ?? {}) as JsonObject;
    if (attributes.frontendUrl !== url) {
        await admin.call("PUT", "/master", { attributes: { ...attributes, frontendUrl: url } });
        // Tokens name their issuer by that address, so the one in hand no longer passes.
        admin.forgetToken();
        changes.push(`master realm's frontend URL set to ${url}`);
        log({ event: "realm-apply-change", change: changes[changes.length - 1] });
    }
}

export async function applyRealmFile(realm: JsonObject, options: ApplyOptions): Promise<ApplySummary> {
    const started = Date.now();
    const url = options.keycloakUrl.replace(/\/+$/, "");
    await waitForKeycloak(url, options.waitMs);
    const changes: string[] = [];
    const admin = await permanentAdmin({ ...options, keycloakUrl: url }, changes);
    if (options.adminConsoleUrl) {
        await masterFrontendUrl(admin, options.adminConsoleUrl, changes, options.log);
    }
    const applier = new RealmApplier(admin, realm, options.log);
    await applier.apply();
    return {
        event: "realm-apply-summary",
        realm: text(realm.realm),
        changes: [...changes, ...applier.changes],
        durationMs: Date.now() - started,
    };
}

function required(environment: NodeJS.ProcessEnv, name: string): string {
    const value = environment[name];
    if (!value) {
        throw new Error(`${name} is not set`);
    }
    return value;
}

export function optionsFromEnvironment(environment: NodeJS.ProcessEnv): ApplyOptions & { realmFile: string } {
    return {
        keycloakUrl: required(environment, "KEYCLOAK_URL"),
        adminConsoleUrl: environment.ADMIN_CONSOLE_URL || undefined,
        realmFile: required(environment, "REALM_FILE"),
        admin: { username: required(environment, "ADMIN_USERNAME"), password: required(environment, "ADMIN_PASSWORD") },
        bootstrapAdmin: {
            username: required(environment, "BOOTSTRAP_ADMIN_USERNAME"),
            password: required(environment, "BOOTSTRAP_ADMIN_PASSWORD"),
        },
        waitMs: Number(environment.WAIT_SECONDS ?? "300") * 1000,
        log: (line) => console.log(JSON.stringify(line)),
    };
}

async function main(): Promise<void> {
    const options = optionsFromEnvironment(process.env);
    const realm = resolveSecrets(JSON.parse(fs.readFileSync(options.realmFile, "utf8")) as JsonObject, process.env);
    const summary = await applyRealmFile(realm, options);
    console.log(JSON.stringify(summary));
}

if (require.main === module) {
    main().catch((error: unknown) => {
        // Only the message: a stack trace could quote a request body, and bodies can hold secrets.
        const message = error instanceof Error ? error.message : JSON.stringify(error);
        console.log(JSON.stringify({ event: "realm-apply-summary", outcome: "failed", error: message }));
        process.exit(1);
    });
}
