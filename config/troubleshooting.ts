/**
 * The catalogue of wrong stack configurations (issue 7): what a user may get wrong, and the exact message
 * the program answers with, before any resource is touched. A test checks every entry against
 * validateStackConfig; the README's troubleshooting section is generated from it (npm run docs).
 *
 * Each entry changes one thing in a valid stack: `Pulumi.<base>.yaml` with every secret set (encrypted)
 * and the push tarball's checksum pinned. `undefined` removes a key.
 */

export interface BadInput {
    /** What the user did. */
    readonly problem: string;
    readonly base: "test" | "prod";
    readonly change: Readonly<Record<string, string | undefined>>;
    /** The one message the program answers with. */
    readonly message: string;
    /** The key is written in plain text instead of encrypted. */
    readonly plainText?: boolean;
    /** The key is written encrypted (`secure:`), whether it is a secret or not. */
    readonly encrypted?: boolean;
}

/** A well-formed mattermostPlugins entry (its checksums are examples). */
const examplePlugin = {
    id: "jitsi",
    version: "2.1.0",
    url: "https://plugins.releases.mattermost.com/release/mattermost-plugin-jitsi-v2.1.0-linux-amd64.tar.gz",
    sha256: "a".repeat(64),
    signatureSha256: "b".repeat(64),
};

/** The form of an image digest, for the entries that need one (not any real image's). */
const exampleDigest = "c".repeat(64);

export const badInputs: readonly BadInput[] = [
    {
        problem: "A production stack without the database password",
        base: "prod",
        change: { databasePassword: undefined },
        message:
            "mattermost:databasePassword: is required with databaseMode external and is not set. Set it with: pulumi config set --secret databasePassword",
    },
    {
        problem: "A secret written in plain text into the stack file",
        plainText: true,
        base: "prod",
        change: { databasePassword: "plain" },
        message:
            "mattermost:databasePassword: is stored in plain text in the stack file. Remove it and set it with: pulumi config set --secret databasePassword.",
    },
    {
        problem: "A key the program does not know (a typo)",
        base: "test",
        change: { hostName: "chat.example.com" },
        message:
            "mattermost:hostName: is not a setting of this program. Remove it, or see the configuration reference in the README for the keys there are.",
    },
    {
        problem: "No hostname",
        base: "test",
        change: { hostname: undefined },
        message:
            "mattermost:hostname: is required. Public host name of the chat, e.g. `chat.example.com`. SiteURL is `https://<hostname>`; Keycloak is served at `https://<hostname>/auth/`. Set it with: pulumi config set hostname <value>.",
    },
    {
        problem: "A hostname with a scheme",
        base: "test",
        change: { hostname: "https://chat.example.com" },
        message:
            'mattermost:hostname: "https://chat.example.com" is not a fully qualified host name. Use the public DNS name users type, lower-case, without scheme or path, at most 253 characters, e.g. chat.example.com.',
    },
    {
        problem: "A hostname in upper case",
        base: "test",
        change: { hostname: "Chat.Example.com" },
        message:
            'mattermost:hostname: "Chat.Example.com" is not a fully qualified host name. Use the public DNS name users type, lower-case, without scheme or path, at most 253 characters, e.g. chat.example.com.',
    },
    {
        problem: "A boolean that is not one",
        base: "test",
        change: { production: "yes" },
        message: 'mattermost:production: "yes" must be true or false. Set it with: pulumi config set production true.',
    },
    {
        problem: "A number out of range",
        base: "test",
        change: { nginxReplicas: "0" },
        message: 'mattermost:nginxReplicas: "0" must be a whole number from 1 to 10.',
    },
    {
        problem: "A word where a number belongs",
        base: "test",
        change: { databasePort: "postgres" },
        message: 'mattermost:databasePort: "postgres" must be a whole number from 1 to 65535.',
    },
    {
        problem: "A memory size that is not a Kubernetes quantity",
        base: "test",
        change: { mattermostMemoryLimit: "4GB" },
        message:
            'mattermost:mattermostMemoryLimit: "4GB" is not a Kubernetes quantity. Use e.g. 500m or 2 for CPU, 512Mi or 4Gi for memory.',
    },
    {
        problem: "An image without a tag",
        base: "test",
        change: { mattermostImage: "mattermost/mattermost-team-edition" },
        message:
            'mattermost:mattermostImage: "mattermost/mattermost-team-edition" has no tag, so it means `latest`. Give a release tag, and in production its digest too, e.g. "repository:1.2.3" or "repository:1.2.3@sha256:<digest>".',
    },
    {
        problem: "An image on latest",
        base: "test",
        change: { nginxImage: "nginxinc/nginx-unprivileged:latest" },
        message:
            'mattermost:nginxImage: "nginxinc/nginx-unprivileged:latest" has the moving tag "latest". Give a release tag, and in production its digest too, e.g. "repository:1.2.3" or "repository:1.2.3@sha256:<digest>".',
    },
    {
        problem: "A production image given by its tag alone",
        base: "prod",
        change: {
            acceptTagOnlyImages: undefined,
            mattermostImage: `mattermost/mattermost-enterprise-edition:11.6.1@sha256:${exampleDigest}`,
            nodeImage: `node:22.23.5-alpine@sha256:${exampleDigest}`,
            postgresImage: `postgres:16.9-alpine3.22@sha256:${exampleDigest}`,
            keycloakImage: `quay.io/keycloak/keycloak:26.5.5@sha256:${exampleDigest}`,
            filebeatImage: `docker.elastic.co/beats/filebeat:8.19.4@sha256:${exampleDigest}`,
        },
        message:
            'mattermost:nginxImage: is "nginxinc/nginx-unprivileged:1.28.0", a tag without its digest, and a registry can move a tag to other contents: a production stack runs images by digest. Give "nginxinc/nginx-unprivileged:1.28.0@sha256:<digest>", the digest the registry gives for that tag (e.g. docker buildx imagetools inspect nginxinc/nginx-unprivileged:1.28.0), or set acceptTagOnlyImages true until you have it.',
    },
    {
        problem: "Team Edition 11 with the GitLab login",
        base: "test",
        change: { mattermostImage: "mattermost/mattermost-team-edition:11.6.1" },
        message:
            'mattermost:ssoMode: is "gitlab", but Team Edition 11.6.1 has no GitLab SSO (it left Team Edition in v11.0). Either pin Team Edition 10.11 ESR (mattermostImage mattermost/mattermost-team-edition:10.11.x, past end of support since 2026-08-15), or move to the Enterprise image (mattermostEdition enterprise) with ssoMode "openid" (free Entry) or with a license (mattermostLicensed true) to keep "gitlab".',
    },
    {
        problem: "Team Edition with OpenID Connect",
        base: "test",
        change: { ssoMode: "openid" },
        message:
            'mattermost:ssoMode: is "openid", but Team Edition has no OpenID Connect login. Use the Enterprise image (mattermostImage mattermost/mattermost-enterprise-edition:<version>, mattermostEdition enterprise), or ssoMode "gitlab" with Team Edition 10.11.',
    },
    {
        problem: "Enterprise 11 with the GitLab login and no license",
        base: "prod",
        change: { ssoMode: "gitlab" },
        message:
            'mattermost:ssoMode: is "gitlab", but GitLab SSO needs a Professional or Enterprise license from v11 (11.6.1 unlicensed runs as Entry). Set ssoMode to "openid", or install a license and set mattermostLicensed true.',
    },
    {
        problem: "The edition not matching the image",
        base: "test",
        change: { mattermostEdition: "enterprise" },
        message:
            'mattermost:mattermostEdition: is "enterprise" but mattermostImage is the team edition image (mattermost/mattermost-team-edition). Set mattermostEdition to "team", or use the matching image.',
    },
    {
        problem: "id_loaded push contents without a license",
        base: "prod",
        change: { pushNotificationContents: "id_loaded" },
        message:
            'mattermost:pushNotificationContents: "id_loaded" needs a licensed Enterprise edition. Use "full", "generic" or "generic_no_channel", or install a license and set mattermostLicensed true.',
    },
    {
        problem: "A removed Mattermost setting",
        base: "test",
        change: { mattermostSettings: '["ServiceSettings.EnableOnlyAdminIntegrations=true"]' },
        message:
            "mattermost:mattermostSettings: ServiceSettings.EnableOnlyAdminIntegrations is no longer read by Mattermost: Mattermost 4.9 moved it to role permissions (manage_incoming_webhooks, manage_outgoing_webhooks, manage_slash_commands, manage_oauth); remove it and grant those permissions in System Console > User Management > Permissions.",
    },
    {
        problem: "A Mattermost setting the program derives",
        base: "test",
        change: { mattermostSettings: '["ServiceSettings.SiteURL=\\"https://other.example.com\\""]' },
        message:
            "mattermost:mattermostSettings: ServiceSettings.SiteURL cannot be overridden: it is https://<hostname>; set mattermost:hostname instead.",
    },
    {
        problem: "A secret Mattermost setting in the overrides",
        base: "test",
        change: { mattermostSettings: '["EmailSettings.SMTPPassword=\\"x\\""]' },
        message:
            "mattermost:mattermostSettings: EmailSettings.SMTPPassword is a secret and would land in a ConfigMap in plain text. Remove it from mattermostSettings and set it encrypted in mattermostSecretSettings instead, which goes into a Secret: pulumi config set --secret --path 'mattermostSecretSettings[\"EmailSettings.SMTPPassword\"]' <value>.",
    },
    {
        problem: "An edge annotation that changes one the chat needs",
        base: "test",
        change: { edgeAnnotations: '{"nginx.ingress.kubernetes.io/proxy-body-size":"1m"}' },
        message:
            'mattermost:edgeAnnotations: "nginx.ingress.kubernetes.io/proxy-body-size" is set by the program on the Ingress (to "0"), which the chat\'s websockets and uploads need. Remove it.',
    },
    {
        problem: "An edge annotation whose name Kubernetes refuses",
        base: "prod",
        change: { edgeAnnotations: '{"cert-manager.io/cluster issuer":"company-ca"}' },
        message:
            'mattermost:edgeAnnotations: "cert-manager.io/cluster issuer" is not an annotation name Kubernetes takes: an optional DNS prefix and /, then up to 63 letters, digits, -, _ or ., e.g. cert-manager.io/cluster-issuer.',
    },
    {
        problem: "An edge annotation that is not text",
        base: "test",
        change: { edgeAnnotations: '{"traefik.ingress.kubernetes.io/router.tls":true}' },
        message:
            'mattermost:edgeAnnotations: "traefik.ingress.kubernetes.io/router.tls" is true, not text. Quote it, as Kubernetes takes text only.',
    },
    {
        problem: "A licensed stack without its license",
        base: "prod",
        change: { mattermostLicensed: "true" },
        message:
            'mattermost:mattermostLicense: is required with mattermostLicensed true: Mattermost reads the license from it. Set it with: pulumi config set --secret mattermostLicense -- "$(cat company.mattermost-license)"',
    },
    {
        problem: "A license without the licensed flag",
        base: "prod",
        encrypted: true,
        change: { mattermostLicense: "license text" },
        message:
            "mattermost:mattermostLicense: is set, but mattermostLicensed is false, so the checks that depend on a license would judge the stack unlicensed. Set mattermostLicensed true.",
    },
    {
        problem: "A license for Team Edition",
        base: "test",
        encrypted: true,
        change: { mattermostLicense: "license text" },
        message:
            "mattermost:mattermostLicense: is set, but Team Edition has no licensed features to unlock (its code is the open source part alone). Use the Enterprise image (mattermostEdition enterprise), or remove the license.",
    },
    {
        problem: "A setting that is no secret among the secret settings",
        base: "test",
        change: { mattermostSecretSettings: '{"EmailSettings.SMTPUsername":"mailer"}' },
        message:
            'mattermost:mattermostSecretSettings: "EmailSettings.SMTPUsername" is no secret, and would be hidden from every review of the stack. Set it in mattermostSettings instead.',
    },
    {
        problem: "A secret the program makes itself among the secret settings",
        base: "test",
        change: { mattermostSecretSettings: '{"SqlSettings.AtRestEncryptKey":"x"}' },
        message:
            'mattermost:mattermostSecretSettings: "SqlSettings.AtRestEncryptKey" cannot be set: the program generates it and keeps it in a Secret.',
    },
    {
        problem: "A secret setting in other letter case",
        base: "test",
        change: { mattermostSecretSettings: '{"EmailSettings.SmtpPassword":"x"}' },
        message:
            'mattermost:mattermostSecretSettings: "EmailSettings.SmtpPassword" is spelt EmailSettings.SMTPPassword by Mattermost. Write it that way, so that every reader of the stack file sees the setting Mattermost will.',
    },
    {
        problem: "The secret settings as a list",
        base: "test",
        change: { mattermostSecretSettings: '["EmailSettings.SMTPPassword=x"]' },
        message:
            "mattermost:mattermostSecretSettings: is not a map of names to values. Set each entry on its own, encrypted, so that a review sees which are set: pulumi config set --secret --path 'mattermostSecretSettings[\"<name>\"]' <value>.",
    },
    {
        problem: "A secret setting without a value",
        base: "test",
        change: { mattermostSecretSettings: '{"EmailSettings.SMTPPassword":""}' },
        message:
            'mattermost:mattermostSecretSettings: "EmailSettings.SMTPPassword" has no text as its value. Give it one: pulumi config set --secret --path \'mattermostSecretSettings["EmailSettings.SMTPPassword"]\' <value>.',
    },
    {
        problem: "The secret settings in plain text",
        plainText: true,
        base: "test",
        change: { mattermostSecretSettings: '{"EmailSettings.SMTPPassword":"x"}' },
        message:
            "mattermost:mattermostSecretSettings: is stored in plain text in the stack file. Remove it and set each value encrypted: pulumi config set --secret --path 'mattermostSecretSettings[\"<Section.Key>\"]' <value>.",
    },
    {
        problem: "An SMTP server without its addresses, traffic denied by default",
        base: "prod",
        change: {
            mattermostSettings:
                '["EmailSettings.SMTPServer=\\"smtp.corp.example.com\\"","EmailSettings.SMTPPort=\\"587\\""]',
        },
        message:
            "mattermost:smtpCidrs: is empty, but with networkPolicies true (deny by default) Mattermost reaches its SMTP server only at the addresses listed here. Set them: pulumi config set --path 'smtpCidrs[0]' 10.55.0.25/32, or set networkPolicies false.",
    },
    {
        problem: "An SMTP port that is no port",
        base: "prod",
        change: {
            mattermostSettings:
                '["EmailSettings.SMTPServer=\\"smtp.corp.example.com\\"","EmailSettings.SMTPPort=\\"submission\\""]',
            smtpCidrs: '["10.55.0.25/32"]',
        },
        message:
            'mattermost:mattermostSettings: EmailSettings.SMTPPort is "submission", which is no port, so Mattermost could not reach smtp.corp.example.com. Give the port as text, e.g. EmailSettings.SMTPPort="587".',
    },
    {
        problem: "Insecure outgoing connections in production",
        base: "prod",
        change: { mattermostSettings: '["ServiceSettings.EnableInsecureOutgoingConnections=true"]' },
        message:
            "mattermost:mattermostSettings: ServiceSettings.EnableInsecureOutgoingConnections=true turns off TLS verification for every outgoing call (S3, push proxy, Keycloak, webhooks) and is refused in a production stack. Trust the private CA instead, or mark the stack production false if it really is a test stack.",
    },
    {
        problem: "A yes/no Mattermost setting written in quotes, which Mattermost still reads as true",
        base: "prod",
        change: { mattermostSettings: '["ServiceSettings.EnableInsecureOutgoingConnections=\\"true\\""]' },
        message:
            'mattermost:mattermostSettings: ServiceSettings.EnableInsecureOutgoingConnections takes true or false, without quotes, not "true".',
    },
    {
        problem: "A yes/no Mattermost setting written as 1",
        base: "prod",
        change: { mattermostSettings: '["ServiceSettings.EnableInsecureOutgoingConnections=1"]' },
        message:
            "mattermost:mattermostSettings: ServiceSettings.EnableInsecureOutgoingConnections takes true or false, without quotes, not 1.",
    },
    {
        problem: "A Mattermost setting in other letter case, which Mattermost matches all the same",
        base: "prod",
        change: { mattermostSettings: '["SERVICESETTINGS.ENABLEINSECUREOUTGOINGCONNECTIONS=true"]' },
        message:
            "mattermost:mattermostSettings: SERVICESETTINGS.ENABLEINSECUREOUTGOINGCONNECTIONS is spelt ServiceSettings.EnableInsecureOutgoingConnections by Mattermost. Write it that way, so that every check here and every reader of the stack file sees the setting Mattermost will.",
    },
    {
        problem: "A secret Mattermost setting in other letter case",
        base: "test",
        change: { mattermostSettings: '["EmailSettings.SMTPPASSWORD=\\"x\\""]' },
        message:
            "mattermost:mattermostSettings: EmailSettings.SMTPPASSWORD is a secret and would land in a ConfigMap in plain text. Remove it from mattermostSettings and set it encrypted in mattermostSecretSettings instead, which goes into a Secret: pulumi config set --secret --path 'mattermostSecretSettings[\"EmailSettings.SMTPPassword\"]' <value>.",
    },
    {
        problem: "A secret inside a Mattermost setting's value",
        base: "test",
        change: { mattermostSettings: '["MessageExportSettings.GlobalRelaySettings={\\"SMTPPassword\\":\\"x\\"}"]' },
        message:
            "mattermost:mattermostSettings: MessageExportSettings.GlobalRelaySettings holds secrets (MessageExportSettings.GlobalRelaySettings.SMTPPassword) and would land in a ConfigMap in plain text. Remove it from mattermostSettings: this program carries no secret of Mattermost's in a ConfigMap.",
    },
    {
        problem: "A misspelt Mattermost setting, which Mattermost would ignore",
        base: "test",
        change: { mattermostSettings: '["ServiceSettings.EnableDevelopper=true"]' },
        message:
            "mattermost:mattermostSettings: ServiceSettings.EnableDevelopper is not a setting of this Mattermost release (@mattermost/types 10.11.0), which would ignore it. Check the spelling and the release.",
    },
    {
        problem: "A Mattermost setting set to null",
        base: "test",
        change: { mattermostSettings: '["TeamSettings.SiteName=null"]' },
        message:
            "mattermost:mattermostSettings: TeamSettings.SiteName is null, which is no value. Remove the entry to keep the default.",
    },
    {
        problem: "A Mattermost value the server refuses at start",
        base: "test",
        change: { mattermostSettings: '["PasswordSettings.MinimumLength=4"]' },
        message:
            "mattermost:mattermostSettings: PasswordSettings.MinimumLength must be from 5 to 72 (PasswordMinimumLength, PasswordMaximumLength), not 4: Mattermost refuses to start with it.",
    },
    {
        problem: "A Mattermost setting that weakens a production stack",
        base: "prod",
        change: { mattermostSettings: '["ServiceSettings.EnableDeveloper=true"]' },
        message:
            'mattermost:mattermostSettings: ServiceSettings.EnableDeveloper=true shows every JavaScript error to every user and is meant for development, and is refused in a production stack. Remove it, or accept it deliberately by adding "ServiceSettings.EnableDeveloper" to mattermost:mattermostWeakerSettings.',
    },
    {
        problem: "A deprovisioning share that would let one run empty the chat",
        base: "test",
        change: { deprovisionMaxPercentPerRun: "100" },
        message: 'mattermost:deprovisionMaxPercentPerRun: "100" must be a whole number from 1 to 50.',
    },
    {
        problem: "A deprovisioning override that is not a number of people",
        base: "test",
        change: { deprovisionAcceptDirectorySize: "850 people" },
        message:
            'mattermost:deprovisionAcceptDirectorySize: "850 people" is not a number of people. Give the number the job\'s refusal named, e.g. 850, or leave it empty.',
    },
    {
        problem: "A hostname longer than DNS allows",
        base: "test",
        change: {
            hostname:
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com",
        },
        message:
            'mattermost:hostname: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com" is not a fully qualified host name. Use the public DNS name users type, lower-case, without scheme or path, at most 253 characters, e.g. chat.example.com.',
    },
    {
        problem: "A push host name longer than DNS allows",
        base: "prod",
        change: {
            pushHost:
                "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.example.com",
        },
        message:
            'mattermost:pushHost: "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp.example.com" is neither a host name nor an IPv4 address. Give e.g. push.example.com or 10.20.30.40.',
    },
    {
        problem: "A DNS resolver that is no address",
        base: "test",
        change: { dnsResolver: "10.96.0.300" },
        message:
            "mattermost:dnsResolver: \"10.96.0.300\" is neither a host name nor an IP address. Name the cluster's DNS Service, or leave it empty for the platform's default.",
    },
    {
        problem: "CIDRs that together admit every address",
        base: "test",
        change: { publicEndpointCidrs: '["0.0.0.0/1","128.0.0.0/1"]' },
        message:
            'mattermost:publicEndpointCidrs: "[\\"0.0.0.0/1\\",\\"128.0.0.0/1\\"]" together admit every IPv4 address. List only the networks that need it.',
    },
    {
        problem: "A CIDR of the cloud metadata service",
        base: "prod",
        change: { s3Cidrs: '["169.254.169.254/32"]' },
        message:
            "mattermost:s3Cidrs: \"169.254.169.254/32\" reaches link-local addresses, where a cloud's metadata service hands out the node's credentials. List only the networks that need it.",
    },
    {
        problem: "Overlapping CIDRs in one list",
        base: "prod",
        change: { databaseCidrs: '["10.50.0.0/24","10.50.0.0/25"]' },
        message:
            'mattermost:databaseCidrs: "10.50.0.0/24" and "10.50.0.0/25" overlap (nft would refuse them only on the push VM). Keep the wider one.',
    },
    {
        problem: "Push deployer CIDRs inside the allowed ones",
        base: "prod",
        change: { pushDeployerCidrs: '["10.40.0.0/25"]' },
        message:
            'mattermost:pushDeployerCidrs: "10.40.0.0/25" overlaps "10.40.0.0/24" of pushAllowedCidrs: under firewalld, traffic from a source of the push zone is judged by that zone, which admits only 443, so the deployer\'s SSH would be locked out. Keep the two apart.',
    },
    {
        problem: "A CPU request above its limit",
        base: "test",
        change: { mattermostCpuRequest: "4" },
        message:
            "mattermost:mattermostCpuRequest: is 4, above mattermost:mattermostCpuLimit 2, which Kubernetes refuses. Lower the request or raise the limit.",
    },
    {
        problem: "A memory request above its limit",
        base: "test",
        change: { keycloakMemoryRequest: "64Gi" },
        message:
            "mattermost:keycloakMemoryRequest: is 64Gi, above mattermost:keycloakMemoryLimit 2Gi, which Kubernetes refuses. Lower the request or raise the limit.",
    },
    {
        problem: "A cron schedule out of range",
        base: "test",
        change: { deprovisionSchedule: "*/5 25 * * *" },
        message:
            'mattermost:deprovisionSchedule: "*/5 25 * * *" has "25" as its hour, which must be from 0 to 23 (or *, a range a-b, a step /n). Give e.g. "*/5 * * * *", or leave it empty for no job.',
    },
    {
        problem: "An S3 endpoint with port 0",
        base: "prod",
        change: { s3Endpoint: "s3.example.com:0" },
        message:
            'mattermost:s3Endpoint: "s3.example.com:0" has the port "0", but a port is a whole number from 1 to 65535. Give host[:port], e.g. s3.example.com or s3.example.com:9000.',
    },
    {
        problem: "An AD URL with a port above 65535",
        base: "prod",
        change: { adUrls: '["ldaps://dc1.corp.example.com:70000"]' },
        message:
            'mattermost:adUrls: "[\\"ldaps://dc1.corp.example.com:70000\\"]" has an entry that is not an LDAP URL of a host and an optional port from 1 to 65535. Give e.g. ldaps://dc1.corp.example.com:636.',
    },
    {
        problem: "A webhook display name longer than Mattermost allows",
        base: "test",
        change: {
            incomingWebhooks:
                '["engineering/builds/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"]',
        },
        message:
            'mattermost:incomingWebhooks: "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" is longer than the 64 characters Mattermost allows a webhook\'s display name. Shorten it.',
    },
    {
        problem: "Two webhooks with the same display name",
        base: "test",
        change: { incomingWebhooks: '["engineering/builds/CI","engineering/deploys/CI"]' },
        message:
            'mattermost:incomingWebhooks: "CI" is the display name of two webhooks, but it is their key in the output incomingWebhookUrls. Give each its own.',
    },
    {
        problem: "Two webhooks that make one resource",
        base: "test",
        change: { incomingWebhooks: '["engineering/builds/Team City","engineering/builds/team-city"]' },
        message:
            'mattermost:incomingWebhooks: "team-city" and "Team City" in engineering/builds differ only in case or punctuation, which makes them one resource. Name them apart.',
    },
    {
        problem: "A realm placeholder in an AD value",
        base: "prod",
        change: { adUsersDn: "OU=$(env:KC_DB_PASSWORD),DC=corp,DC=example,DC=com" },
        message:
            "mattermost:adUsersDn: holds $( or ${, which mark the secrets the realm file refers to ($(env:NAME), filled in by the apply job) and Keycloak's vault references (${vault.key}). No value of AD or of the test users has them; remove them.",
    },
    {
        problem: "An LDAP filter with a parenthesis left open",
        base: "prod",
        change: { adUserFilter: "(&(objectClass=user)(memberOf=CN=Chat,DC=corp,DC=example,DC=com)" },
        message:
            'mattermost:adUserFilter: "(&(objectClass=user)(memberOf=CN=Chat,DC=corp,DC=example,DC=com)" leaves a parenthesis open, so it is not an LDAP filter. Give e.g. (memberOf=CN=Chat-Users,OU=Groups,DC=corp,DC=example,DC=com).',
    },
    {
        problem: "The cluster's own namespace",
        base: "test",
        change: { namespace: "kube-system" },
        message:
            "mattermost:namespace: \"kube-system\" is a namespace of the cluster itself, and its default-deny policy would cut off the cluster's own pods (DNS among them). Use a namespace of the chat's own, e.g. mattermost.",
    },
    {
        problem: "An OpenShift system namespace",
        base: "test",
        change: { namespace: "openshift-monitoring" },
        message:
            "mattermost:namespace: \"openshift-monitoring\" is a namespace of the cluster itself, and its default-deny policy would cut off the cluster's own pods (DNS among them). Use a namespace of the chat's own, e.g. mattermost.",
    },
    {
        problem: "A key left null in the stack file",
        base: "test",
        change: { loginButtonText: "null" },
        message:
            'mattermost:loginButtonText: is null (YAML\'s null, which Pulumi hands over as the text "null"). Remove the key to take its default, or quote a real value.',
    },
    {
        problem: "A key under a misspelt project prefix",
        base: "test",
        change: { "mattermsot:hostname": "" },
        message:
            "mattermsot:hostname: is under the prefix \"mattermsot:\", which nothing in this program reads, so it would be ignored. This program's keys are mattermost:hostname and the like; providers' are pulumi:, kubernetes:, command:, random:, tls:.",
    },
    {
        problem: "A plain setting stored encrypted",
        base: "test",
        encrypted: true,
        change: { loginButtonText: "Log in" },
        message:
            "mattermost:loginButtonText: is stored encrypted, but it is no secret: the program uses it as plain text, in manifests and outputs that are not secret. Set it in plain text: pulumi config set loginButtonText <value>.",
    },
    {
        problem: "An in-cluster database in production",
        base: "prod",
        change: { databaseMode: "inCluster" },
        message:
            "mattermost:databaseMode: is inCluster in a production stack: its data lives on an emptyDir and is lost whenever the pod restarts. Use the company PostgreSQL (databaseMode external with databaseHost and databasePassword).",
    },
    {
        problem: "An in-cluster Keycloak database in production",
        base: "prod",
        change: { keycloakDatabaseMode: "inCluster" },
        message:
            "mattermost:keycloakDatabaseMode: is inCluster in a production stack: Keycloak's data (realm, users, sessions) lives on an emptyDir and is lost whenever the pod restarts. Use the company PostgreSQL (keycloakDatabaseMode external).",
    },
    {
        problem: "In-cluster S3 in production",
        base: "prod",
        change: { s3Mode: "inCluster" },
        message:
            "mattermost:s3Mode: is inCluster in a production stack: its files live on an emptyDir and are lost whenever the pod restarts. Use the company S3 service (s3Mode external with s3Endpoint).",
    },
    {
        problem: "S3 without TLS in production",
        base: "prod",
        change: { s3Ssl: "false" },
        message:
            "mattermost:s3Ssl: is false in a production stack: files and keys would cross the network in clear text. Set it true and trust the service's CA with companyCaCertificates.",
    },
    {
        problem: "An S3 endpoint with a scheme",
        base: "prod",
        change: { s3Endpoint: "https://s3.example.com" },
        message:
            'mattermost:s3Endpoint: "https://s3.example.com" has a scheme. Give host[:port] only, e.g. s3.example.com:9000; TLS is s3Ssl.',
    },
    {
        problem: "Plain LDAP in production",
        base: "prod",
        change: { adUrls: '["ldap://dc1.corp.example.com:389"]' },
        message:
            "mattermost:adUrls: has an ldap:// URL in a production stack: AD passwords would cross the network in clear text. Use ldaps:// (port 636) and trust the domain's CA with companyCaCertificates.",
    },
    {
        problem: "No Active Directory in production",
        base: "prod",
        change: { adUrls: "[]" },
        message:
            "mattermost:adUrls: is empty in a production stack, so nobody could log in. Set the domain controllers: pulumi config set --path 'adUrls[0]' ldaps://dc1.corp.example.com:636.",
    },
    {
        problem: "Test users in production",
        base: "prod",
        change: { testUsers: '["alice:1001:alice@example.com:Alice"]' },
        message:
            "mattermost:testUsers: is set in a production stack: local accounts would bypass Active Directory. Remove them and use adUrls.",
    },
    {
        problem: "A test user without a numeric id",
        base: "test",
        change: { testUsers: '["alice:abc:alice@example.com:Alice"]' },
        message:
            'mattermost:testUsers: entry "alice:abc:alice@example.com:Alice" is not username:id:email:Full Name with a positive numeric id, e.g. alice:1001:alice@example.com:Alice Example.',
    },
    {
        problem: "Text that is not a PEM certificate as the company CA",
        base: "prod",
        change: { companyCaCertificates: "not a certificate" },
        message:
            "mattermost:companyCaCertificates: contains text that is not a PEM block. Give only -----BEGIN CERTIFICATE----- blocks.",
    },
    {
        problem: "A push host without a pinned host key",
        base: "prod",
        change: { pushSshHostKey: "" },
        message:
            "mattermost:pushSshHostKey: is required with pushHost: without a pinned host key, whatever answers at the address would be sent the push credentials. Read it on the VM's console (or with ssh-keyscan over a network you trust) and set: pulumi config set pushSshHostKey 'ssh-ed25519 AAAA...'.",
    },
    {
        problem: "An empty firewall allow-list for the push host",
        base: "prod",
        change: { pushAllowedCidrs: "[]" },
        message:
            "mattermost:pushAllowedCidrs: is empty, so no Mattermost server could reach the push proxy. List the cluster's egress addresses: pulumi config set --path 'pushAllowedCidrs[0]' 10.20.0.0/24.",
    },
    {
        problem: "A push CIDR admitting everyone",
        base: "prod",
        change: { pushAllowedCidrs: '["0.0.0.0/0"]' },
        message: 'mattermost:pushAllowedCidrs: "0.0.0.0/0" admits every address. List only the networks that need it.',
    },
    {
        problem: "A push CIDR with host bits set",
        base: "prod",
        change: { pushDeployerCidrs: '["10.10.5.9/24"]' },
        message:
            'mattermost:pushDeployerCidrs: "10.10.5.9/24" has host bits set. Write the network, 10.10.5.0/24, or a /32 for one address.',
    },
    {
        problem: "The push tarball's checksum not pinned",
        base: "prod",
        change: { pushProxyTarballSha256: undefined },
        message:
            "mattermost:pushProxyTarballSha256: is required with pushHost and is not set: the VM installs only a tarball it can verify. Take it from the release's checksums.txt: pulumi config set pushProxyTarballSha256 <64 hex digits>",
    },
    {
        problem: "The push host's SSH key missing",
        base: "prod",
        change: { pushSshPrivateKey: undefined },
        message:
            'mattermost:pushSshPrivateKey: is required with pushHost and is not set. Set it with: pulumi config set --secret pushSshPrivateKey -- "$(cat <file>)"',
    },
    {
        problem: "Network policies on, and the external database's addresses not listed",
        base: "prod",
        change: { databaseCidrs: "[]" },
        message:
            "mattermost:databaseCidrs: is empty, but with networkPolicies true (deny by default) Mattermost and Keycloak reach the external PostgreSQL only at the addresses listed here. Set them: pulumi config set --path 'databaseCidrs[0]' 10.50.0.0/24, or set networkPolicies false.",
    },
    {
        problem: "Network policies on, and no address for the chat's public name",
        base: "test",
        change: { publicEndpointCidrs: "[]" },
        message:
            "mattermost:publicEndpointCidrs: is empty, but with networkPolicies true (deny by default) Mattermost reaches Keycloak at the chat's public URL only at the addresses listed here. Set them: pulumi config set --path 'publicEndpointCidrs[0]' 10.0.0.10/32, or set networkPolicies false.",
    },
    {
        problem: "A push host given by name, and its addresses not listed",
        base: "prod",
        change: { pushHostCidrs: "[]" },
        message:
            "mattermost:pushHostCidrs: is empty, but with networkPolicies true (deny by default) Mattermost reaches the push VM only at the addresses listed here. Set them: pulumi config set --path 'pushHostCidrs[0]' 10.54.0.7/32, or set networkPolicies false.",
    },
    {
        problem: "A plugin listed, and no image built with it yet",
        base: "prod",
        change: {
            mattermostPlugins: JSON.stringify([examplePlugin]),
        },
        message:
            "mattermost:customMattermostImage: is required with mattermostPlugins or webClientReplacements: the upstream image has neither. Build it with: npm run build:image -- --stack <stack> --repository <registry>/<name>, and set the reference it prints",
    },
    {
        problem: "A plugin's checksum that is not a sha256",
        base: "prod",
        change: {
            mattermostPlugins: JSON.stringify([{ ...examplePlugin, sha256: "see checksums.txt" }]),
        },
        message:
            'mattermost:mattermostPlugins: "jitsi": sha256 is not 64 lower-case hex digits. Take it from the release\'s checksums, or from sha256sum of a bundle you checked.',
    },
    {
        problem: "The built image named by tag instead of digest",
        base: "prod",
        change: { customMattermostImage: "registry.example.com/chat/mattermost:11.6.1-0123456789ab" },
        message:
            'mattermost:customMattermostImage: "registry.example.com/chat/mattermost:11.6.1-0123456789ab" is not pinned by digest. Give the reference npm run build:image prints, <repository>:<tag>@sha256:<digest>.',
    },
];
