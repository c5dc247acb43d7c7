/**
 * The stack's Mattermost settings (`mattermost:mattermostSettings` over `config/mattermost/config.json`),
 * checked the way Mattermost will read them: each name exactly as the pinned server spells it, each value
 * of the kind it parses, no secret (by what the server itself masks), no value the server refuses at
 * start, and nothing that weakens a production stack without a reviewed opt-in.
 */
import { kindProblem, knownSetting, secretsWithin, settingSpelledAs, type ReleaseSettings } from "./mattermostSchema";
import {
    applyOverrides,
    baseSettings,
    derivedSettings,
    isSecretSetting,
    parseOverride,
    removedSettings,
    settingValue,
    unflattenableReason,
    type MattermostSettings,
    type ParsedOverride,
    type SettingOverride,
    type SettingValue,
} from "./mattermostSettings";

export interface StartRule {
    readonly path: string;
    /** What Mattermost needs of the value, for the error. */
    readonly needs: string;
    readonly holds: (value: SettingValue) => boolean;
    /** Values at the edge of the rule, which the chat suite checks the real server treats alike. */
    readonly accepted: readonly SettingValue[];
    readonly refused: readonly SettingValue[];
}

const atLeast = (path: string, minimum: number): StartRule => ({
    path,
    needs: minimum === 1 ? "more than 0" : `at least ${minimum}`,
    holds: (value) => typeof value === "number" && value >= minimum,
    accepted: [minimum],
    refused: [minimum - 1],
});

const oneOf = (path: string, values: readonly string[], refused: string): StartRule => ({
    path,
    needs: `one of ${values.map((value) => JSON.stringify(value)).join(", ")}`,
    holds: (value) => typeof value === "string" && values.includes(value),
    accepted: values,
    refused: [refused],
});

/**
 * Values Mattermost refuses at start (`Config.IsValid`, server/public/model/config.go), so the pods would
 * crash-loop after the rollout. Not all of its checks: these are the ones a stack would plausibly set;
 * every other check still stops the real server in the chat suite.
 */
export const startRules: readonly StartRule[] = [
    {
        path: "PasswordSettings.MinimumLength",
        needs: "from 5 to 72 (PasswordMinimumLength, PasswordMaximumLength)",
        holds: (value) => typeof value === "number" && value >= 5 && value <= 72,
        accepted: [5, 72],
        refused: [4, 73],
    },
    {
        path: "TeamSettings.SiteName",
        needs: "at most 30 characters (SitenameMaxLength)",
        holds: (value) => typeof value === "string" && value.length <= 30,
        accepted: ["x".repeat(30)],
        refused: ["x".repeat(31)],
    },
    atLeast("TeamSettings.MaxUsersPerTeam", 1),
    atLeast("TeamSettings.MaxChannelsPerTeam", 1),
    atLeast("TeamSettings.MaxNotificationsPerChannel", 1),
    atLeast("TeamSettings.UserStatusAwayTimeout", 1),
    oneOf("TeamSettings.RestrictDirectMessage", ["any", "team"], "none"),
    oneOf("TeamSettings.TeammateNameDisplay", ["username", "nickname_full_name", "full_name"], "nickname"),
    atLeast("FileSettings.MaxFileSize", 1),
    atLeast("FileSettings.AmazonS3RequestTimeoutMilliseconds", 1),
    atLeast("SqlSettings.MaxIdleConns", 1),
    atLeast("SqlSettings.MaxOpenConns", 1),
    atLeast("SqlSettings.QueryTimeout", 1),
    atLeast("SqlSettings.ConnMaxLifetimeMilliseconds", 0),
    atLeast("SqlSettings.ConnMaxIdleTimeMilliseconds", 0),
    atLeast("EmailSettings.EmailBatchingBufferSize", 1),
    atLeast("EmailSettings.EmailBatchingInterval", 30),
    oneOf("EmailSettings.EmailNotificationContentsType", ["full", "generic"], "none"),
    oneOf("EmailSettings.ConnectionSecurity", ["", "TLS", "STARTTLS", "PLAIN"], "SSL"),
    atLeast("RateLimitSettings.MemoryStoreSize", 1),
    atLeast("RateLimitSettings.PerSec", 1),
    atLeast("RateLimitSettings.MaxBurst", 1),
    atLeast("ServiceSettings.MaximumLoginAttempts", 1),
    atLeast("ServiceSettings.MaximumPayloadSizeBytes", 1),
    atLeast("ServiceSettings.MaximumURLLength", 1),
    atLeast("ServiceSettings.ReadTimeout", 1),
    atLeast("ServiceSettings.WriteTimeout", 1),
    atLeast("ServiceSettings.TimeBetweenUserTypingUpdatesMilliseconds", 1000),
    atLeast("ServiceSettings.OutgoingIntegrationRequestsTimeout", 1),
    atLeast("ServiceSettings.PersistentNotificationIntervalMinutes", 2),
    atLeast("ServiceSettings.PersistentNotificationMaxCount", 1),
    atLeast("ServiceSettings.PersistentNotificationMaxRecipients", 1),
];

export interface WeakeningRule {
    readonly path: string;
    readonly weakens: (value: SettingValue) => boolean;
    readonly why: string;
}

/** Settings that open a production stack up; allowed there only when listed in mattermostWeakerSettings. */
export const weakeningRules: readonly WeakeningRule[] = [
    {
        path: "ServiceSettings.EnableDeveloper",
        weakens: (value) => value === true,
        why: "shows every JavaScript error to every user and is meant for development",
    },
    {
        path: "ServiceSettings.EnableTesting",
        weakens: (value) => value === true,
        why: "lets anyone run the /test slash command, which fills the chat with generated users and posts",
    },
    {
        path: "ServiceSettings.AllowCorsFrom",
        weakens: (value) => typeof value === "string" && value.split(" ").includes("*"),
        why: "lets any web site call the API with a signed-in person's cookies",
    },
    {
        path: "PluginSettings.RequirePluginSignature",
        weakens: (value) => value === false,
        why: "lets Mattermost run plugins nobody signed",
    },
    {
        path: "PluginSettings.EnableUploads",
        weakens: (value) => value === true,
        why: "lets a system admin upload plugin code, which runs inside the server with its database access",
    },
];

/** How one setting is set in mattermostSecretSettings, for the messages. */
export function secretSettingCommand(path: string): string {
    return `pulumi config set --secret --path 'mattermostSecretSettings["${path}"]' <value>`;
}

/** Why `written` cannot be set in mattermostSecretSettings, or undefined when it can; values never shown. */
function secretSettingProblem(release: ReleaseSettings, written: string): string | undefined {
    const [section = "", key = "", ...rest] = written.split(".");
    const setting = rest.length === 0 ? settingSpelledAs(release, section, key) : undefined;
    if (!setting) {
        return `"${written}" is not a setting of this Mattermost release (${release.source}). Name it Section.Key as Mattermost spells it, e.g. EmailSettings.SMTPPassword`;
    }
    const path = `${setting.section}.${setting.key}`;
    if (written !== path) {
        return `"${written}" is spelt ${path} by Mattermost. Write it that way, so that every reader of the stack file sees the setting Mattermost will`;
    }
    const why = derivedSettings[path];
    if (why) {
        return `"${path}" cannot be set: ${why}`;
    }
    if (!secretsWithin(path).includes(path) && !isSecretSetting(path)) {
        return `"${path}" is no secret, and would be hidden from every review of the stack. Set it in mattermostSettings instead`;
    }
    if (setting.kind !== "string") {
        return `"${path}" is not a text setting (it is of kind ${setting.kind}), so it cannot be carried here`;
    }
    return undefined;
}

/**
 * @param release the settings of the release the stack pins
 * @param values mattermostSecretSettings: `Section.Key` to its (secret) value
 * @returns what is wrong with its names, each message naming the setting and the fix, never a value
 */
export function secretSettingsProblems(release: ReleaseSettings, values: Readonly<Record<string, string>>): string[] {
    return Object.keys(values)
        .map((written) => secretSettingProblem(release, written))
        .filter((problem): problem is string => problem !== undefined);
}

/** A problem and the stack key it is fixed in (`base` for config/mattermost/config.json itself). */
export interface SettingsProblem {
    readonly key: "mattermostSettings" | "mattermostWeakerSettings" | "base";
    readonly message: string;
}

export interface SettingsOutcome {
    readonly settings: MattermostSettings;
    readonly problems: readonly SettingsProblem[];
}

/** Why one override must not be applied, or undefined when it may. */
function overrideProblem(release: ReleaseSettings, override: ParsedOverride): string | undefined {
    const written = `${override.section}.${override.key}`;
    if (written in removedSettings) {
        return `${written} is no longer read by Mattermost: ${removedSettings[written]}`;
    }
    // What Mattermost will take the name for decides every check below, whatever its letter case.
    const setting = settingSpelledAs(release, override.section, override.key);
    if (!setting) {
        return `${written} is not a setting of this Mattermost release (${release.source}), which would ignore it. Check the spelling and the release`;
    }
    const path = `${setting.section}.${setting.key}`;
    if (path in derivedSettings) {
        return `${written} cannot be overridden: ${derivedSettings[path]}`;
    }
    const secrets = secretsWithin(path);
    const scalar = !["map", "list", "struct", "structList", "json"].includes(setting.kind);
    if (secrets.length > 0 && !scalar) {
        return `${written} holds secrets (${secrets.join(", ")}) and would land in a ConfigMap in plain text. Remove it from mattermostSettings: this program carries no secret of Mattermost's in a ConfigMap`;
    }
    if (secrets.length > 0 || isSecretSetting(path)) {
        return `${written} is a secret and would land in a ConfigMap in plain text. Remove it from mattermostSettings and set it encrypted in mattermostSecretSettings instead, which goes into a Secret: ${secretSettingCommand(path)}`;
    }
    if (written !== path) {
        return `${written} is spelt ${path} by Mattermost. Write it that way, so that every check here and every reader of the stack file sees the setting Mattermost will`;
    }
    if (override.value === null) {
        return `${path} is null, which is no value. Remove the entry to keep the default`;
    }
    const problem = kindProblem(setting, override.value) ?? unflattenableReason(override.value);
    return problem ? `${path} ${problem}` : undefined;
}

/** The base file's own settings, held to the same names and kinds. */
function baseProblems(release: ReleaseSettings): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    for (const [section, values] of Object.entries(baseSettings)) {
        for (const [key, value] of Object.entries(values)) {
            const path = `${section}.${key}`;
            const setting = knownSetting(release, section, key);
            const problem =
                path in removedSettings
                    ? `is no longer read by Mattermost: ${removedSettings[path]}`
                    : setting
                      ? kindProblem(setting, value)
                      : `is not a setting of this Mattermost release (${release.source})`;
            if (problem) {
                problems.push({ key: "base", message: `config/mattermost/config.json: ${path} ${problem}.` });
            }
        }
    }
    return problems;
}

function appliedOverrides(
    release: ReleaseSettings,
    entries: readonly string[],
    problems: SettingsProblem[],
): SettingOverride[] {
    const overrides: SettingOverride[] = [];
    for (const entry of entries) {
        const override = parseOverride(entry);
        if (!override) {
            problems.push({
                key: "mattermostSettings",
                message: `entry ${JSON.stringify(entry)} is not of the form Section.Key=value (e.g. TeamSettings.SiteName="Chat")`,
            });
            continue;
        }
        const problem = overrideProblem(release, override);
        if (problem) {
            problems.push({ key: "mattermostSettings", message: problem });
        } else {
            overrides.push(override as SettingOverride);
        }
    }
    return overrides;
}

/**
 * @param release the settings of the release the stack pins
 * @param entries the stack's `Section.Key=value` overrides
 * @param production whether weakening settings need the opt-in
 * @param weakerAllowed the paths listed in `mattermostWeakerSettings`
 * @returns the merged settings and what is wrong, each message naming the setting and the fix
 */
export function validateMattermostSettings(
    release: ReleaseSettings,
    entries: readonly string[],
    production: boolean,
    weakerAllowed: readonly string[],
): SettingsOutcome {
    const problems = baseProblems(release);
    const settings = applyOverrides(baseSettings, appliedOverrides(release, entries, problems));
    for (const rule of startRules) {
        const value = settingValue(settings, rule.path);
        if (value !== undefined && !rule.holds(value)) {
            problems.push({
                key: "mattermostSettings",
                message: `${rule.path} must be ${rule.needs}, not ${JSON.stringify(value)}: Mattermost refuses to start with it`,
            });
        }
    }
    for (const rule of weakeningRules) {
        const value = settingValue(settings, rule.path);
        if (production && value !== undefined && rule.weakens(value) && !weakerAllowed.includes(rule.path)) {
            problems.push({
                key: "mattermostSettings",
                message: `${rule.path}=${JSON.stringify(value)} ${rule.why}, and is refused in a production stack. Remove it, or accept it deliberately by adding "${rule.path}" to mattermost:mattermostWeakerSettings`,
            });
        }
    }
    for (const path of weakerAllowed) {
        if (!weakeningRules.some((rule) => rule.path === path)) {
            problems.push({
                key: "mattermostWeakerSettings",
                message: `lists ${JSON.stringify(path)}, which is none of the settings that need it (${weakeningRules.map((rule) => rule.path).join(", ")})`,
            });
        }
    }
    return { settings, problems };
}
