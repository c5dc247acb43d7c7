/**
 * The settings guard of issue 16 item 1, on the forms the review used to get past it. The chat suite
 * (tests/chat/settingsGuard.test.ts) shows the real server reads each of those forms as the setting.
 */
import * as fs from "node:fs";
import { derivedSettings, removedSettings } from "../../config/mattermostSettings";
import { knownSetting, releaseSettings, secretSettings } from "../../config/mattermostSchema";
import {
    secretSettingsProblems,
    startRules,
    validateMattermostSettings,
    weakeningRules,
} from "../../config/validateSettings";
import { jsonText, releaseFile, readReleaseSettings, typesPackages } from "../../scripts/settingsSchema";

const release = releaseSettings["11.6"];
const messages = (entries: string[], production = true, weaker: string[] = []) =>
    validateMattermostSettings(release, entries, production, weaker).problems.map((problem) => problem.message);

describe("the Mattermost settings guard", () => {
    it("accepts the base config.json and no overrides", () => {
        expect(messages([])).toEqual([]);
    });

    it.each([
        ['ServiceSettings.EnableInsecureOutgoingConnections="true"', 'takes true or false, without quotes, not "true"'],
        ["ServiceSettings.EnableInsecureOutgoingConnections=1", "takes true or false, without quotes, not 1"],
        ['ServiceSettings.EnableInsecureOutgoingConnections="t"', 'takes true or false, without quotes, not "t"'],
        ['FileSettings.MaxFileSize="1048576"', 'takes a whole number, without quotes, not "1048576"'],
        ["FileSettings.MaxFileSize=1.5", "takes a whole number, without quotes, not 1.5"],
        ["TeamSettings.SiteName=42", "takes a string"],
        ['ServiceSettings.TrustedProxyIPHeader="X-Forwarded-For"', "takes a JSON list of strings"],
    ])("refuses %s as a value Mattermost would read otherwise", (entry, expected) => {
        const problems = messages([entry]);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain(expected);
    });

    it.each([
        ["SERVICESETTINGS.ENABLEINSECUREOUTGOINGCONNECTIONS=true", "ServiceSettings.EnableInsecureOutgoingConnections"],
        ["serviceSettings.enableDeveloper=true", "ServiceSettings.EnableDeveloper"],
    ])("refuses the re-cased name %s, naming Mattermost's spelling", (entry, spelling) => {
        expect(messages([entry])).toEqual([expect.stringContaining(`is spelt ${spelling} by Mattermost`)]);
    });

    it.each([
        ['EmailSettings.SMTPPASSWORD="x"', "is a secret"],
        ['emailsettings.smtppassword="x"', "is a secret"],
        ['ServiceSettings.SplitKey="x"', "is a secret"],
        ['CacheSettings.RedisPassword="x"', "is a secret"],
        [
            'MessageExportSettings.GlobalRelaySettings={"SMTPPassword":"x"}',
            "holds secrets (MessageExportSettings.GlobalRelaySettings.SMTPPassword)",
        ],
        ['PluginSettings.Plugins={"com.example":{"token":"x"}}', "holds secrets (PluginSettings.Plugins)"],
        ['SqlSettings.DataSourceReplicas=["postgres://u:p@db/mm"]', "holds secrets (SqlSettings.DataSourceReplicas[])"],
    ])("refuses the secret %s, whatever its case or depth", (entry, expected) => {
        const problems = messages([entry]);
        expect(problems).toEqual([expect.stringContaining(expected)]);
        expect(problems[0]).toContain("would land in a ConfigMap in plain text");
    });

    it("refuses a misspelt setting, which Mattermost would ignore, and a null value", () => {
        expect(messages(["ServiceSettings.EnableDevelopper=true"])).toEqual([
            expect.stringContaining(
                "ServiceSettings.EnableDevelopper is not a setting of this Mattermost release (@mattermost/types 11.6.0)",
            ),
        ]);
        expect(messages(["TeamSettings.SiteName=null"])).toEqual([
            "TeamSettings.SiteName is null, which is no value. Remove the entry to keep the default",
        ]);
    });

    it("refuses a group of settings given as one value, which Mattermost ignores", () => {
        expect(messages(['AutoTranslationSettings.LibreTranslate={"URL":"https://translate.example.com"}'])).toEqual([
            expect.stringContaining("is a group of settings"),
        ]);
    });

    it.each(startRules.flatMap((rule) => rule.refused.map((value) => [rule.path, value] as const)))(
        "refuses %s=%j, which Mattermost refuses at start",
        (path, value) => {
            expect(messages([`${path}=${JSON.stringify(value)}`])).toEqual([
                expect.stringContaining(`${path} must be`),
            ]);
        },
    );

    it.each(startRules.flatMap((rule) => rule.accepted.map((value) => [rule.path, value] as const)))(
        "accepts %s=%j",
        (path, value) => {
            expect(messages([`${path}=${JSON.stringify(value)}`])).toEqual([]);
        },
    );

    it("refuses settings that weaken production unless listed in mattermostWeakerSettings", () => {
        const entries = [
            "ServiceSettings.EnableDeveloper=true",
            'ServiceSettings.AllowCorsFrom="https://a.example.com *"',
            "PluginSettings.RequirePluginSignature=false",
            "PluginSettings.EnableUploads=true",
            "ServiceSettings.EnableTesting=true",
        ];
        expect(messages(entries)).toHaveLength(5);
        for (const problem of messages(entries)) {
            expect(problem).toContain("is refused in a production stack");
            expect(problem).toContain("mattermost:mattermostWeakerSettings");
        }
        expect(messages(entries, false)).toEqual([]);
        const listed = weakeningRules.map((rule) => rule.path);
        expect(messages(entries, true, listed)).toEqual([]);
        expect(messages(entries, true, listed.slice(1))).toEqual([
            expect.stringContaining("ServiceSettings.EnableDeveloper=true"),
        ]);
        expect(messages(['ServiceSettings.AllowCorsFrom="https://a.example.com"'])).toEqual([]);
    });

    it("refuses an opt-in that names no weakening setting", () => {
        expect(
            validateMattermostSettings(release, [], true, ["ServiceSettings.EnableDevelopper"]).problems.map(
                (p) => p.key,
            ),
        ).toEqual(["mattermostWeakerSettings"]);
    });

    it("names only real settings of every release in its own tables, and no removed one", () => {
        const paths = [
            ...Object.keys(derivedSettings),
            ...startRules.map((rule) => rule.path),
            ...weakeningRules.map((rule) => rule.path),
        ];
        for (const each of Object.values(releaseSettings)) {
            const unknown = paths.filter((path) => {
                const [section, key] = path.split(".") as [string, string];
                return !knownSetting(each, section, key);
            });
            expect({ release: each.source, unknown }).toEqual({ release: each.source, unknown: [] });
            for (const path of Object.keys(removedSettings)) {
                const [section, key] = path.split(".") as [string, string];
                expect(knownSetting(each, section, key)).toBeUndefined();
            }
        }
        expect(secretSettings.secrets).toContain("EmailSettings.SMTPPassword");
    });

    it("knows a setting only in the releases that have it", () => {
        const bleve = ['BleveSettings.IndexDir="/var/bleve"'];
        expect(validateMattermostSettings(releaseSettings["10.11"], bleve, false, []).problems).toEqual([]);
        expect(messages(bleve)).toEqual([expect.stringContaining("is not a setting of this Mattermost release")]);
    });
});

describe("the secret settings (mattermostSecretSettings)", () => {
    const secretProblems = (...names: string[]) =>
        secretSettingsProblems(release, Object.fromEntries(names.map((name) => [name, "value-not-shown"])));

    it.each(["EmailSettings.SMTPPassword", "ElasticsearchSettings.Password", "LdapSettings.BindPassword"])(
        "takes %s, which the server masks",
        (name) => {
            expect(secretProblems(name)).toEqual([]);
        },
    );

    it("takes a key the server shows but that is one (an API key), by its name", () => {
        expect(secretProblems("ServiceSettings.GoogleDeveloperKey")).toEqual([]);
    });

    it.each([
        ["GitLabSettings.Secret", "cannot be set: it is the realm's mattermost client secret"],
        ["OpenIdSettings.Secret", "cannot be set: it is the realm's mattermost client secret"],
        ["FileSettings.AmazonS3SecretAccessKey", "pulumi config set --secret s3SecretAccessKey"],
        ["SqlSettings.DataSource", "cannot be set: it is built from the database* keys"],
        ["FileSettings.PublicLinkSalt", "cannot be set: the program generates it"],
    ])("refuses %s, which the program sets itself", (name, expected) => {
        expect(secretProblems(name)).toEqual([expect.stringContaining(expected)]);
    });

    it.each([
        ["TeamSettings.SiteName", "is no secret"],
        ["PluginSettings.Plugins", "is not a text setting"],
        ["EmailSettings.SMTPPasswort", "is not a setting of this Mattermost release"],
        ["EmailSettings.SMTPPassword.Extra", "is not a setting of this Mattermost release"],
        ["EMAILSETTINGS.SMTPPASSWORD", "is spelt EmailSettings.SMTPPassword"],
    ])("refuses %s", (name, expected) => {
        expect(secretProblems(name)).toEqual([expect.stringContaining(expected)]);
    });

    it("never shows a value in what it says", () => {
        const problems = secretProblems("TeamSettings.SiteName", "GitLabSettings.Secret", "Nope.Nope");
        expect(problems).toHaveLength(3);
        expect(problems.join(" ")).not.toContain("value-not-shown");
    });
});

describe("the settings schemas", () => {
    it("hold one release line per mattermost-types package, each what its package declares", () => {
        const packages = typesPackages();
        expect(Object.keys(releaseSettings).sort()).toEqual(Object.keys(packages).sort());
        for (const [line, packageName] of Object.entries(packages)) {
            expect(fs.readFileSync(releaseFile(line), "utf8")).toBe(jsonText(readReleaseSettings(packageName)));
        }
    });
});
