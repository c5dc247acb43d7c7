/**
 * Mattermost settings as code: the base `config.json`, stack overrides, and the flattening into
 * `MM_*` environment variables that Mattermost reads (server/config/environment.go: `MM_` + section +
 * `_` + key, upper-cased; string lists space-separated; maps as JSON).
 */
import baseConfig from "./mattermost/config.json";

export type SettingValue =
    string | number | boolean | readonly SettingValue[] | { readonly [key: string]: SettingValue };
export type MattermostSettings = Readonly<Record<string, Readonly<Record<string, SettingValue>>>>;

export const baseSettings: MattermostSettings = baseConfig;

/** Settings Mattermost stopped reading, with what replaced them. */
export const removedSettings: Readonly<Record<string, string>> = {
    "ServiceSettings.EnableOnlyAdminIntegrations":
        "Mattermost 4.9 moved it to role permissions (manage_incoming_webhooks, manage_outgoing_webhooks, manage_slash_commands, manage_oauth); remove it and grant those permissions in System Console > User Management > Permissions",
    "TeamSettings.EnableTeamCreation":
        "Mattermost 4.9 moved it to the create_team role permission; remove it and set that permission in System Console > User Management > Permissions",
};

/** Settings the program derives itself; a stack override would fight it. */
export const derivedSettings: Readonly<Record<string, string>> = {
    "ServiceSettings.SiteURL": "it is https://<hostname>; set mattermost:hostname instead",
    "SqlSettings.DataSource": "it is built from the database* keys",
    "SqlSettings.AtRestEncryptKey": "the program generates it and keeps it in a Secret",
    "FileSettings.PublicLinkSalt": "the program generates it and keeps it in a Secret",
    "JobSettings.RunJobs": "the primary runs jobs and the backup never does, so the two never both act as job leader",
    "JobSettings.RunScheduler": "the primary runs the scheduler and the backup never does",
    "FileSettings.DriverName": "files are always on S3 (the s3* keys), which both pods share",
    "FileSettings.AmazonS3Bucket": "set mattermost:s3Bucket instead",
    "FileSettings.AmazonS3Endpoint": "set mattermost:s3Endpoint instead",
    "FileSettings.AmazonS3SSL": "set mattermost:s3Ssl instead",
    "FileSettings.AmazonS3PathPrefix": "set mattermost:s3PathPrefix instead",
    "FileSettings.AmazonS3Region": "set mattermost:s3Region instead",
    "FileSettings.AmazonS3AccessKeyId": "set it with: pulumi config set --secret s3AccessKeyId",
    "FileSettings.AmazonS3SecretAccessKey": "set it with: pulumi config set --secret s3SecretAccessKey",
    "GitLabSettings.Secret": "it is the realm's mattermost client secret, which the program generates",
    "OpenIdSettings.Secret": "it is the realm's mattermost client secret, which the program generates",
    "GitLabSettings.Enable": "ssoMode decides the login",
    "GitLabSettings.Id": "it is the realm's mattermost client",
    "GitLabSettings.Scope": "it must stay empty (openid would switch Mattermost to its OpenID provider)",
    "GitLabSettings.AuthEndpoint": "it is the realm's endpoint under https://<hostname>/auth",
    "GitLabSettings.TokenEndpoint": "it is the realm's endpoint under https://<hostname>/auth",
    "GitLabSettings.UserAPIEndpoint": "it is the realm's userinfo endpoint under https://<hostname>/auth",
    "OpenIdSettings.Enable": "ssoMode decides the login",
    "OpenIdSettings.Id": "it is the realm's mattermost client",
    "OpenIdSettings.DiscoveryEndpoint": "it is the realm's discovery document under https://<hostname>/auth",
    "GitLabSettings.ButtonText": "set mattermost:loginButtonText instead",
    "OpenIdSettings.ButtonText": "set mattermost:loginButtonText instead",
    "PluginSettings.Enable": "it is on exactly when mattermost:mattermostPlugins lists plugins",
    "PluginSettings.PluginStates": "it runs exactly the plugins of mattermost:mattermostPlugins",
    "PluginSettings.AutomaticPrepackagedPlugins": "it is how the plugins of mattermost:mattermostPlugins are installed",
    "EmailSettings.EnableSignUpWithEmail": "open sign-up is always off: accounts come from Keycloak",
    "EmailSettings.EnableSignInWithEmail": "set mattermost:localLogin instead",
    "EmailSettings.EnableSignInWithUsername": "set mattermost:localLogin instead",
    "TeamSettings.EnableOpenServer": "open sign-up is always off: accounts come from Keycloak",
    "ServiceSettings.SessionLengthSSOInHours": "set mattermost:mattermostSsoSessionHours instead",
    "EmailSettings.SendPushNotifications": "it is on exactly when mattermost:pushHost is set",
    "EmailSettings.PushNotificationServer":
        "it is the push VM's front, https://<pushHost>/<secret prefix>, kept in a Secret",
    "EmailSettings.PushNotificationContents": "set mattermost:pushNotificationContents instead",
    "LogSettings.AdvancedLoggingJSON": "with elkEndpoint set, it is the rotated JSON file the Filebeat sidecar ships",
};

/**
 * Names that sound secret, as a second net behind what the server itself masks (mattermostSchema's
 * secrets): a key such as GoogleSettings.DeveloperKey is an API key though Mattermost shows it. Matched
 * ignoring case, as Mattermost matches names.
 */
const secretSettingPattern =
    /(Password|Secret|SecretAccessKey|EncryptKey|Salt|DataSource|DataSourceReplicas|DataSourceSearchReplicas|PrivateKey|DeveloperKey|SplitKey)$/i;

export function isSecretSetting(path: string): boolean {
    return secretSettingPattern.test(path);
}

export interface SettingOverride {
    readonly section: string;
    readonly key: string;
    readonly value: SettingValue;
}

/** An override as written: its value may be JSON null, which is no value at all. */
export interface ParsedOverride {
    readonly section: string;
    readonly key: string;
    readonly value: SettingValue | null;
}

// Any letter case, so that a re-cased name is recognised and refused by name rather than by form.
const overridePattern = /^([A-Za-z][A-Za-z0-9]*)\.([A-Za-z][A-Za-z0-9]*)=(.*)$/s;

/** Parses `Section.Key=value`; the value is JSON when it parses as JSON, else the text itself. */
export function parseOverride(entry: string): ParsedOverride | undefined {
    const match = overridePattern.exec(entry);
    if (!match) {
        return undefined;
    }
    const [, section, key, text] = match as unknown as [string, string, string, string];
    let value: SettingValue | null;
    try {
        value = JSON.parse(text) as SettingValue | null;
    } catch {
        value = text;
    }
    return { section, key, value };
}

export function applyOverrides(base: MattermostSettings, overrides: readonly SettingOverride[]): MattermostSettings {
    const merged: Record<string, Record<string, SettingValue>> = {};
    for (const [section, values] of Object.entries(base)) {
        merged[section] = { ...values };
    }
    for (const { section, key, value } of overrides) {
        merged[section] = { ...merged[section], [key]: value };
    }
    return merged;
}

export function envName(section: string, key: string): string {
    return `MM_${section}_${key}`.toUpperCase();
}

/** JSON with keys sorted at every depth, so the same settings always give the same text. */
export function stableJson(value: unknown): string {
    return JSON.stringify(value, (_key, inner: unknown) =>
        inner !== null && typeof inner === "object" && !Array.isArray(inner)
            ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : inner,
    );
}

/** Why a value cannot be carried in an environment variable, or undefined when it can. */
export function unflattenableReason(value: SettingValue): string | undefined {
    if (Array.isArray(value)) {
        const items = value as readonly SettingValue[];
        if (items.some((item) => typeof item === "object")) {
            return "is a list of objects, which Mattermost cannot read from an environment variable";
        }
        if (items.some((item) => /\s/.test(flattenValue(item)))) {
            return "is a list with an item containing white space, but Mattermost splits list variables on spaces";
        }
    }
    return undefined;
}

export function flattenValue(value: SettingValue): string {
    if (Array.isArray(value)) {
        return (value as readonly SettingValue[]).map(String).join(" ");
    }
    if (typeof value === "object") {
        return stableJson(value);
    }
    return String(value);
}

/** The `MM_*` variables for these settings, in sorted order. */
export function flattenSettings(settings: MattermostSettings): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [section, values] of Object.entries(settings)) {
        for (const [key, value] of Object.entries(values)) {
            env[envName(section, key)] = flattenValue(value);
        }
    }
    return sortKeys(env);
}

export function sortKeys<T>(record: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function settingValue(settings: MattermostSettings, path: string): SettingValue | undefined {
    const [section, key] = path.split(".") as [string, string];
    return settings[section]?.[key];
}
