import {
    applyOverrides,
    baseSettings,
    envName,
    flattenSettings,
    isSecretSetting,
    parseOverride,
    unflattenableReason,
} from "../../config/mattermostSettings";
import { postgresUrl } from "../../config/database";

describe("Mattermost settings as environment variables", () => {
    it("names variables MM_<SECTION>_<KEY>, upper-cased", () => {
        expect(envName("ServiceSettings", "SiteURL")).toBe("MM_SERVICESETTINGS_SITEURL");
    });

    it("flattens scalars, lists space-separated and maps as JSON with sorted keys, in sorted order", () => {
        const env = flattenSettings({
            ServiceSettings: {
                TrustedProxyIPHeader: ["X-Forwarded-For", "X-Real-IP"],
                EnableLocalMode: true,
                ReadTimeout: 300,
            },
            PluginSettings: {
                PluginStates: { "com.mattermost.calls": { Enable: true }, "com.github": { Enable: false } },
            },
        });
        expect(env).toEqual({
            MM_PLUGINSETTINGS_PLUGINSTATES: '{"com.github":{"Enable":false},"com.mattermost.calls":{"Enable":true}}',
            MM_SERVICESETTINGS_ENABLELOCALMODE: "true",
            MM_SERVICESETTINGS_READTIMEOUT: "300",
            MM_SERVICESETTINGS_TRUSTEDPROXYIPHEADER: "X-Forwarded-For X-Real-IP",
        });
        expect(Object.keys(env)).toEqual(Object.keys(env).sort());
    });

    it("refuses list values Mattermost would split wrongly", () => {
        expect(unflattenableReason(["a b"])).toBe(
            "is a list with an item containing white space, but Mattermost splits list variables on spaces",
        );
        expect(unflattenableReason([{ a: 1 }])).toBe(
            "is a list of objects, which Mattermost cannot read from an environment variable",
        );
        expect(unflattenableReason(["a", "b"])).toBeUndefined();
    });

    it.each([
        ['TeamSettings.SiteName="Chat"', { section: "TeamSettings", key: "SiteName", value: "Chat" }],
        ["TeamSettings.SiteName=Chat room", { section: "TeamSettings", key: "SiteName", value: "Chat room" }],
        ["FileSettings.MaxFileSize=52428800", { section: "FileSettings", key: "MaxFileSize", value: 52428800 }],
        [
            "ServiceSettings.EnableUserAccessTokens=true",
            { section: "ServiceSettings", key: "EnableUserAccessTokens", value: true },
        ],
        [
            'ServiceSettings.TrustedProxyIPHeader=["X-Forwarded-For"]',
            { section: "ServiceSettings", key: "TrustedProxyIPHeader", value: ["X-Forwarded-For"] },
        ],
    ])("parses the override %s", (entry, expected) => {
        expect(parseOverride(entry)).toEqual(expected);
    });

    it("overrides a base key and keeps the rest of the section", () => {
        const merged = applyOverrides(baseSettings, [{ section: "LogSettings", key: "ConsoleLevel", value: "DEBUG" }]);
        expect(merged.LogSettings).toEqual({ ...baseSettings.LogSettings, ConsoleLevel: "DEBUG" });
        expect(baseSettings.LogSettings?.ConsoleLevel).toBe("INFO");
    });

    it.each([
        ["SqlSettings.DataSource", true],
        ["SqlSettings.AtRestEncryptKey", true],
        ["GitLabSettings.Secret", true],
        ["EmailSettings.SMTPPassword", true],
        ["FileSettings.AmazonS3SecretAccessKey", true],
        ["FileSettings.PublicLinkSalt", true],
        ["ServiceSettings.EnableUserAccessTokens", false],
        ["TeamSettings.SiteName", false],
    ])("classifies %s as secret: %s", (path, secret) => {
        expect(isSecretSetting(path)).toBe(secret);
    });

    it("keeps the base config.json free of secrets and of settings Mattermost no longer reads", () => {
        const paths = Object.entries(baseSettings).flatMap(([section, values]) =>
            Object.keys(values).map((key) => `${section}.${key}`),
        );
        expect(paths.filter(isSecretSetting)).toEqual([]);
        expect(paths).not.toContain("ServiceSettings.EnableOnlyAdminIntegrations");
    });
});

describe("postgresUrl", () => {
    it("percent-encodes credentials and sorts parameters", () => {
        expect(
            postgresUrl({
                host: "db.example.com",
                port: 5432,
                database: "mattermost",
                user: "mm",
                password: "p@ss:w/rd?#% x",
                parameters: { sslmode: "verify-full", connect_timeout: "10" },
            }),
        ).toBe(
            "postgres://mm:p%40ss%3Aw%2Frd%3F%23%25%20x@db.example.com:5432/mattermost?connect_timeout=10&sslmode=verify-full",
        );
    });
});
