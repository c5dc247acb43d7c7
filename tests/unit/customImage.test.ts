import { validate, ValidationSeverity, type ValidatorSettings } from "dockerfile-utils";
import {
    defaultEnabledPluginIds,
    imageRecipe,
    recipeDigits,
    renderDockerfile,
    type CustomImageSettings,
} from "../../config/customImage";
import { imageReferenceProblem } from "../../config/images";
import { flattenSettings } from "../../config/mattermostSettings";
import { validateStackConfig, type RawConfig } from "../../config/validate";
import { testStackConfig } from "../helpers/stackFixtures";

const jitsi = {
    id: "jitsi",
    version: "2.1.0",
    url: "https://plugins.releases.mattermost.com/release/mattermost-plugin-jitsi-v2.1.0-linux-amd64.tar.gz",
    sha256: "a".repeat(64),
    signatureSha256: "b".repeat(64),
};
const replacement = { find: "GitLab SSO", replace: "Company SSO", count: 2 };

function withImage(extra: RawConfig): ReturnType<typeof validateStackConfig> {
    return validateStackConfig({ ...testStackConfig, ...extra });
}

function builtFor(extra: RawConfig): CustomImageSettings {
    const build = withImage(extra).settings?.mattermost.build;
    if (!build) {
        throw new Error("the fixture should validate");
    }
    return build;
}

const digest = `sha256:${"c".repeat(64)}`;

// Given settings replace the linter's defaults wholesale, so every optional check is named, as an error.
const everyCheckAsError: Required<ValidatorSettings> = {
    deprecatedMaintainer: ValidationSeverity.ERROR,
    directiveCasing: ValidationSeverity.ERROR,
    emptyContinuationLine: ValidationSeverity.ERROR,
    instructionCasing: ValidationSeverity.ERROR,
    instructionCmdMultiple: ValidationSeverity.ERROR,
    instructionEntrypointMultiple: ValidationSeverity.ERROR,
    instructionHealthcheckMultiple: ValidationSeverity.ERROR,
    instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
    instructionWorkdirRelative: ValidationSeverity.ERROR,
};
const lintDockerfile = (text: string) => validate(text, everyCheckAsError);

describe("plugins baked into the image", () => {
    it("enables exactly the listed plugins and turns off the ones Mattermost would enable by itself", () => {
        const result = withImage({ mattermostPlugins: JSON.stringify([jitsi]) });
        expect(result.errors).toEqual([]);
        const env = flattenSettings(result.settings?.mattermost.settings ?? {});
        const states = JSON.parse(env.MM_PLUGINSETTINGS_PLUGINSTATES ?? "{}") as Record<string, { Enable: boolean }>;
        expect(Object.entries(states).filter(([, state]) => state.Enable)).toEqual([["jitsi", { Enable: true }]]);
        for (const id of defaultEnabledPluginIds) {
            expect(states[id]).toEqual({ Enable: false });
        }
        expect(env.MM_PLUGINSETTINGS_ENABLE).toBe("true");
        expect(env.MM_PLUGINSETTINGS_AUTOMATICPREPACKAGEDPLUGINS).toBe("true");
        expect(result.settings?.mattermost.build.plugins[0]?.signatureUrl).toBe(`${jitsi.url}.sig`);
    });

    it("turns the plugin system off when no plugin is listed", () => {
        const env = flattenSettings(withImage({}).settings?.mattermost.settings ?? {});
        expect(env.MM_PLUGINSETTINGS_ENABLE).toBe("false");
        const states = JSON.parse(env.MM_PLUGINSETTINGS_PLUGINSTATES ?? "{}") as Record<string, { Enable: boolean }>;
        expect(Object.values(states).every((state) => !state.Enable)).toBe(true);
    });

    it("names the entry and the field of a malformed plugin", () => {
        const errors = withImage({
            mattermostPlugins: JSON.stringify([
                { ...jitsi, sha256: "abc" },
                { ...jitsi, id: "x y z", url: "http://a" },
            ]),
        }).errors;
        expect(errors).toContainEqual(
            expect.stringMatching(/^mattermost:mattermostPlugins: "jitsi": sha256 is not 64/),
        );
        expect(errors).toContainEqual(expect.stringContaining('"x y z": id is not a plugin id'));
        expect(errors).toContainEqual(expect.stringContaining('"x y z": url is not an https URL'));
    });

    it("refuses a plugin listed twice and a list that is not a list of maps", () => {
        expect(withImage({ mattermostPlugins: JSON.stringify([jitsi, jitsi]) }).errors).toContainEqual(
            expect.stringContaining('"jitsi" is listed twice'),
        );
        expect(withImage({ mattermostPlugins: '"jitsi"' }).errors).toContainEqual(
            expect.stringContaining("is not a list. Write it as a YAML list of maps"),
        );
        expect(withImage({ mattermostPlugins: JSON.stringify(["jitsi"]) }).errors).toContainEqual(
            expect.stringContaining('"entry 1": is not a map'),
        );
    });

    it("refuses overlapping web-client replacements, whose result would depend on their order", () => {
        const errors = withImage({
            webClientReplacements: JSON.stringify([replacement, { find: "GitLab", replace: "AD", count: 5 }]),
        }).errors;
        expect(errors).toContainEqual(expect.stringContaining("overlaps another entry's find text"));
    });
});

describe("the built image the pair runs", () => {
    it("needs the built image before pulumi up, but not for the offline render", () => {
        const result = withImage({ mattermostPlugins: JSON.stringify([jitsi]) });
        expect(result.errors).toEqual([]);
        expect(result.missingValues.map((missing) => missing.key)).toContain("customMattermostImage");
        expect(result.settings?.mattermost.image).toBe(testStackConfig.mattermostImage);
    });

    it("runs the built image when its tag carries the recipe of the current lists", () => {
        const extra = { mattermostPlugins: JSON.stringify([jitsi]) };
        const build = builtFor(extra);
        const reference = `registry.example.com/chat/mattermost:${build.tag}@${digest}`;
        const result = withImage({ ...extra, customMattermostImage: reference });
        expect(result.errors).toEqual([]);
        expect(result.missingValues).toEqual(withImage({}).missingValues);
        expect(result.settings?.mattermost.image).toBe(reference);
        expect(build.tag).toMatch(new RegExp(`^10\\.11\\.10-[0-9a-f]{${recipeDigits}}$`));
    });

    it("refuses a built image whose inputs changed since, or that is not pinned by digest", () => {
        const before = builtFor({ mattermostPlugins: JSON.stringify([jitsi]) });
        const changed = { mattermostPlugins: JSON.stringify([{ ...jitsi, sha256: "d".repeat(64) }]) };
        expect(
            withImage({ ...changed, customMattermostImage: `registry.example.com/mm:${before.tag}@${digest}` }).errors,
        ).toContainEqual(expect.stringContaining("was built from other inputs than the stack now lists"));
        expect(
            withImage({ ...changed, customMattermostImage: `registry.example.com/mm:${builtFor(changed).tag}` }).errors,
        ).toContainEqual(expect.stringContaining("is not pinned by digest"));
    });

    it("gives the same recipe for the same inputs and a new one when anything baked in changes", () => {
        const base = builtFor({ mattermostPlugins: JSON.stringify([jitsi]) });
        expect(builtFor({ mattermostPlugins: JSON.stringify([jitsi]) }).recipe).toBe(base.recipe);
        const variants: RawConfig[] = [
            { mattermostPlugins: JSON.stringify([{ ...jitsi, signatureSha256: "e".repeat(64) }]) },
            {
                mattermostPlugins: JSON.stringify([jitsi]),
                mattermostImage: "mattermost/mattermost-team-edition:10.11.11",
            },
            { mattermostPlugins: JSON.stringify([jitsi]), webClientReplacements: JSON.stringify([replacement]) },
        ];
        for (const variant of variants) {
            expect(builtFor(variant).recipe).not.toBe(base.recipe);
        }
        expect(imageRecipe(base)).toBe(base.recipe);
    });
});

describe("the rendered Dockerfile", () => {
    const variants: [string, RawConfig][] = [
        ["plugins only", { mattermostPlugins: JSON.stringify([jitsi]) }],
        ["web-client text only", { webClientReplacements: JSON.stringify([replacement]) }],
        ["both", { mattermostPlugins: JSON.stringify([jitsi]), webClientReplacements: JSON.stringify([replacement]) }],
    ];

    it.each(variants)("lints clean (%s)", (_name, extra) => {
        const dockerfile = renderDockerfile(builtFor(extra));
        expect(lintDockerfile(dockerfile)).toEqual([]);
    });

    it.each(variants)("pins every base image and runs nothing in the distroless final stage (%s)", (_name, extra) => {
        const dockerfile = renderDockerfile(builtFor(extra));
        // A syntax directive would make BuildKit pull its frontend image by a moving tag.
        expect(dockerfile).not.toMatch(/^#\s*syntax\s*=/im);
        const lines = dockerfile.split("\n");
        const stages = new Set<string>();
        for (const line of lines.filter((text) => text.startsWith("FROM "))) {
            const [, image, , stage] = line.split(/\s+/) as [string, string, string?, string?];
            expect(stages.has(image) || imageReferenceProblem(image) === undefined).toBe(true);
            if (stage) {
                stages.add(stage);
            }
        }
        const lastFrom = lines.map((text) => text.startsWith("FROM ")).lastIndexOf(true);
        expect(lines.slice(lastFrom).filter((text) => /^(RUN|ADD) /.test(text))).toEqual([]);
        // Plugins stay root's: the server reads them and must not be able to change them.
        expect(lines.filter((text) => text.includes("prepackaged_plugins") && text.includes("--chown"))).toEqual([]);
    });

    it("is caught by the linter when an instruction is malformed", () => {
        const broken = renderDockerfile(builtFor(variants[0][1])).replace(
            "COPY prepackaged_plugins/",
            "COPY --own=0 x",
        );
        expect(lintDockerfile(broken).map((diagnostic) => diagnostic.message)).toContain("Unknown flag: own");
        // An optional check, which runs only because the settings above turn it on.
        const lowerCase = renderDockerfile(builtFor(variants[0][1])).replace("\nCOPY ", "\ncopy ");
        expect(lintDockerfile(lowerCase)).not.toEqual([]);
    });
});

describe("the login button", () => {
    it("carries loginButtonText to GitLabSettings, and refuses it as a settings override", () => {
        const gitlab = flattenSettings(
            withImage({ loginButtonText: "Log in with AD" }).settings?.mattermost.settings ?? {},
        );
        expect(gitlab.MM_GITLABSETTINGS_BUTTONTEXT).toBe("Log in with AD");
        expect(
            withImage({ mattermostSettings: JSON.stringify(['GitLabSettings.ButtonText="AD"']) }).errors,
        ).toContainEqual(expect.stringContaining("set mattermost:loginButtonText instead"));
    });
});
