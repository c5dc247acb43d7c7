/**
 * The Keycloak realm Mattermost logs in through (DESIGN decisions 1 and 5), rendered as data in Keycloak's
 * own export format and applied by scripts/realmApply.ts. Pure. Secrets never enter the text: the few
 * fields that hold one say `$(env:NAME)`, which the apply program fills from a Secret, at those fields only.
 */
import type { ActiveDirectorySettings, TestUser } from "./validate";

export const realmName = "mattermost";
export const mattermostClientId = "mattermost";
/** The user attribute holding each person's numeric id, and the claim Mattermost reads it from. */
export const idAttribute = "mattermostId";

/** Environment variables the realm-apply program reads the secrets from. */
export const realmSecretVariables = {
    clientSecret: "MATTERMOST_CLIENT_SECRET",
    adBindPassword: "AD_BIND_PASSWORD",
    testUserPassword: "TEST_USER_PASSWORD",
    deprovisionClientSecret: "DEPROVISION_CLIENT_SECRET",
} as const;

const placeholder = (variable: string) => `$(env:${variable})`;

/** Keycloak's public base URL: the chat host with /auth, as in the original system. */
export function keycloakUrl(siteUrl: string): string {
    return `${siteUrl}/auth`;
}

export function realmEndpoints(siteUrl: string) {
    const realm = `${keycloakUrl(siteUrl)}/realms/${realmName}`;
    return {
        issuer: realm,
        authorization: `${realm}/protocol/openid-connect/auth`,
        token: `${realm}/protocol/openid-connect/token`,
        userinfo: `${realm}/protocol/openid-connect/userinfo`,
        discovery: `${realm}/.well-known/openid-configuration`,
    };
}

export type SsoMode = "gitlab" | "openid";

/** Where Mattermost sends the browser back after login, per mode (it always uses /signup/<mode>/complete). */
export function redirectUris(siteUrl: string, mode: SsoMode): string[] {
    return [`${siteUrl}/login/${mode}/complete`, `${siteUrl}/signup/${mode}/complete`];
}

export interface RealmInput {
    readonly siteUrl: string;
    readonly ssoMode: SsoMode;
    readonly ssoSessionIdleMinutes: number;
    readonly ssoSessionMaxHours: number;
    readonly directory?: ActiveDirectorySettings;
    readonly testUsers: readonly TestUser[];
}

/** Keycloak stores the introspection flag with every mapper; saying it keeps the applied mapper equal to this. */
const userinfoOnly = {
    "userinfo.token.claim": "true",
    "id.token.claim": "false",
    "access.token.claim": "false",
    "introspection.token.claim": "false",
};

function protocolMappers() {
    return [
        {
            // Mattermost's GitLab provider reads `id` as an int64: a JSON number, never a string, never 0.
            name: "mattermost id",
            protocol: "openid-connect",
            protocolMapper: "oidc-usermodel-attribute-mapper",
            config: {
                "user.attribute": idAttribute,
                "claim.name": "id",
                "jsonType.label": "long",
                ...userinfoOnly,
                "id.token.claim": "true",
            },
        },
        {
            name: "username",
            protocol: "openid-connect",
            protocolMapper: "oidc-usermodel-property-mapper",
            config: {
                "user.attribute": "username",
                "claim.name": "username",
                "jsonType.label": "String",
                ...userinfoOnly,
            },
        },
        {
            name: "email",
            protocol: "openid-connect",
            protocolMapper: "oidc-usermodel-property-mapper",
            config: { "user.attribute": "email", "claim.name": "email", "jsonType.label": "String", ...userinfoOnly },
        },
        {
            name: "name",
            protocol: "openid-connect",
            protocolMapper: "oidc-full-name-mapper",
            config: { ...userinfoOnly, "id.token.claim": "true" },
        },
    ];
}

/** Keycloak 24+ shows mappers only declared attributes: the id is declared, numeric, admin-only. */
function userProfile() {
    const config = {
        unmanagedAttributePolicy: "ADMIN_VIEW",
        attributes: [
            {
                name: "username",
                displayName: "${username}",
                validations: { length: { min: 1, max: 255 }, "username-prohibited-characters": {} },
                permissions: { view: ["admin", "user"], edit: ["admin"] },
            },
            {
                name: "email",
                displayName: "${email}",
                validations: { email: {}, length: { max: 255 } },
                required: { roles: ["user"] },
                permissions: { view: ["admin", "user"], edit: ["admin"] },
            },
            {
                name: "firstName",
                displayName: "${firstName}",
                permissions: { view: ["admin", "user"], edit: ["admin"] },
            },
            { name: "lastName", displayName: "${lastName}", permissions: { view: ["admin", "user"], edit: ["admin"] } },
            {
                name: idAttribute,
                displayName: "Mattermost id",
                validations: { pattern: { pattern: "^[1-9][0-9]{0,17}$", "error-message": "a positive whole number" } },
                permissions: { view: ["admin"], edit: ["admin"] },
            },
        ],
    };
    return {
        name: "user-profile",
        providerId: "declarative-user-profile",
        config: { "kc.user.profile.config": [JSON.stringify(config)] },
    };
}

const single = (value: string) => [value];

function ldapMapper(name: string, providerId: string, config: Record<string, string>) {
    return {
        name,
        providerId,
        subComponents: {},
        config: Object.fromEntries(Object.entries(config).map(([key, value]) => [key, single(value)])),
    };
}

/** The configured filter, and only entries that carry the id attribute; LDAP filter syntax, RFC 4515. */
export function userSearchFilter(directory: ActiveDirectorySettings): string {
    const hasId = `(${directory.idAttribute}=*)`;
    if (!directory.userFilter) {
        return hasId;
    }
    const filter = directory.userFilter.startsWith("(") ? directory.userFilter : `(${directory.userFilter})`;
    return `(&${hasId}${filter})`;
}

function activeDirectory(directory: ActiveDirectorySettings) {
    const attribute = (name: string, ldapAttribute: string, extra: Record<string, string> = {}) =>
        ldapMapper(name, "user-attribute-ldap-mapper", {
            "user.model.attribute": name,
            "ldap.attribute": ldapAttribute,
            "read.only": "true",
            "always.read.value.from.ldap": "false",
            "is.mandatory.in.ldap": "false",
            ...extra,
        });
    return {
        name: "active-directory",
        providerId: "ldap",
        subComponents: {
            "org.keycloak.storage.ldap.mappers.LDAPStorageMapper": [
                attribute("username", "sAMAccountName", { "is.mandatory.in.ldap": "true" }),
                attribute("email", "mail"),
                attribute("firstName", "givenName"),
                attribute("lastName", "sn"),
                // The numeric id, read from AD on every lookup so a corrected value is never stale.
                ldapMapper(idAttribute, "user-attribute-ldap-mapper", {
                    "user.model.attribute": idAttribute,
                    "ldap.attribute": directory.idAttribute,
                    "read.only": "true",
                    "always.read.value.from.ldap": "true",
                    "is.mandatory.in.ldap": "true",
                }),
                // Disabled in AD means disabled in Keycloak, read live rather than at the next sync.
                ldapMapper("msad account controls", "msad-user-account-control-mapper", {
                    "ldap.password.policy.hints.enabled": "false",
                    "always.read.enabled.value.from.ldap": "true",
                }),
            ],
        },
        config: Object.fromEntries(
            Object.entries({
                enabled: "true",
                priority: "0",
                vendor: "ad",
                connectionUrl: directory.urls.join(" "),
                startTls: "false",
                connectionPooling: "true",
                connectionTimeout: "5000",
                readTimeout: "10000",
                authType: "simple",
                bindDn: directory.bindDn,
                bindCredential: placeholder(realmSecretVariables.adBindPassword),
                usersDn: directory.usersDn,
                searchScope: "2",
                usernameLDAPAttribute: "sAMAccountName",
                rdnLDAPAttribute: "cn",
                uuidLDAPAttribute: "objectGUID",
                userObjectClasses: "person, organizationalPerson, user",
                // Only people with the numeric id: without it Mattermost's GitLab login would get id 0 and
                // fail after Keycloak let them in; this way Keycloak does not know them at all.
                customUserSearchFilter: userSearchFilter(directory),
                pagination: "true",
                editMode: "READ_ONLY",
                importEnabled: "true",
                syncRegistrations: "false",
                trustEmail: "true",
                validatePasswordPolicy: "false",
                batchSizeForSync: "1000",
                fullSyncPeriod: "86400",
                changedSyncPeriod: "300",
                removeInvalidUsersEnabled: "false",
                // Every lookup asks AD: a cached user would hide for hours that AD removed or disabled them
                // from the deprovisioning job, and the chat's few hundred people cost AD little.
                cachePolicy: "NO_CACHE",
                allowKerberosAuthentication: "false",
                useKerberosForPasswordAuthentication: "false",
            }).map(([key, value]) => [key, single(value)]),
        ),
    };
}

function testUser(user: TestUser) {
    const [firstName, ...rest] = user.name.split(" ");
    return {
        username: user.username,
        email: user.email,
        emailVerified: true,
        firstName,
        lastName: rest.join(" "),
        enabled: true,
        attributes: { [idAttribute]: [user.id] },
        credentials: [
            { type: "password", value: placeholder(realmSecretVariables.testUserPassword), temporary: false },
        ],
    };
}

/**
 * The deprovisioning job's client: a service account that can read users and nothing else. It neither
 * asks for AD's changes (every lookup asks AD, cachePolicy above, and Keycloak pulls the changes itself,
 * changedSyncPeriod) nor logs anyone out (Keycloak refuses a disabled user's session cookie by itself):
 * both need `manage-users`, which would also let a stolen job secret create a Keycloak user claiming
 * anyone's AD id and log in as them.
 */
export const deprovisionClientId = "mattermost-deprovision";
export const deprovisionRoles = ["view-users"];

function deprovisionClient() {
    return {
        clientId: deprovisionClientId,
        name: "Mattermost deprovisioning job",
        description: "Reads users, and only that (scripts/deprovision.ts)",
        protocol: "openid-connect",
        enabled: true,
        publicClient: false,
        clientAuthenticatorType: "client-secret",
        secret: placeholder(realmSecretVariables.deprovisionClientSecret),
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: true,
        // Its tokens carry only the roles in its scope mappings (clientScopeMappings below) and `sub`.
        fullScopeAllowed: false,
        defaultClientScopes: ["basic"],
        optionalClientScopes: [],
    };
}

function deprovisionServiceAccount() {
    return {
        username: `service-account-${deprovisionClientId}`,
        enabled: true,
        serviceAccountClientId: deprovisionClientId,
        clientRoles: { "realm-management": deprovisionRoles },
    };
}

/** The realm, as the realm-apply program applies it; the same input always gives the same text. */
export function renderRealm(input: RealmInput): string {
    const gitlab = input.ssoMode === "gitlab";
    const realm = {
        realm: realmName,
        enabled: true,
        displayName: "Chat",
        sslRequired: "external",
        registrationAllowed: false,
        resetPasswordAllowed: false,
        rememberMe: false,
        loginWithEmailAllowed: true,
        duplicateEmailsAllowed: false,
        bruteForceProtected: true,
        ssoSessionIdleTimeout: input.ssoSessionIdleMinutes * 60,
        ssoSessionMaxLifespan: input.ssoSessionMaxHours * 3600,
        clientScopes: [
            // Keycloak 20+ answers /userinfo only for tokens whose scope contains `openid`, and Mattermost's
            // GitLab login asks for no scope; a default client scope of that name puts it there.
            {
                name: "openid",
                description: "Puts openid in every token's scope, so /userinfo answers Mattermost's empty-scope login",
                protocol: "openid-connect",
                attributes: { "include.in.token.scope": "true", "display.on.consent.screen": "false" },
            },
        ],
        clients: [
            {
                clientId: mattermostClientId,
                name: "Mattermost",
                protocol: "openid-connect",
                enabled: true,
                publicClient: false,
                clientAuthenticatorType: "client-secret",
                secret: placeholder(realmSecretVariables.clientSecret),
                standardFlowEnabled: true,
                implicitFlowEnabled: false,
                directAccessGrantsEnabled: false,
                serviceAccountsEnabled: false,
                frontchannelLogout: false,
                rootUrl: input.siteUrl,
                baseUrl: input.siteUrl,
                redirectUris: redirectUris(input.siteUrl, input.ssoMode),
                webOrigins: [input.siteUrl],
                fullScopeAllowed: false,
                // basic carries `sub` from Keycloak 25 on; without it tokens name nobody.
                defaultClientScopes: gitlab ? ["openid", "basic"] : ["openid", "basic", "profile", "email"],
                optionalClientScopes: [],
                protocolMappers: protocolMappers(),
            },
            deprovisionClient(),
        ],
        components: {
            "org.keycloak.userprofile.UserProfileProvider": [userProfile()],
            ...(input.directory
                ? { "org.keycloak.storage.UserStorageProvider": [activeDirectory(input.directory)] }
                : {}),
        },
        // Keycloak's admin API wants each role on the user and in the client's scope (AdminAuth.hasAppRole).
        clientScopeMappings: { "realm-management": [{ client: deprovisionClientId, roles: deprovisionRoles }] },
        users: [deprovisionServiceAccount(), ...input.testUsers.map(testUser)],
    };
    return `${JSON.stringify(realm, null, 2)}\n`;
}
