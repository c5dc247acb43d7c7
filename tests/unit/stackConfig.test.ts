/**
 * The program's own reading of the stack config, as `pulumi up` runs it: the CLI hands the SDK the
 * config and names the encrypted keys (here through the SDK's setAllConfig, as the language host does).
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../../config/stack";
import { productionImages } from "../helpers/stackFixtures";

const prodConfig = {
    ...Object.fromEntries(Object.entries(productionImages).map(([key, value]) => [`mattermost:${key}`, value])),
    "mattermost:hostname": "chat.example.com",
    "mattermost:databaseHost": "db.example.com",
    "mattermost:s3Endpoint": "s3.example.com",
    "mattermost:adUrls": '["ldaps://dc1.corp.example.com:636"]',
    "mattermost:adBindDn": "CN=svc-keycloak,DC=corp,DC=example,DC=com",
    "mattermost:adUsersDn": "OU=Staff,DC=corp,DC=example,DC=com",
    "mattermost:publicEndpointCidrs": '["10.40.255.10/32"]',
    "mattermost:databaseCidrs": '["10.50.0.0/24"]',
    "mattermost:s3Cidrs": '["10.51.0.0/24"]',
    "mattermost:adCidrs": '["10.52.0.10/32"]',
};
/** Every secret prod needs, encrypted as the CLI hands them over. */
const prodSecrets = {
    "mattermost:databasePassword": "hunter2",
    "mattermost:keycloakDatabasePassword": "kc-secret",
    "mattermost:adBindPassword": "bind-secret",
    "mattermost:mattermostAdminToken": "mm-bot-token",
};

function load(config: Record<string, string>, secretKeys: string[]) {
    pulumi.runtime.setAllConfig(config, secretKeys);
    return loadStackConfig();
}

describe("loadStackConfig", () => {
    it("refuses to run without a required secret, naming it and how to set it", () => {
        const { "mattermost:databasePassword": _omitted, ...otherSecrets } = prodSecrets;
        expect(() => load({ ...prodConfig, ...otherSecrets }, Object.keys(otherSecrets))).toThrow(
            "The stack configuration has 1 problem(s):\n  - mattermost:databasePassword: is required with databaseMode external and is not set. Set it with: pulumi config set --secret databasePassword",
        );
    });

    it("refuses a declared secret that the stack file holds in plain text", () => {
        expect(() =>
            load({ ...prodConfig, ...prodSecrets }, [
                "mattermost:keycloakDatabasePassword",
                "mattermost:adBindPassword",
            ]),
        ).toThrow(
            "mattermost:databasePassword: is stored in plain text in the stack file. Remove it and set it with: pulumi config set --secret databasePassword.",
        );
    });

    it("prints the configuration's warnings", () => {
        const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
        try {
            load({ ...prodConfig, ...prodSecrets }, Object.keys(prodSecrets));
            expect(warn.mock.calls.map(([text]) => String(text))).toEqual([
                expect.stringContaining(
                    "mattermost:mattermostEdition: the Enterprise image without a license runs as Mattermost Entry",
                ),
                expect.stringContaining("name hosts under example.com, a domain reserved for examples"),
            ]);
        } finally {
            warn.mockRestore();
        }
    });

    it("hands the secret on as a Pulumi secret, in a frozen config", async () => {
        jest.spyOn(console, "warn").mockImplementation(() => undefined);
        const config = load({ ...prodConfig, ...prodSecrets }, Object.keys(prodSecrets));
        expect(Object.isFrozen(config)).toBe(true);
        expect(Object.isFrozen(config.mattermost.settings)).toBe(true);
        if (config.database.mode !== "external") {
            throw new Error("prod config should use the external database");
        }
        expect(await pulumi.isSecret(config.database.password)).toBe(true);
    });

    it("hands the S3 keys on as Pulumi secrets, and none when the pods use IAM", async () => {
        jest.spyOn(console, "warn").mockImplementation(() => undefined);
        const secrets = {
            ...prodSecrets,
            "mattermost:s3AccessKeyId": "AK",
            "mattermost:s3SecretAccessKey": "SK",
        };
        const config = load({ ...prodConfig, ...secrets }, Object.keys(secrets));
        if (config.fileStorage.mode !== "external" || !config.fileStorage.credentials) {
            throw new Error("prod config should carry S3 keys");
        }
        expect(await pulumi.isSecret(config.fileStorage.credentials.accessKeyId)).toBe(true);
        expect(await pulumi.isSecret(config.fileStorage.credentials.secretAccessKey)).toBe(true);
        const iam = load({ ...prodConfig, ...prodSecrets }, Object.keys(prodSecrets));
        expect(iam.fileStorage).toEqual(expect.not.objectContaining({ credentials: expect.anything() }));
    });

    it("reports keys this program does not know", () => {
        expect(() => load({ ...prodConfig, "mattermost:replica": "2" }, [])).toThrow(
            "mattermost:replica: is not a setting of this program.",
        );
    });
});
