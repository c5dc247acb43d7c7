import { validateStackConfig, type RawConfig } from "../../config/validate";
import { productionImages, testStackConfig } from "../helpers/stackFixtures";

const valid = testStackConfig;

const production: RawConfig = {
    ...productionImages,
    hostname: "chat.example.com",
    databaseHost: "db.example.com",
    databasePassword: "s3cret:@/?#% value",
    s3Endpoint: "s3.example.com",
    keycloakDatabasePassword: "kc-secret",
    adUrls: '["ldaps://dc1.corp.example.com:636"]',
    adBindDn: "CN=svc-keycloak,DC=corp,DC=example,DC=com",
    adUsersDn: "OU=Staff,DC=corp,DC=example,DC=com",
    adBindPassword: "bind-secret",
    publicEndpointCidrs: '["10.40.255.10/32"]',
    databaseCidrs: '["10.50.0.0/24"]',
    s3Cidrs: '["10.51.0.0/24"]',
    adCidrs: '["10.52.0.10/32"]',
    mattermostAdminToken: "mm-bot-token",
};

/** The keys the stack file stores encrypted. */
const encrypted = new Set(["databasePassword", "keycloakDatabasePassword", "adBindPassword", "mattermostAdminToken"]);

function errorsOf(raw: RawConfig): readonly string[] {
    return validateStackConfig(raw, encrypted).errors;
}

describe("validateStackConfig", () => {
    it("takes an empty map of secret settings written in plain text, and refuses one that holds a value", () => {
        expect(validateStackConfig({ ...valid, mattermostSecretSettings: "{}" }).errors).toEqual([]);
        expect(
            validateStackConfig({ ...valid, mattermostSecretSettings: '{"EmailSettings.SMTPPassword":"x"}' }).errors,
        ).toEqual([expect.stringContaining("mattermost:mattermostSecretSettings: is stored in plain text")]);
    });

    it("accepts the valid base case with its defaults", () => {
        const result = validateStackConfig(valid);
        expect(result.errors).toEqual([]);
        expect(result.settings?.platform).toBe("kubernetes");
        expect(result.settings?.siteUrl).toBe("https://chat.test.example.com");
        expect(result.settings?.mattermost.version).toBe("10.11.10");
        expect(result.settings?.nginx.maxBodyBytes).toBe(104857600);
        expect(result.settings?.nginx.dnsResolver).toBe("kube-dns.kube-system.svc.cluster.local");
        expect(result.settings?.mattermost.settings.ServiceSettings?.SiteURL).toBe("https://chat.test.example.com");
    });

    it.each<[string, RawConfig, string]>([
        [
            "platform",
            { platform: "gke" },
            'mattermost:platform: "gke" is not allowed. Use "kubernetes" or "openshift".',
        ],
        [
            "hostname with a scheme",
            { hostname: "https://chat.example.com" },
            'mattermost:hostname: "https://chat.example.com" is not a fully qualified host name. Use the public DNS name users type, lower-case, without scheme or path, at most 253 characters, e.g. chat.example.com.',
        ],
        [
            "image without tag",
            { mattermostImage: "mattermost/mattermost-team-edition" },
            'mattermost:mattermostImage: "mattermost/mattermost-team-edition" has no tag, so it means `latest`. Give a release tag, and in production its digest too, e.g. "repository:1.2.3" or "repository:1.2.3@sha256:<digest>".',
        ],
        [
            "image on latest",
            { nginxImage: "nginxinc/nginx-unprivileged:latest" },
            'mattermost:nginxImage: "nginxinc/nginx-unprivileged:latest" has the moving tag "latest". Give a release tag, and in production its digest too, e.g. "repository:1.2.3" or "repository:1.2.3@sha256:<digest>".',
        ],
        [
            "boolean",
            { production: "yes" },
            'mattermost:production: "yes" must be true or false. Set it with: pulumi config set production true.',
        ],
        ["integer", { nginxReplicas: "0" }, 'mattermost:nginxReplicas: "0" must be a whole number from 1 to 10.'],
        [
            "unknown key",
            { replicas: "3" },
            "mattermost:replicas: is not a setting of this program. Remove it, or see the configuration reference in the README for the keys there are.",
        ],
        [
            "Team Edition 11 with gitlab",
            { mattermostImage: "mattermost/mattermost-team-edition:11.6.1" },
            'mattermost:ssoMode: is "gitlab", but Team Edition 11.6.1 has no GitLab SSO (it left Team Edition in v11.0). Either pin Team Edition 10.11 ESR (mattermostImage mattermost/mattermost-team-edition:10.11.x, past end of support since 2026-08-15), or move to the Enterprise image (mattermostEdition enterprise) with ssoMode "openid" (free Entry) or with a license (mattermostLicensed true) to keep "gitlab".',
        ],
        [
            "Team Edition with openid",
            { ssoMode: "openid" },
            'mattermost:ssoMode: is "openid", but Team Edition has no OpenID Connect login. Use the Enterprise image (mattermostImage mattermost/mattermost-enterprise-edition:<version>, mattermostEdition enterprise), or ssoMode "gitlab" with Team Edition 10.11.',
        ],
        [
            "edition that contradicts the image",
            { mattermostEdition: "enterprise", ssoMode: "openid" },
            'mattermost:mattermostEdition: is "enterprise" but mattermostImage is the team edition image (mattermost/mattermost-team-edition). Set mattermostEdition to "team", or use the matching image.',
        ],
        [
            "digest-only image without a version",
            { mattermostImage: `mattermost/mattermost-team-edition@sha256:${"a".repeat(64)}` },
            "mattermost:mattermostVersion: is empty and the image tag is not a version, so the edition rules cannot be checked. Set it to the release the image contains, e.g. pulumi config set mattermostVersion 11.6.1.",
        ],
        [
            "a removed setting",
            { mattermostSettings: '["ServiceSettings.EnableOnlyAdminIntegrations=true"]' },
            "mattermost:mattermostSettings: ServiceSettings.EnableOnlyAdminIntegrations is no longer read by Mattermost: Mattermost 4.9 moved it to role permissions (manage_incoming_webhooks, manage_outgoing_webhooks, manage_slash_commands, manage_oauth); remove it and grant those permissions in System Console > User Management > Permissions.",
        ],
        [
            "a secret setting in plain text",
            { mattermostSettings: '["EmailSettings.SMTPPassword=hunter2"]' },
            "mattermost:mattermostSettings: EmailSettings.SMTPPassword is a secret and would land in a ConfigMap in plain text. Remove it from mattermostSettings and set it encrypted in mattermostSecretSettings instead, which goes into a Secret: pulumi config set --secret --path 'mattermostSecretSettings[\"EmailSettings.SMTPPassword\"]' <value>.",
        ],
        [
            "a derived setting",
            { mattermostSettings: '["ServiceSettings.SiteURL=\\"https://other.example.com\\""]' },
            "mattermost:mattermostSettings: ServiceSettings.SiteURL cannot be overridden: it is https://<hostname>; set mattermost:hostname instead.",
        ],
        [
            "a malformed override",
            { mattermostSettings: '["SiteName=Chat"]' },
            'mattermost:mattermostSettings: entry "SiteName=Chat" is not of the form Section.Key=value (e.g. TeamSettings.SiteName="Chat").',
        ],
        [
            "id_loaded without a license",
            { pushNotificationContents: "id_loaded" },
            'mattermost:pushNotificationContents: "id_loaded" needs a licensed Enterprise edition. Use "full", "generic" or "generic_no_channel", or install a license and set mattermostLicensed true.',
        ],
        [
            "PushNotificationServer in the overrides",
            { mattermostSettings: '["EmailSettings.PushNotificationServer=\\"https://push.example.com\\""]' },
            "mattermost:mattermostSettings: EmailSettings.PushNotificationServer cannot be overridden: it is the push VM's front, https://<pushHost>/<secret prefix>, kept in a Secret.",
        ],
    ])("refuses %s with a message naming key and fix", (_case, change, message) => {
        expect(errorsOf({ ...valid, ...change })).toEqual([message]);
    });

    it("refuses in production every image it runs by a tag alone, naming each, and no image it does not run", () => {
        const tagged = { nginxImage: "nginxinc/nginx-unprivileged:1.28.0", s3Image: "chrislusf/seaweedfs:4.53" };
        expect(errorsOf({ ...production, ...tagged })).toEqual([
            'mattermost:nginxImage: is "nginxinc/nginx-unprivileged:1.28.0", a tag without its digest, and a registry can move a tag to other contents: a production stack runs images by digest. Give "nginxinc/nginx-unprivileged:1.28.0@sha256:<digest>", the digest the registry gives for that tag (e.g. docker buildx imagetools inspect nginxinc/nginx-unprivileged:1.28.0), or set acceptTagOnlyImages true until you have it.',
        ]);
        // The in-cluster store's image counts once the stack runs it (which production refuses for itself).
        expect(errorsOf({ ...production, ...tagged, s3Mode: "inCluster" }).map((error) => error.split(":")[1])).toEqual(
            ["nginxImage", "s3Image", "s3Mode"],
        );
    });

    it("accepts tag-only images in production when told to, and says so at every preview", () => {
        const result = validateStackConfig(
            { ...production, nodeImage: "node:22.23.5-alpine", acceptTagOnlyImages: "true" },
            encrypted,
        );
        expect(result.errors).toEqual([]);
        expect(result.warnings.filter((warning) => warning.startsWith("mattermost:acceptTagOnlyImages"))).toEqual([
            'mattermost:acceptTagOnlyImages: is true, so this production stack runs images by a tag alone, which their registry can move: nodeImage node:22.23.5-alpine. Add each one\'s digest ("repository:tag@sha256:<digest>"), then: pulumi config rm acceptTagOnlyImages.',
        ]);
    });

    it("takes release tags alone in a test stack, without a word", () => {
        const result = validateStackConfig(valid);
        expect(result.errors).toEqual([]);
        expect(result.warnings.filter((warning) => /digest|acceptTagOnlyImages/.test(warning))).toEqual([]);
    });

    it("refuses EnableInsecureOutgoingConnections in production, and in a test stack that has a private CA", () => {
        const insecure = { mattermostSettings: '["ServiceSettings.EnableInsecureOutgoingConnections=true"]' };
        expect(errorsOf({ ...production, ...insecure })).toEqual([
            "mattermost:mattermostSettings: ServiceSettings.EnableInsecureOutgoingConnections=true turns off TLS verification for every outgoing call (S3, push proxy, Keycloak, webhooks) and is refused in a production stack. Trust the private CA instead, or mark the stack production false if it really is a test stack.",
        ]);
        expect(errorsOf({ ...valid, ...insecure })).toEqual([
            "mattermost:mattermostSettings: ServiceSettings.EnableInsecureOutgoingConnections=true while a private CA is configured: the CA is in the trust bundle of every pod, so verification works and must stay on. Remove the override.",
        ]);
        expect(
            errorsOf({
                ...valid,
                ...insecure,
                s3Mode: "external",
                s3Endpoint: "s3.test.example.com",
                s3Cidrs: '["10.51.0.0/24"]',
            }),
        ).toEqual([]);
    });

    it.each<[string, RawConfig, string]>([
        [
            "an endpoint with a scheme",
            { s3Endpoint: "https://s3.example.com" },
            'mattermost:s3Endpoint: "https://s3.example.com" has a scheme. Give host[:port] only, e.g. s3.example.com:9000; TLS is s3Ssl.',
        ],
        [
            "no endpoint",
            { s3Endpoint: "" },
            "mattermost:s3Endpoint: is required with s3Mode external. Set it to the S3 service's host[:port]: pulumi config set s3Endpoint <host>.",
        ],
        [
            "S3 without TLS",
            { s3Ssl: "false" },
            "mattermost:s3Ssl: is false in a production stack: files and keys would cross the network in clear text. Set it true and trust the service's CA with companyCaCertificates.",
        ],
        [
            "an in-cluster store",
            { s3Mode: "inCluster" },
            "mattermost:s3Mode: is inCluster in a production stack: its files live on an emptyDir and are lost whenever the pod restarts. Use the company S3 service (s3Mode external with s3Endpoint).",
        ],
        [
            "a file setting the s3 keys own",
            { mattermostSettings: '["FileSettings.DriverName=local"]' },
            "mattermost:mattermostSettings: FileSettings.DriverName cannot be overridden: files are always on S3 (the s3* keys), which both pods share.",
        ],
        [
            "a bad bucket name",
            { s3Bucket: "Chat_Files" },
            "mattermost:s3Bucket: \"Chat_Files\" is not a valid bucket name. Use 3 to 63 lower-case letters, digits, '.' and '-'.",
        ],
    ])("refuses, for file storage in production, %s", (_case, change, message) => {
        expect(errorsOf({ ...production, ...change })).toEqual([message]);
    });

    it("wires the external S3 service into FileSettings, and asks for the second key when only one is set", () => {
        const result = validateStackConfig(
            { ...production, s3PathPrefix: "chat/", s3AccessKeyId: "AKIA" },
            new Set([...encrypted, "s3AccessKeyId"]),
        );
        expect(result.missingSecrets.map((missing) => missing.message)).toEqual([
            "mattermost:s3SecretAccessKey: is required once the other S3 key is set (or leave both empty to use the pod's IAM identity). Set it with: pulumi config set --secret s3SecretAccessKey",
        ]);
        const withoutKeys = validateStackConfig({ ...production, s3PathPrefix: "chat/" }, encrypted);
        expect(withoutKeys.settings?.fileStorage).toEqual({
            mode: "external",
            endpoint: "s3.example.com",
            bucket: "mattermost",
            pathPrefix: "chat/",
            region: "",
            ssl: true,
            hasCredentials: false,
        });
        expect(withoutKeys.settings?.mattermost.settings.FileSettings).toMatchObject({
            DriverName: "amazons3",
            AmazonS3Bucket: "mattermost",
            AmazonS3Endpoint: "s3.example.com",
            AmazonS3SSL: true,
            AmazonS3PathPrefix: "chat/",
            AmazonS3Region: "",
            AmazonS3SignV2: false,
        });
    });

    it.each<[string, RawConfig, string]>([
        [
            "an in-cluster Keycloak database",
            { keycloakDatabaseMode: "inCluster" },
            "mattermost:keycloakDatabaseMode: is inCluster in a production stack: Keycloak's data (realm, users, sessions) lives on an emptyDir and is lost whenever the pod restarts. Use the company PostgreSQL (keycloakDatabaseMode external).",
        ],
        [
            "plain LDAP",
            { adUrls: '["ldap://dc1.corp.example.com"]' },
            "mattermost:adUrls: has an ldap:// URL in a production stack: AD passwords would cross the network in clear text. Use ldaps:// (port 636) and trust the domain's CA with companyCaCertificates.",
        ],
        [
            "test users",
            { testUsers: '["alice:1001:alice@example.com:Alice"]' },
            "mattermost:testUsers: is set in a production stack: local accounts would bypass Active Directory. Remove them and use adUrls.",
        ],
        [
            "no AD at all",
            { adUrls: "[]" },
            "mattermost:adUrls: is empty in a production stack, so nobody could log in. Set the domain controllers: pulumi config set --path 'adUrls[0]' ldaps://dc1.corp.example.com:636.",
        ],
        [
            "an AD filter without parentheses",
            { adUserFilter: "memberOf=CN=Chat-Users" },
            'mattermost:adUserFilter: "memberOf=CN=Chat-Users" is not wrapped in parentheses, so it is not an LDAP filter. Give e.g. (memberOf=CN=Chat-Users,OU=Groups,DC=corp,DC=example,DC=com).',
        ],
    ])("refuses, for identity in production, %s", (_case, change, message) => {
        expect(errorsOf({ ...production, ...change })).toEqual([message]);
    });

    it.each<[string, string]>([
        [
            "alice:0123:alice@example.com:Alice",
            'mattermost:testUsers: entry "alice:0123:alice@example.com:Alice" is not username:id:email:Full Name with a positive numeric id, e.g. alice:1001:alice@example.com:Alice Example.',
        ],
        [
            "alice:12a:alice@example.com:Alice",
            'mattermost:testUsers: entry "alice:12a:alice@example.com:Alice" is not username:id:email:Full Name with a positive numeric id, e.g. alice:1001:alice@example.com:Alice Example.',
        ],
    ])("refuses the test user %s", (entry, message) => {
        expect(errorsOf({ ...valid, testUsers: JSON.stringify([entry]) })).toEqual([message]);
    });

    it("refuses two test users with one id: Mattermost would hand one the other's account", () => {
        expect(
            errorsOf({
                ...valid,
                testUsers: JSON.stringify(["alice:1001:alice@example.com:Alice", "bob:1001:bob@example.com:Bob"]),
            }),
        ).toEqual([
            'mattermost:testUsers: entry "bob:1001:bob@example.com:Bob" repeats a username, id or email of another entry; each must be unique, as Mattermost links accounts by the id.',
        ]);
    });

    it("refuses an in-cluster database in production", () => {
        expect(errorsOf({ ...production, databaseMode: "inCluster" })).toEqual([
            "mattermost:databaseMode: is inCluster in a production stack: its data lives on an emptyDir and is lost whenever the pod restarts. Use the company PostgreSQL (databaseMode external with databaseHost and databasePassword).",
        ]);
    });

    it("reports a missing secret separately, without failing the other checks", () => {
        const { databasePassword: _omitted, ...withoutPassword } = production;
        const result = validateStackConfig(withoutPassword, encrypted);
        expect(result.errors).toEqual([]);
        expect(result.missingSecrets).toEqual([
            {
                key: "databasePassword",
                message:
                    "mattermost:databasePassword: is required with databaseMode external and is not set. Set it with: pulumi config set --secret databasePassword",
            },
        ]);
    });

    it("reports every problem at once, not only the first", () => {
        const errors = errorsOf({
            ...valid,
            platform: "gke",
            hostname: "localhost",
            nginxReplicas: "many",
            mattermostImage: "mattermost/mattermost-team-edition:11.0.0",
        });
        expect(errors.map((error) => error.split(":")[1])).toEqual([
            "platform",
            "hostname",
            "nginxReplicas",
            "ssoMode",
            // 11.0 is no release line this program has the settings of.
            "mattermostImage",
        ]);
    });

    it("refuses a secret stored in plain text", () => {
        expect(
            validateStackConfig(
                production,
                new Set(["keycloakDatabasePassword", "adBindPassword", "mattermostAdminToken"]),
            ).errors,
        ).toEqual([
            "mattermost:databasePassword: is stored in plain text in the stack file. Remove it and set it with: pulumi config set --secret databasePassword.",
        ]);
    });

    it("requires the hostname, which has no default", () => {
        const { hostname: _omitted, ...withoutHostname } = valid;
        expect(errorsOf(withoutHostname)[0]).toMatch(
            /^mattermost:hostname: is required\. Public host name of the chat/,
        );
    });

    it("warns that Team Edition 10.11 with GitLab is past end of support", () => {
        expect(
            validateStackConfig({ ...valid, mattermostAdminToken: "token" }, new Set(["mattermostAdminToken"]))
                .warnings,
        ).toEqual([
            'mattermost:mattermostImage: Mattermost 10.11.10 with GitLab SSO is the 10.11 ESR line, past end of support since 2026-08-15: no more security fixes. Plan the move to the Enterprise image with ssoMode "openid" (README, "Which Mattermost, which login").',
        ]);
    });

    it("warns that the deprovisioning job waits, suspended, for its Mattermost token", () => {
        const { mattermostAdminToken: _unset, ...withoutToken } = production;
        expect(validateStackConfig(withoutToken, encrypted).warnings).toContainEqual(
            "mattermost:mattermostAdminToken: is not set, so the deprovisioning job is created suspended: people disabled in AD keep their Mattermost sessions. Once Mattermost runs, make the token with the commands of the stack output adminTokenCommands (README, section The admin token) and set it: pulumi config set --secret mattermostAdminToken",
        );
        expect(
            validateStackConfig({ ...production, deprovisionSchedule: "" }, encrypted).settings?.deprovision,
        ).toBeUndefined();
    });

    it("prints the Entry limits for an unlicensed Enterprise image, and not for a licensed one", () => {
        // The fixture's example.com names are flagged too (tests/unit/examples.test.ts); not the point here.
        const warnings = (raw: RawConfig) =>
            validateStackConfig(raw, encrypted).warnings.filter((warning) => !warning.includes("example.com"));
        expect(warnings(production)).toHaveLength(1);
        expect(warnings(production)[0]).toContain("runs as Mattermost Entry");
        expect(warnings({ ...production, mattermostLicensed: "true" })).toEqual([]);
    });

    it("keeps GitLab on a licensed Enterprise 11 image", () => {
        const result = validateStackConfig({ ...production, ssoMode: "gitlab", mattermostLicensed: "true" }, encrypted);
        expect(result.errors).toEqual([]);
    });

    it("refuses GitLab on an unlicensed Enterprise 11 image", () => {
        expect(errorsOf({ ...production, ssoMode: "gitlab" })).toEqual([
            'mattermost:ssoMode: is "gitlab", but GitLab SSO needs a Professional or Enterprise license from v11 (11.6.1 unlicensed runs as Entry). Set ssoMode to "openid", or install a license and set mattermostLicensed true.',
        ]);
    });
});
