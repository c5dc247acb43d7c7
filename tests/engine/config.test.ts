/**
 * The stack configuration through the real CLI: what the CLI itself accepts or refuses in the project's
 * typed `config:` block, and the program's own messages, as a user sees them, before any resource exists.
 * No cluster is needed: every case stops at the configuration.
 */
import { Workspace, workspace } from "./helpers/pulumiCli";

/** The resources `pulumi up` left in the state, besides the stack itself. */
function resourcesInState(ws: Workspace, stack: string): string[] {
    const exported = JSON.parse(ws.pulumiOk(["stack", "export", "--stack", stack]).stdout) as {
        deployment: { resources?: { type: string }[] };
    };
    return (exported.deployment.resources ?? []).map((r) => r.type).filter((type) => type !== "pulumi:pulumi:Stack");
}

describe.each(["test", "prod"])("the %s stack file through the real CLI", (stack) => {
    let ws: Workspace;
    beforeAll(() => {
        ws = workspace({ stacks: [stack] });
        ws.pulumiOk(["stack", "init", stack]);
    });
    afterAll(() => ws.cleanup());

    it("passes the CLI's own validation and stops at the program's list of missing secrets", () => {
        const preview = ws.pulumi(["preview", "--stack", stack]);
        expect(preview.status).not.toBe(0);
        // Pulumi >= 3.202 refuses a `secret: true` key with a default before the program starts.
        expect(preview.output).not.toMatch(/validating stack config|must be encrypted as it's secret/);
        expect(preview.output).toMatch(/The stack configuration has \d+ problem\(s\):/);
        expect(preview.output).toContain(
            "mattermost:pushSshPrivateKey: is required with pushHost and is not set. Set it with: pulumi config set --secret pushSshPrivateKey",
        );
        // A configuration problem is a message, not a crash of the program.
        expect(preview.output).not.toMatch(/unhandled exception|at loadStackConfig|\.ts:\d+:\d+/);
    });

    it("touches no resource when `pulumi up` is refused", () => {
        const up = ws.pulumi(["up", "--yes", "--stack", stack]);
        expect(up.status).not.toBe(0);
        expect(up.output).toContain("The stack configuration has");
        expect(resourcesInState(ws, stack)).toEqual([]);
    });
});

describe("secrets and keys through the real CLI", () => {
    let ws: Workspace;
    beforeAll(() => {
        ws = workspace({ stacks: ["test"] });
        ws.pulumiOk(["stack", "init", "test"]);
    });
    afterAll(() => ws.cleanup());

    interface Setting {
        readonly key: string;
        readonly value: string;
        readonly secret?: boolean;
    }

    /** The preview's output with the settings set, which are removed again afterwards. */
    function previewWith(settings: readonly Setting[]): string {
        for (const { key, value, secret } of settings) {
            ws.pulumiOk(["config", "set", ...(secret ? ["--secret"] : []), key, value, "--stack", "test"]);
        }
        const preview = ws.pulumi(["preview", "--stack", "test"]);
        for (const { key } of settings) {
            ws.pulumiOk(["config", "rm", key, "--stack", "test"]);
        }
        expect(preview.status).not.toBe(0);
        return preview.output;
    }

    it("refuses an optional secret written in plain text, naming the command that sets it", () => {
        const output = previewWith([{ key: "adBindPassword", value: "plain-text-password" }]);
        expect(output).toContain(
            "mattermost:adBindPassword: is stored in plain text in the stack file. Remove it and set it with: pulumi config set --secret adBindPassword.",
        );
        expect(output).not.toContain("plain-text-password");
    });

    it("takes the same secret set with --secret", () => {
        const output = previewWith([{ key: "adBindPassword", value: "a-secret-password", secret: true }]);
        expect(output).not.toContain("adBindPassword");
        expect(output).not.toContain("a-secret-password");
    });

    it("refuses a key the program does not have, such as a misspelt one", () => {
        const output = previewWith([{ key: "databasePasword", value: "x" }]);
        expect(output).toContain("mattermost:databasePasword: is not a setting of this program.");
    });

    it("refuses a required secret left unset in an external database", () => {
        const output = previewWith([
            { key: "databaseMode", value: "external" },
            { key: "databaseHost", value: "db.example.com" },
        ]);
        expect(output).toContain(
            "mattermost:databasePassword: is required with databaseMode external and is not set. Set it with: pulumi config set --secret databasePassword",
        );
    });
});
