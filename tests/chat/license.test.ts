/**
 * The license of a licensed stack (mattermostLicense), as the real server reads it: the test stack turned
 * into a licensed Enterprise one, its license encrypted in the stack file, rendered; Mattermost started
 * from that render reads the license from the variable the pair's Secret gives it and checks it. No
 * license Mattermost signed can be had here, and the server run is Team Edition (the Enterprise code is
 * not public), so the test shows the server took the rendered license up and refused a made-up one;
 * that a real license unlocks the Enterprise features cannot be shown here.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { waitFor } from "../helpers/nginxHarness";
import { renderVariant, type Rendered } from "../helpers/render";
import { StackSecrets } from "../identity/fixture";
import { startChat, type Chat } from "./fixture";

/** The test stack as a licensed Enterprise stack, its license encrypted as `pulumi config set --secret` writes it. */
function renderLicensed(): Rendered {
    return renderVariant("test", (config) => {
        Object.assign(config, {
            "mattermost:mattermostImage": "mattermost/mattermost-enterprise-edition:11.6.1",
            "mattermost:mattermostEdition": "enterprise",
            "mattermost:ssoMode": "openid",
            "mattermost:mattermostLicensed": true,
            "mattermost:mattermostLicense": { secure: "v1:x" },
        });
    });
}

describe("the license of a licensed stack", () => {
    let rendered: Rendered;
    let chat: Chat;

    beforeAll(async () => {
        rendered = renderLicensed();
        // The form of a license file (base64), signed by nobody.
        const madeUp = crypto.randomBytes(600).toString("base64");
        chat = await startChat(rendered, { secrets: new StackSecrets(rendered, { mattermostLicense: madeUp }) });
    });
    afterAll(async () => {
        await chat?.stop();
        if (rendered) {
            fs.rmSync(rendered.dir, { recursive: true, force: true });
        }
    });

    it("is read by Mattermost from the variable the pair's Secret gives it, and checked", async () => {
        const pairSecret = rendered.manifests.find(
            (m) =>
                m.kind === "Secret" && String((m.metadata as { name: string }).name).startsWith("mattermost-secrets"),
        ) as { stringData: Record<string, string> };
        expect(pairSecret.stringData.MM_LICENSE).toBe("<secret:mattermostLicense>");
        // LoadLicense (channels/app/platform/license.go): a license in MM_LICENSE overrides every other
        // source, and one that fails its signature check is logged as such.
        await waitFor(
            () => Promise.resolve(chat.primary.log().includes("Failed to read license set in environment.")),
            30000,
            "Mattermost to check the license of MM_LICENSE",
        );
    });
});
