/**
 * The settings of each Mattermost release a stack may pin, and the ones the server treats as secret
 * (written by `npm run -s settings-schema`, see scripts/settingsSchema.ts). Mattermost matches `MM_*` names to settings case-insensitively and silently ignores a value it
 * cannot parse (server/config/environment.go), so an override that merely looks right can be a different
 * value, or none at all; and `strconv.ParseBool` reads "1", "t" and "TRUE" as true. Overrides are
 * therefore held to the exact name and the kind of value, and a guard reads the value as Mattermost will.
 */
import type { Version } from "./images";
import settings1011 from "./mattermost/settings/10.11.json";
import settings114 from "./mattermost/settings/11.4.json";
import settings116 from "./mattermost/settings/11.6.json";
import serverSecrets from "./mattermost/settingsSecrets.json";
import type { SettingValue } from "./mattermostSettings";

/** The settings of one release line: section, then key, then kind (how the server reads the value). */
export interface ReleaseSettings {
    /** The package the schema was read from. */
    readonly source: string;
    readonly sections: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** What `Config.Sanitize` masks: `Section.Key`, then `.Field`, `[]` (a list item), `{}` (a map value). */
export interface ServerSecrets {
    readonly source: string;
    readonly secrets: readonly string[];
}

/** Each release line a stack may pin, from its `@mattermost/types` (scripts/settingsSchema.ts). */
export const releaseSettings: Readonly<Record<string, ReleaseSettings>> = {
    "10.11": settings1011,
    "11.4": settings114,
    "11.6": settings116,
};

/** From the real server; secrets are the same settings across these releases (checked per release). */
export const secretSettings: ServerSecrets = serverSecrets;

export function releaseLine(version: Version): string {
    return `${version.major}.${version.minor}`;
}

export interface KnownSetting {
    readonly section: string;
    readonly key: string;
    readonly kind: string;
}

export function knownSetting(release: ReleaseSettings, section: string, key: string): KnownSetting | undefined {
    const kind = release.sections[section]?.[key];
    return kind === undefined ? undefined : { section, key, kind };
}

/** The setting Mattermost would take `Section.Key` for, matching names as it does (ignoring case). */
export function settingSpelledAs(release: ReleaseSettings, section: string, key: string): KnownSetting | undefined {
    const sectionName = Object.keys(release.sections).find((s) => s.toUpperCase() === section.toUpperCase());
    const keyName = sectionName
        ? Object.keys(release.sections[sectionName] ?? {}).find((k) => k.toUpperCase() === key.toUpperCase())
        : undefined;
    return sectionName && keyName ? knownSetting(release, sectionName, keyName) : undefined;
}

/** The secrets at `path` or inside its value (a field of a group, an item of a list, a map's value). */
export function secretsWithin(path: string): string[] {
    return secretSettings.secrets.filter(
        (secret) => secret === path || [".", "[", "{"].some((next) => secret.startsWith(`${path}${next}`)),
    );
}

const whatEachKindTakes: Readonly<Record<string, string>> = {
    string: 'a string (in JSON quotes if it could be read as something else: "123")',
    bool: "true or false, without quotes",
    integer: "a whole number, without quotes",
    list: 'a JSON list of strings, e.g. ["a","b"]',
    map: "a JSON object",
    json: "a JSON object",
};

function fitsKind(kind: string, value: SettingValue): boolean {
    switch (kind) {
        case "string":
            return typeof value === "string";
        case "bool":
            return typeof value === "boolean";
        case "integer":
            return typeof value === "number" && Number.isSafeInteger(value);
        case "list":
            return Array.isArray(value) && value.every((item) => typeof item === "string");
        case "map":
        case "json":
            return typeof value === "object" && !Array.isArray(value);
        default:
            return false;
    }
}

/** Why Mattermost would not read `value` as this setting's value, or undefined when it would. */
export function kindProblem(setting: KnownSetting, value: SettingValue): string | undefined {
    if (setting.kind === "struct") {
        return "is a group of settings, which Mattermost does not take as one value from an environment variable (it would ignore it); mattermostSettings cannot set it";
    }
    if (setting.kind === "structList") {
        return "is a list of objects, which Mattermost cannot read from an environment variable";
    }
    const takes = whatEachKindTakes[setting.kind];
    if (takes === undefined) {
        return `is of a kind Mattermost cannot set from an environment variable (${setting.kind})`;
    }
    return fitsKind(setting.kind, value) ? undefined : `takes ${takes}, not ${JSON.stringify(value)}`;
}
