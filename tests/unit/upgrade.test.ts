import { parseVersion, type Version } from "../../config/images";
import { esrSteps, upgradeProblem } from "../../config/upgrade";
import { validateStackConfig } from "../../config/validate";
import { renderBothStacks } from "../helpers/render";
import { releaseCheck } from "../../components/mattermostRelease";
import { testStackConfig } from "../helpers/stackFixtures";

const version = (text: string): Version => parseVersion(text)!;
const problem = (from: string, to: string) => upgradeProblem(version(from), version(to), "mattermost:mattermostImage");

describe("the upgrade path", () => {
    it("lets a release go to any later one up to the next ESR after its own line", () => {
        expect(problem("10.11.10", "10.11.12")).toBeUndefined();
        expect(problem("10.11.10", "11.6.1")).toBeUndefined();
        expect(problem("10.11.10", "11.7.0")).toBeUndefined();
        expect(problem("11.4.2", "11.6.1")).toBeUndefined();
        // The ESR itself is the last one before 11.8.
        expect(problem("11.7.3", "11.8.0")).toBeUndefined();
        // A patch back within a line migrates nothing.
        expect(problem("11.6.2", "11.6.1")).toBeUndefined();
    });

    it("refuses a jump over an ESR and gives the steps", () => {
        expect(problem("10.5.3", "11.6.1")).toBe(
            "mattermost:mattermostImage: 10.5.3 to 11.6.1 skips the 10.11 Extended Support Release. Mattermost keeps a release's schema compatible only with the ESR before it, and during the upgrade the primary still serves 10.5.3 on the migrated database. Upgrade in steps, one pulumi up each: 10.11.x, then 11.6.1 (the latest patch of each ESR line).",
        );
        expect(problem("11.6.1", "11.8.0")).toContain("skips the 11.7 Extended Support Release");
        expect(problem("9.5.0", "11.6.1")).toContain(
            "skips the 9.11, 10.5 and 10.11 Extended Support Releases. Mattermost keeps a release's schema compatible only with the ESR before it, and during the upgrade the primary still serves 9.5.0 on the migrated database. Upgrade in steps, one pulumi up each: 9.11.x, then 10.5.x, then 10.11.x, then 11.6.1",
        );
        // A feature release between two ESRs is not an ESR: 10.6 to 11.6 still needs 10.11.
        expect(esrSteps(version("10.6.0"), version("11.6.1")).map((esr) => `${esr.major}.${esr.minor}`)).toEqual([
            "10.11",
        ]);
    });

    it("refuses a downgrade of a release line, with the way back through the backup", () => {
        expect(problem("11.6.1", "10.11.10")).toBe(
            "mattermost:mattermostImage: 11.6.1 to 10.11.10 is a downgrade, and Mattermost never migrates a database back: a 10.11 server on the 11.6 schema is not supported. To go back, restore the database backup taken before the upgrade to 11.6, then set mattermostUpgradeFrom to the release of that backup (pulumi config set mattermostUpgradeFrom 10.11.10) and run pulumi up.",
        );
    });
});

describe("mattermostUpgradeFrom", () => {
    it("must be a version", () => {
        expect(validateStackConfig({ ...testStackConfig, mattermostUpgradeFrom: "latest" }).errors).toEqual([
            'mattermost:mattermostUpgradeFrom: "latest" is not a version. Use the Mattermost release the database holds, e.g. 10.11.10.',
        ]);
    });

    it("warns at every preview while it is set, and says how to remove it", () => {
        const outcome = validateStackConfig({ ...testStackConfig, mattermostUpgradeFrom: "10.5.3" });
        expect(outcome.errors).toEqual([]);
        expect(outcome.warnings).toContain(
            "mattermost:mattermostUpgradeFrom: is set (10.5.3), so the upgrade check starts from it instead of the release this stack last deployed. Remove it once this pulumi up has passed: pulumi config rm mattermostUpgradeFrom",
        );
        expect(outcome.settings?.mattermost.upgradeFrom).toBe("10.5.3");
        expect(validateStackConfig(testStackConfig).warnings.join("\n")).not.toContain("mattermostUpgradeFrom");
    });
});

describe("the release record in the stack's state", () => {
    const news = { version: "11.8.0", versionKey: "mattermost:mattermostImage" };

    it("checks the move from the release of the last pulumi up to the new one", () => {
        expect(releaseCheck({ version: "11.6.1" }, news)).toContain(
            "11.6.1 to 11.8.0 skips the 11.7 Extended Support Release",
        );
        expect(releaseCheck({ version: "11.7.3" }, news)).toBeUndefined();
    });

    it("has nothing to check on a first deployment", () => {
        expect(releaseCheck({}, news)).toBeUndefined();
    });

    it("starts from mattermostUpgradeFrom when it is set", () => {
        expect(releaseCheck({ version: "11.7.3" }, { ...news, upgradeFrom: "10.11.10" })).toContain(
            "10.11.10 to 11.8.0 skips the 11.7 Extended Support Release",
        );
        expect(releaseCheck({ version: "10.11.10" }, { ...news, upgradeFrom: "11.7.0" })).toBeUndefined();
    });

    const stacks = renderBothStacks();
    it.each(["test", "prod"] as const)(
        "%s: holds the Kubernetes provider, and so every object, until the check passed",
        (stack) => {
            const resources = stacks[stack].resources;
            const release = resources.find((r) => r.type === "pulumi-nodejs:dynamic/mattermost:MattermostRelease");
            expect(release?.inputs).toMatchObject({
                version: stacks[stack].outputs.mattermostVersion,
                versionKey: "mattermost:mattermostImage",
            });
            const provider = resources.find((r) => r.type === "pulumi:providers:kubernetes");
            expect(provider?.dependencies).toEqual([expect.stringMatching(/MattermostRelease::mattermost-release$/)]);
        },
    );
});
