/**
 * The settings guard (config/validateSettings.ts) against the real Mattermost's own config code, through
 * tests/toolchain/mattermost/settingsprobe: the schema the guard reads from `@mattermost/types` is the
 * server's of the same release, its secrets are what the server masks, the forms the guard refuses are
 * ones the server would have read as the setting, the values the guard refuses at start are the ones the
 * server refuses, and every variable both stacks render reaches the server as the value meant.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { releaseSettings, secretSettings } from "../../config/mattermostSchema";
import { envName, flattenValue, type SettingValue } from "../../config/mattermostSettings";
import { startRules, validateMattermostSettings } from "../../config/validateSettings";
import { probedServer } from "../../scripts/settingsSchema";
import { mattermostBuild } from "../../scripts/toolchain/peers";
import { mattermostEnvironment } from "../helpers/mattermostServer";
import { renderBothStacks, type Rendered } from "../helpers/render";
import { StackSecrets } from "../identity/fixture";

type Loaded = { config: Record<string, Record<string, unknown>> } | { error: string };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "settings-guard-"));
const emptyConfig = path.join(dir, "config.json");
fs.writeFileSync(emptyConfig, "{}");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The server's configuration from its defaults and these variables, as it loads it at start. */
function load(variables: Record<string, string>): Loaded {
    const output = execFileSync(mattermostBuild().settingsProbe, ["load", emptyConfig], {
        env: { PATH: process.env.PATH, ...variables },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
    });
    return JSON.parse(output) as Loaded;
}

function effective(loaded: Loaded, section: string, key: string): unknown {
    if ("error" in loaded) {
        throw new Error(`the server refused the configuration: ${loaded.error}`);
    }
    return loaded.config[section]?.[key];
}

// The release the built server is (scripts/toolchain/peers.ts: 11.4.0).
const release = releaseSettings["11.4"];
const server = probedServer();

const settingOf = (variable: string) =>
    Object.entries(server.sections)
        .flatMap(([section, keys]) => Object.keys(keys).map((key) => [section, key] as const))
        .find(([section, key]) => envName(section, key) === variable);

describe("the settings guard against the real Mattermost's config code", () => {
    const stacks = renderBothStacks();

    it("masks as secret what the committed secrets say", () => {
        expect(server.secrets).toEqual(secretSettings);
    });

    it("reads from @mattermost/types the settings and kinds of the server of that release", () => {
        const flat = (sections: Readonly<Record<string, Readonly<Record<string, string>>>>) =>
            Object.entries(sections).flatMap(([section, keys]) =>
                // FeatureFlags are a map of strings in the types; nothing here sets one.
                section === "FeatureFlags" ? [] : Object.keys(keys).map((key) => `${section}.${key}`),
            );
        const declared = new Set(flat(release.sections));
        const served = new Set(flat(server.sections));
        // Known gaps of the web app's types, each checked here so that a change in them shows: fields the
        // server hides from the web app (and one it embeds), and console-only fields the server lacks.
        expect([...served].filter((path) => !declared.has(path)).sort()).toEqual([
            "ClusterSettings.EnableExperimentalGossipEncryption",
            "ContentFlaggingSettings.ContentFlaggingSettingsBase",
            "ElasticsearchSettings.BulkIndexingTimeWindowSeconds",
            "TeamSettings.ExperimentalViewArchivedChannels",
        ]);
        expect([...declared].filter((path) => !served.has(path)).sort()).toEqual([
            "ContentFlaggingSettings.AdditionalSettings",
            "ContentFlaggingSettings.EnableContentFlagging",
            "ContentFlaggingSettings.NotificationSettings",
            "EmailSettings.PushNotificationServerLocation",
            "EmailSettings.PushNotificationServerType",
        ]);
        const kindOf = (sections: typeof release.sections, path: string) => {
            const [section, key] = path.split(".") as [string, string];
            return sections[section]?.[key];
        };
        const differentKind = [...declared].filter((path) => {
            const [types, real] = [kindOf(release.sections, path), kindOf(server.sections, path)];
            // A raw JSON field is an object to the types; both take a JSON object here.
            return served.has(path) && types !== real && !(types === "map" && real === "json");
        });
        expect(differentKind).toEqual([]);
    });

    it.each([
        [
            'ServiceSettings.EnableInsecureOutgoingConnections="true"',
            "MM_SERVICESETTINGS_ENABLEINSECUREOUTGOINGCONNECTIONS",
        ],
        ["ServiceSettings.EnableInsecureOutgoingConnections=1", "MM_SERVICESETTINGS_ENABLEINSECUREOUTGOINGCONNECTIONS"],
        ['ServiceSettings.EnableDeveloper="TRUE"', "MM_SERVICESETTINGS_ENABLEDEVELOPER"],
        ["serviceSettings.enableDeveloper=true", "MM_SERVICESETTINGS_ENABLEDEVELOPER"],
    ])("refuses %s, which the server reads as true", (entry, variable) => {
        const [, written, text] = /^([^=]+)=(.*)$/.exec(entry)!;
        const value = JSON.parse(text) as SettingValue;
        // The variable exactly as flattening would write it: upper-cased name, the value's text.
        const [section, key] = written.split(".") as [string, string];
        expect(envName(section, key)).toBe(variable);
        const canonical = settingOf(variable)!;
        expect(effective(load({ [variable]: flattenValue(value) }), ...canonical)).toBe(true);
        expect(validateMattermostSettings(release, [entry], true, []).problems).not.toEqual([]);
    });

    it.each(startRules.flatMap((rule) => rule.refused.map((value) => [rule.path, value] as const)))(
        "refuses %s=%j as the server does at start",
        (settingPath, value) => {
            const [section, key] = settingPath.split(".") as [string, string];
            const loaded = load({ [envName(section, key)]: flattenValue(value) });
            expect("error" in loaded ? loaded.error : "loaded").toContain("invalid config");
            expect(
                validateMattermostSettings(release, [`${settingPath}=${JSON.stringify(value)}`], false, []).problems,
            ).toEqual([expect.objectContaining({ message: expect.stringContaining(`${settingPath} must be`) })]);
        },
    );

    it.each(startRules.flatMap((rule) => rule.accepted.map((value) => [rule.path, value] as const)))(
        "accepts %s=%j as the server does",
        (settingPath, value) => {
            const [section, key] = settingPath.split(".") as [string, string];
            expect(effective(load({ [envName(section, key)]: flattenValue(value) }), section, key)).toEqual(value);
            expect(
                validateMattermostSettings(release, [`${settingPath}=${JSON.stringify(value)}`], false, []).problems,
            ).toEqual([]);
        },
    );

    it.each(["test", "prod"] as const)("gives the server every %s-stack variable as the value meant", (stack) => {
        const rendered: Rendered = stacks[stack];
        const deployments = rendered.manifests.filter(
            (m: Record<string, any>) =>
                m.kind === "Deployment" &&
                (m.spec.template.spec.containers as { name: string }[]).some((c) => c.name === "mattermost"),
        ) as Record<string, any>[];
        expect(deployments.length).toBe(2);
        for (const deployment of deployments) {
            const env = mattermostEnvironment(rendered, deployment.metadata.name as string, new StackSecrets(rendered));
            const variables = Object.keys(env).filter((name) => name.startsWith("MM_") && name !== "MM_CONFIG");
            expect(variables.length).toBeGreaterThan(40);
            const loaded = load(Object.fromEntries(variables.map((name) => [name, env[name]])));
            const differing = variables.filter((variable) => {
                const setting = settingOf(variable);
                return !setting || flattenValue(effective(loaded, ...setting) as SettingValue) !== env[variable];
            });
            expect(differing).toEqual([]);
        }
    });
});
