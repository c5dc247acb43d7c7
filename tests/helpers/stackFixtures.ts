import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "yaml";
import { configKeys, projectName } from "../../config/keys";
import { imageKeys, type RawConfig } from "../../config/validate";
import { projectDir } from "./render";

/** A valid test-stack configuration, as Pulumi hands it over; tests change one thing at a time. */
export const testStackConfig: RawConfig = {
    production: "false",
    hostname: "chat.test.example.com",
    mattermostImage: "mattermost/mattermost-team-edition:10.11.10",
    mattermostEdition: "team",
    ssoMode: "gitlab",
    databaseMode: "inCluster",
    s3Mode: "inCluster",
    keycloakDatabaseMode: "inCluster",
    publicEndpointCidrs: '["10.60.255.10/32"]',
};

/**
 * Every image a production stack may run, each by its default tag and a digest, as production asks: the
 * digest has the form of one and is no real image's (nothing here pulls them).
 */
export const productionImages: RawConfig = Object.fromEntries(
    imageKeys.map((key) => [key, `${String(configKeys[key].default)}@sha256:${"d".repeat(64)}`]),
);

/**
 * A stack file's configuration as Pulumi hands it over, with every secret set (and encrypted) and the
 * push tarball's checksum pinned: what a complete stack looks like before `pulumi up`.
 */
export function completeStackConfig(stack: "test" | "prod"): { raw: Record<string, string>; secretKeys: Set<string> } {
    const document = yaml.parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    const prefix = `${projectName}:`;
    const raw: Record<string, string> = { pushProxyTarballSha256: "a".repeat(64) };
    for (const [key, value] of Object.entries(document.config)) {
        if (key.startsWith(prefix)) {
            raw[key.slice(prefix.length)] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    const secretKeys = new Set(
        Object.entries(configKeys)
            .filter(([, declaration]) => "secret" in declaration && declaration.secret)
            .map(([key]) => key),
    );
    // A license only where the stack says it is licensed (Team Edition takes none).
    if (raw.mattermostLicensed !== "true") {
        secretKeys.delete("mattermostLicense");
    }
    for (const key of secretKeys) {
        // A map of secrets holds them by name: the SMTP password, as an operator would set first.
        raw[key] =
            configKeys[key as keyof typeof configKeys].type === "map"
                ? JSON.stringify({ "EmailSettings.SMTPPassword": `secret value of ${key}` })
                : `secret value of ${key}`;
    }
    return { raw, secretKeys };
}
