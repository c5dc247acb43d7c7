/**
 * Every stack configuration key of the project, declared once. `Pulumi.yaml`'s typed `config:` block
 * and the README's configuration reference are generated from this list (`npm run docs`), and a test
 * fails when either drifts from it.
 */

/**
 * `maps` is a YAML list of maps and `map` one YAML map, which Pulumi's typed project config cannot declare
 * (its items are scalars).
 */
export type ConfigKeyType = "string" | "integer" | "boolean" | "array" | "maps" | "map";

export interface ConfigKey {
    readonly type: ConfigKeyType;
    readonly description: string;
    /** Absent means the key is required in every stack. */
    readonly default?: string | number | boolean | readonly string[] | Readonly<Record<string, string>>;
    /** For a `map`: each of its values is a secret, set encrypted (`pulumi config set --secret --path`). */
    readonly secret?: boolean;
}

export const projectName = "mattermost";

/**
 * Set by the offline render (scripts/offlineRender.ts): values `pulumi up` needs but a render can do
 * without (a checksum not pinned yet) then do not stop the program, and the render shows them empty.
 */
export const offlineRenderVariable = "MATTERMOST_OFFLINE_RENDER";

/** The empty map, typed as one: the default of a map key. */
const noSettings: Readonly<Record<string, string>> = {};

export const configKeys = {
    production: {
        type: "boolean",
        default: true,
        description:
            "Marks a production stack. Refuses test-only shortcuts (EnableInsecureOutgoingConnections, in-cluster databases without persistent storage) and makes pod anti-affinity required.",
    },
    platform: {
        type: "string",
        default: "kubernetes",
        description:
            "`kubernetes` (exposed through an Ingress) or `openshift` (exposed through a Route, uid 2000 granted through the nonroot-v2 SCC).",
    },
    namespace: {
        type: "string",
        default: "mattermost",
        description: "Namespace (OpenShift project) every object is created in.",
    },
    createNamespace: {
        type: "boolean",
        default: true,
        description:
            "Create the namespace. Set false where it exists already (OpenShift projects are usually requested from the cluster team).",
    },
    kubeContext: {
        type: "string",
        default: "",
        description: "kubeconfig context to deploy to; empty uses the current context.",
    },
    hostname: {
        type: "string",
        description:
            "Public host name of the chat, e.g. `chat.example.com`. SiteURL is `https://<hostname>`; Keycloak is served at `https://<hostname>/auth/`.",
    },
    mattermostImage: {
        type: "string",
        default: "mattermost/mattermost-enterprise-edition:11.6.1",
        description:
            "Mattermost image: a release tag (never `latest`), and in production its digest too. Team Edition: `mattermost/mattermost-team-edition`; Enterprise (free Entry or licensed): `mattermost/mattermost-enterprise-edition`.",
    },
    mattermostEdition: {
        type: "string",
        default: "enterprise",
        description: "`team` or `enterprise`: which edition `mattermostImage` is. Decides which login modes are valid.",
    },
    mattermostVersion: {
        type: "string",
        default: "",
        description:
            "Mattermost version (e.g. `10.11.10`). Empty: read from the image tag; required when the image is pinned by digest only.",
    },
    mattermostUpgradeFrom: {
        type: "string",
        default: "",
        description:
            "The release the database holds when it is not the one this stack last deployed: after restoring a backup of an older release, or on the first `pulumi up` over a database another installation has used. The upgrade check (a jump over an Extended Support Release, or a downgrade, is refused) starts from it instead; remove it after that `pulumi up`.",
    },
    mattermostLicensed: {
        type: "boolean",
        default: false,
        description:
            "The stack runs with an Enterprise/Professional license, `mattermostLicense`. Needed for GitLab SSO on v11+ and for `PushNotificationContents: id_loaded`.",
    },
    mattermostLicense: {
        type: "string",
        default: "",
        secret: true,
        description:
            "The license file's text, for a licensed Enterprise stack: `pulumi config set --secret mattermostLicense -- \"$(cat company.mattermost-license)\"`. Both pods get it as `MM_LICENSE` from the pair's Secret, which Mattermost reads before any license uploaded in the System Console. Required with `mattermostLicensed`; a renewal is a new value and a `pulumi up`.",
    },
    ssoMode: {
        type: "string",
        default: "openid",
        description:
            "`gitlab` (Keycloak emulates GitLab: Team Edition 10.x or a licensed Enterprise image) or `openid` (Enterprise image, native OpenID Connect).",
    },
    mattermostSettings: {
        type: "array",
        default: [],
        description:
            'Overrides of `config/mattermost/config.json`, one `Section.Key=value` each (value as JSON when it parses, else a string), e.g. `TeamSettings.SiteName="Chat"`. Secret settings are refused here.',
    },
    mattermostWeakerSettings: {
        type: "array",
        default: [],
        description:
            "Settings of `mattermostSettings` that weaken a production stack (e.g. `ServiceSettings.EnableDeveloper`), accepted deliberately: each must be listed here, so that the pull request shows the decision. Refused otherwise.",
    },
    mattermostSecretSettings: {
        type: "map",
        default: noSettings,
        secret: true,
        description:
            "Mattermost settings that are secrets, such as the SMTP server's password: `Section.Key` to its value, each set encrypted: `pulumi config set --secret --path 'mattermostSecretSettings[\"EmailSettings.SMTPPassword\"]' <password>`. Only settings Mattermost treats as secret and the program does not make itself; they reach the pods from the pair's Secret, never the settings ConfigMap. The SMTP server's other settings (`EmailSettings.SMTPServer`, `SMTPPort`, `SMTPUsername`, `EnableSMTPAuth`, `ConnectionSecurity`) go into `mattermostSettings`.",
    },
    mattermostCpuRequest: { type: "string", default: "500m", description: "CPU request of each Mattermost pod." },
    mattermostMemoryRequest: { type: "string", default: "1Gi", description: "Memory request of each Mattermost pod." },
    mattermostCpuLimit: { type: "string", default: "2", description: "CPU limit of each Mattermost pod." },
    mattermostMemoryLimit: {
        type: "string",
        default: "4Gi",
        description: "Memory limit of each Mattermost pod (plugins run as child processes inside it).",
    },
    nginxImage: {
        type: "string",
        default: "nginxinc/nginx-unprivileged:1.28.0",
        description:
            "Unprivileged nginx image: a release tag, and in production its digest too (see `acceptTagOnlyImages`).",
    },
    acceptTagOnlyImages: {
        type: "boolean",
        default: false,
        description:
            "Production only: accept images given by a release tag without their digest (`repository:tag@sha256:<digest>`). A registry can move a tag to other contents, so only a digest pins an image; a production stack refuses tag-only images unless this is true, and every preview then lists them. The defaults are tags: add the digests your registry gives, then remove this.",
    },
    imagePullSecrets: {
        type: "array",
        default: [],
        description:
            "Secrets of type `kubernetes.io/dockerconfigjson` in the namespace, made beforehand (`kubectl create secret docker-registry <name> ...`), that every pod pulls its images with: a private registry, the custom image's or a mirror's. Empty: images are pulled anonymously.",
    },
    imageRegistryMirror: {
        type: "string",
        default: "",
        description:
            "A registry every public image is pulled through, as `host[:port][/path]`: `node:22.23.5-alpine` is then pulled as `<mirror>/docker.io/library/node:22.23.5-alpine`, `quay.io/keycloak/keycloak:26.5.5` as `<mirror>/quay.io/keycloak/keycloak:26.5.5` (tags and digests kept), for Docker Hub, quay.io, docker.elastic.co, ghcr.io, registry.k8s.io and gcr.io; an image of any other registry, `customMattermostImage` among them, is pulled as named. Empty: each from its own registry.",
    },
    podScheduling: {
        type: "maps",
        default: [],
        description:
            "Where each piece's pods may run, on top of the anti-affinity that keeps the pair's two pods (and nginx's) apart. One map per piece: `pods` (`mattermost` for the pair and its schema migration Job, `nginx`, `keycloak`, `jobs` for the realm and deprovisioning jobs, `stores` for a test stack's in-cluster PostgreSQL and S3), and any of `nodeSelector` (a map of node labels), `tolerations` (maps of `key`, `operator` `Equal` or `Exists`, `value`, `effect`, and with `NoExecute` `tolerationSeconds`, e.g. 30 on `node.kubernetes.io/unreachable` to leave a dead node sooner than the default 300 s), `priorityClassName` (an existing PriorityClass) and `spread` (`zone` or `node`: the piece's pods spread evenly, required in production, preferred otherwise; not for `jobs` and `stores`). Empty: the scheduler decides.",
    },
    nginxReplicas: {
        type: "integer",
        default: 2,
        description:
            "Number of nginx pods in front of the pair. From 2, a disruption budget keeps one serving through node drains; with 1 there is none (it would block every drain), so a drain stops the chat until the pod starts elsewhere.",
    },
    mattermostPlugins: {
        type: "maps",
        default: [],
        description:
            "Plugins baked into the image the pair runs (`npm run build:image`), and the only ones Mattermost runs. One map each: `id` and `version` (as in the bundle's plugin.json), `url` (https, .tar.gz), `sha256`, `signatureSha256` and optionally `signatureUrl` (default `url` + `.sig`). Mattermost verifies each bundle's signature at start; with this program's database-held configuration only bundles signed by Mattermost pass. Empty: no plugins run.",
    },
    webClientReplacements: {
        type: "maps",
        default: [],
        description:
            "Text changes to the web client baked into the image (`npm run build:image`). One map each: `find`, `replace`, and `count`, how often `find` must occur in the client's files; the build fails otherwise, so an upstream change cannot slip through. The login button's text needs none: it is `loginButtonText`.",
    },
    customMattermostImage: {
        type: "string",
        default: "",
        description:
            "The image `npm run build:image` built from `mattermostImage`, `mattermostPlugins` and `webClientReplacements`, as it prints it: `<repository>:<tag>@sha256:<digest>`. Required when either list is set; its tag must end in the recipe of the current lists, so a changed list needs a new build.",
    },
    loginButtonText: {
        type: "string",
        default: "Log in with your company account",
        description:
            "Text of the login button that leads to Keycloak, in either `ssoMode` (GitLabSettings or OpenIdSettings `ButtonText`).",
    },
    nodeImage: {
        type: "string",
        default: "node:22.23.5-alpine",
        description:
            "Node.js image (a Node 22 LTS release tag, the release the tests run these programs on; in production with its digest) that runs the failover guard beside nginx, the realm-apply job and the deprovisioning job (their programs come from ConfigMaps, so no image is built).",
    },
    nginxCpuRequest: { type: "string", default: "100m", description: "CPU request of each nginx pod." },
    nginxMemoryRequest: { type: "string", default: "64Mi", description: "Memory request of each nginx pod." },
    nginxCpuLimit: { type: "string", default: "1", description: "CPU limit of each nginx pod." },
    nginxMemoryLimit: { type: "string", default: "256Mi", description: "Memory limit of each nginx pod." },
    dnsResolver: {
        type: "string",
        default: "",
        description:
            "DNS server nginx uses to find Keycloak at request time. Empty: `kube-dns.kube-system.svc.cluster.local` on Kubernetes, `dns-default.openshift-dns.svc.cluster.local` on OpenShift.",
    },
    ingressClassName: {
        type: "string",
        default: "",
        description: "IngressClass of the Ingress (platform `kubernetes`); empty uses the cluster default.",
    },
    ingressTlsSecretName: {
        type: "string",
        default: "",
        description:
            "Secret (type `kubernetes.io/tls`, in the namespace) holding the TLS certificate for `hostname`: the Ingress's, or on OpenShift the Route's external certificate, which the router may then read (a Role for its service account, that one Secret only; OpenShift 4.14 on). cert-manager can keep it (`edgeAnnotations`). Empty leaves TLS to the ingress controller's or router's default certificate.",
    },
    edgeAnnotations: {
        type: "map",
        default: noSettings,
        description:
            "Annotations of the Ingress (or the OpenShift Route) beside the program's own, e.g. `cert-manager.io/cluster-issuer: letsencrypt` or another controller's timeouts and body size, which must allow what the program asks of ingress-nginx: idle connections of 600 s (websockets) and no body limit of its own. The program's annotations cannot be changed here.",
    },
    databaseMode: {
        type: "string",
        default: "external",
        description:
            "`external` (the company PostgreSQL service) or `inCluster` (a PostgreSQL pod on an emptyDir: test stacks only, all data is lost when it restarts).",
    },
    databaseHost: {
        type: "string",
        default: "",
        description: "Host name of the external PostgreSQL (required with `databaseMode: external`).",
    },
    databasePort: { type: "integer", default: 5432, description: "Port of the external PostgreSQL." },
    databaseName: { type: "string", default: "mattermost", description: "Database name." },
    databaseUser: { type: "string", default: "mattermost", description: "Database user." },
    databaseSslMode: {
        type: "string",
        default: "verify-full",
        description:
            "libpq `sslmode` for the external database: `disable`, `require`, `verify-ca` or `verify-full`. In-cluster databases always use `disable` (traffic stays in the namespace).",
    },
    databaseConnectTimeout: {
        type: "integer",
        default: 10,
        description: "Seconds to wait for a database connection (`connect_timeout`).",
    },
    databasePassword: {
        type: "string",
        secret: true,
        default: "",
        description:
            "Password of the external database user. Set with `pulumi config set --secret databasePassword`; required with `databaseMode: external`.",
    },
    postgresImage: {
        type: "string",
        default: "postgres:16.9",
        description:
            "PostgreSQL image, a release tag and in production its digest (PostgreSQL 14 or newer): the database with `databaseMode: inCluster`, and in every stack the init container that waits for the database with `pg_isready`.",
    },
    companyCaCertificates: {
        type: "string",
        default: "",
        description:
            'PEM of the company\'s CA certificates (not secret), trusted by every pod that makes TLS calls next to the public roots. Set with `pulumi config set companyCaCertificates -- "$(cat company-ca.pem)"`.',
    },
    s3Mode: {
        type: "string",
        default: "external",
        description:
            "`external` (the company's S3-compatible service) or `inCluster` (a SeaweedFS pod on an emptyDir with TLS from a CA the program creates: test stacks only).",
    },
    s3Endpoint: {
        type: "string",
        default: "",
        description: "`host[:port]` of the external S3 service, without scheme (required with `s3Mode: external`).",
    },
    s3Bucket: {
        type: "string",
        default: "mattermost",
        description: "Bucket for Mattermost's files; Mattermost creates it when it is missing.",
    },
    s3PathPrefix: {
        type: "string",
        default: "",
        description: "Prefix of every object key in the bucket, e.g. `chat/`; empty for none.",
    },
    s3Region: {
        type: "string",
        default: "",
        description: "S3 region; leave empty for S3-compatible services.",
    },
    s3Ssl: {
        type: "boolean",
        default: true,
        description: "Talk TLS to the external S3 service. Refused false in a production stack.",
    },
    s3AccessKeyId: {
        type: "string",
        secret: true,
        default: "",
        description:
            "Access key of the external S3 service (`pulumi config set --secret s3AccessKeyId`). Leave both keys empty to use the pod's IAM identity.",
    },
    s3SecretAccessKey: {
        type: "string",
        secret: true,
        default: "",
        description: "Secret key of the external S3 service (`pulumi config set --secret s3SecretAccessKey`).",
    },
    s3Image: {
        type: "string",
        default: "chrislusf/seaweedfs:4.53",
        description: "SeaweedFS image for `s3Mode: inCluster`: a release tag, and in production its digest too.",
    },
    elkEndpoint: {
        type: "string",
        default: "",
        description:
            "`host:port` of the Elasticsearch or Logstash endpoint, always spoken to over verified TLS. Empty: no log shipping, and no Filebeat sidecar at all.",
    },
    elkOutput: {
        type: "string",
        default: "elasticsearch",
        description: "`elasticsearch` or `logstash`: what listens at `elkEndpoint`.",
    },
    elkUsername: {
        type: "string",
        default: "",
        description: "User Filebeat authenticates as (Elasticsearch); empty for none.",
    },
    elkPassword: {
        type: "string",
        secret: true,
        default: "",
        description: "Password of `elkUsername` (`pulumi config set --secret elkPassword`).",
    },
    filebeatImage: {
        type: "string",
        default: "docker.elastic.co/beats/filebeat:8.19.4",
        description: "Filebeat image of the log-shipping sidecars: a release tag, and in production its digest too.",
    },
    localLogin: {
        type: "boolean",
        default: false,
        description:
            "Keep Mattermost's own email/username sign-in next to SSO (break-glass admins, test stacks). Open sign-up stays off either way.",
    },
    mattermostSsoSessionHours: {
        type: "integer",
        default: 24,
        description:
            "Mattermost's `ServiceSettings.SessionLengthSSOInHours`: how long an SSO login lasts in Mattermost (its default is 30 days).",
    },
    keycloakImage: {
        type: "string",
        default: "quay.io/keycloak/keycloak:26.5.5",
        description:
            "Keycloak image, a release tag and in production its digest (26.x: the bootstrap-admin, hostname v2 and jdbc-ping behaviour this program relies on).",
    },
    keycloakReplicas: {
        type: "integer",
        default: 1,
        description:
            "Keycloak pods. One uses local caches; more use the distributed cache with jdbc-ping discovery through the database.",
    },
    keycloakCpuRequest: { type: "string", default: "500m", description: "CPU request of each Keycloak pod." },
    keycloakMemoryRequest: { type: "string", default: "1Gi", description: "Memory request of each Keycloak pod." },
    keycloakCpuLimit: { type: "string", default: "2", description: "CPU limit of each Keycloak pod." },
    keycloakMemoryLimit: {
        type: "string",
        default: "2Gi",
        description: "Memory limit of each Keycloak pod; the JVM sizes its heap from it (70%).",
    },
    keycloakDatabaseMode: {
        type: "string",
        default: "external",
        description:
            "`external` (the company PostgreSQL) or `inCluster` (a PostgreSQL pod on an emptyDir: test stacks only).",
    },
    keycloakDatabaseHost: {
        type: "string",
        default: "",
        description: "Host of Keycloak's external database; empty: the same server as Mattermost's (`databaseHost`).",
    },
    keycloakDatabasePort: { type: "integer", default: 5432, description: "Port of Keycloak's external database." },
    keycloakDatabaseName: { type: "string", default: "keycloak", description: "Keycloak's database name." },
    keycloakDatabaseUser: { type: "string", default: "keycloak", description: "Keycloak's database user." },
    keycloakDatabasePassword: {
        type: "string",
        secret: true,
        default: "",
        description:
            "Password of Keycloak's external database user (`pulumi config set --secret keycloakDatabasePassword`); required with `keycloakDatabaseMode: external`.",
    },
    adUrls: {
        type: "array",
        default: [],
        description:
            "LDAPS URLs of the Active Directory domain controllers, e.g. `ldaps://dc1.corp.example.com:636`. Empty: no AD (test stacks), use `testUsers`.",
    },
    adBindDn: { type: "string", default: "", description: "DN (or UPN) of the AD service account Keycloak binds as." },
    adBindPassword: {
        type: "string",
        secret: true,
        default: "",
        description: "Password of `adBindDn` (`pulumi config set --secret adBindPassword`).",
    },
    adUsersDn: {
        type: "string",
        default: "",
        description: "Where the chat's users live, e.g. `OU=Staff,DC=corp,DC=example,DC=com`.",
    },
    adUserFilter: {
        type: "string",
        default: "",
        description:
            "LDAP filter narrowing the users, e.g. group membership `(memberOf=CN=Chat-Users,OU=Groups,DC=corp,DC=example,DC=com)`; empty for all.",
    },
    adIdAttribute: {
        type: "string",
        default: "employeeID",
        description:
            "AD attribute with each person's unique, never reused, never changed numeric id; Mattermost links accounts by it (a changed id locks the person out, a reused one hands over an account).",
    },
    testUsers: {
        type: "array",
        default: [],
        description:
            "Test stacks without AD: local Keycloak users, one `username:id:email:Full Name` each, with a numeric id. They share one generated password (the secret stack output `testUserPassword`). Refused in production.",
    },
    ssoSessionIdleMinutes: {
        type: "integer",
        default: 30,
        description:
            "Keycloak SSO session idle timeout: how long an unused Keycloak login lets someone back in without a password.",
    },
    ssoSessionMaxHours: {
        type: "integer",
        default: 10,
        description: "Keycloak SSO session maximum lifespan.",
    },
    networkPolicies: {
        type: "boolean",
        default: true,
        description:
            "Deny all traffic in the namespace by default and allow only the flows the platform needs (README, Security). The `*Cidrs` keys name the addresses outside the cluster.",
    },
    ingressNamespace: {
        type: "string",
        default: "ingress-nginx",
        description:
            "Platform `kubernetes`: the namespace of the ingress controller whose pods may reach nginx. On OpenShift the router's traffic is recognised by the policy-group.network.openshift.io/ingress label, a router on the host network's too.",
    },
    publicEndpointCidrs: {
        type: "array",
        default: [],
        description:
            "Where the chat's public host name leads from inside the cluster (the router's or load balancer's addresses): Mattermost reaches Keycloak there, at its public URL. Required with `networkPolicies`.",
    },
    databaseCidrs: {
        type: "array",
        default: [],
        description:
            "Addresses of the external PostgreSQL server(s). Required with `networkPolicies` and an external database.",
    },
    s3Cidrs: {
        type: "array",
        default: [],
        description: "Addresses of the external S3 service. Required with `networkPolicies` and `s3Mode: external`.",
    },
    adCidrs: {
        type: "array",
        default: [],
        description:
            "Addresses of the AD domain controllers in `adUrls`. Required with `networkPolicies` and `adUrls`.",
    },
    elkCidrs: {
        type: "array",
        default: [],
        description: "Addresses of `elkEndpoint`. Required with `networkPolicies` and `elkEndpoint`.",
    },
    smtpCidrs: {
        type: "array",
        default: [],
        description:
            "Addresses of the SMTP server Mattermost sends its e-mail through (`EmailSettings.SMTPServer` in `mattermostSettings`), reached at `EmailSettings.SMTPPort` (Mattermost's default 10025). Required with `networkPolicies` and an SMTP server outside the pod.",
    },
    pushHostCidrs: {
        type: "array",
        default: [],
        description:
            "Addresses of the push VM's front, when `pushHost` is a name (an address is taken as it is). Required with `networkPolicies` and a push host name.",
    },
    deprovisionSchedule: {
        type: "string",
        default: "*/5 * * * *",
        description:
            "Cron schedule of the job that deactivates Mattermost accounts of people disabled in or removed from AD (README, Security). Empty: no job.",
    },
    mattermostAdminToken: {
        type: "string",
        secret: true,
        default: "",
        description:
            "Access token of a Mattermost system-admin bot the program acts as: the deprovisioning job, and `pulumi up` for the integrations (webhooks, role permissions). Make it after the first start with the commands of the output `adminTokenCommands`; unset, the job is created suspended and integrations are left alone.",
    },
    deprovisionAllowList: {
        type: "array",
        default: [],
        description: "Mattermost usernames the job never deactivates (break-glass admins).",
    },
    deprovisionDryRun: {
        type: "boolean",
        default: false,
        description: "The job only reports what it would deactivate.",
    },
    deprovisionMaxPerRun: {
        type: "integer",
        default: 20,
        description:
            "Most accounts one run may deactivate, however large the chat; more and it refuses and reports, so a broken directory cannot empty the chat.",
    },
    deprovisionMaxPercentPerRun: {
        type: "integer",
        default: 5,
        description:
            "Share of the SSO accounts, in percent, one run may deactivate (at least 3 accounts, at most `deprovisionMaxPerRun`); more and it refuses and reports.",
    },
    deprovisionMaxDirectoryShrinkPercent: {
        type: "integer",
        default: 5,
        description:
            "How far, in percent, the enabled people in Keycloak may shrink against the last good run (and always by 3); more and the job deactivates nobody and says so, since a directory that suddenly shows fewer people is more likely broken than emptied.",
    },
    deprovisionAcceptDirectorySize: {
        type: "string",
        default: "",
        description:
            "One-off override of that shrink check, after you have checked the people really left: the number of enabled people the refusal named. Only a view of exactly that size passes; unset it after the run.",
    },
    incomingWebhooks: {
        type: "array",
        default: [],
        description:
            "Incoming webhooks `pulumi up` makes sure exist, one `team/channel/Display name` each (team and channel as in their URLs), e.g. `engineering/builds/TeamCity`. Their URLs are the secret output `incomingWebhookUrls`. Needs `mattermostAdminToken`.",
    },
    integrationCreators: {
        type: "string",
        default: "admins",
        description:
            "Who may create webhooks and slash commands: `admins` (team and system admins) or `everyone`, as the role permissions that replaced `EnableOnlyAdminIntegrations`. Applied with `mattermostAdminToken`.",
    },
    pushHost: {
        type: "string",
        default: "",
        description:
            "Host name or IPv4 address Mattermost calls the push proxy VM at (in `PushNotificationServer` and the front's certificate). Empty: no push notifications, and no VM steps.",
    },
    pushSshAddress: {
        type: "string",
        default: "",
        description: "Address the deployer reaches the push VM's SSH at, when it differs from `pushHost`.",
    },
    pushSshPort: { type: "integer", default: 22, description: "SSH port of the push VM." },
    pushSshUser: {
        type: "string",
        default: "",
        description:
            "User the program logs in as on the push VM; needs passwordless sudo (`sudo -n`). Required with `pushHost`.",
    },
    pushSshPrivateKey: {
        type: "string",
        secret: true,
        default: "",
        description:
            'Private key of `pushSshUser`, PEM or OpenSSH format: `pulumi config set --secret pushSshPrivateKey -- "$(cat key)"`.',
    },
    pushSshHostKey: {
        type: "string",
        default: "",
        description:
            "The push VM's SSH public host key, one `authorized_keys`-style line (`ssh-keyscan -t ed25519 <host>`, checked out of band). Required: without it any machine answering at the address would get the secrets.",
    },
    pushAllowedCidrs: {
        type: "array",
        default: [],
        description:
            "CIDRs the Mattermost pods' traffic to the push VM comes from (the cluster's egress addresses): the only sources admitted to port 443.",
    },
    pushDeployerCidrs: {
        type: "array",
        default: [],
        description:
            "CIDRs the deployer's SSH comes from; every firewall path keeps SSH open to them so a run never cuts its own connection.",
    },
    pushProxyTarballUrl: {
        type: "string",
        default:
            "https://github.com/mattermost/mattermost-push-proxy/releases/download/v6.5.0/mattermost-push-proxy-linux-amd64.tar.gz",
        description: "HTTPS URL of the mattermost-push-proxy release tarball the VM downloads.",
    },
    pushProxyTarballFile: {
        type: "string",
        default: "",
        description:
            "Path on the deployer's machine of the release tarball, uploaded instead of downloaded (VMs without internet access).",
    },
    pushProxyTarballSha256: {
        type: "string",
        default: "",
        description:
            "sha256 of the tarball (from the release's `checksums.txt`, checked out of band); the VM refuses any other file. Required with `pushHost`.",
    },
    pushAppleTopic: {
        type: "string",
        default: "",
        description: "Bundle id of the company's iOS app (the APNs topic). Empty: no iOS pushes.",
    },
    pushApplePlatform: {
        type: "string",
        default: "apple_rn",
        description: "The `platform` value the iOS app sends (`apple_rn` for the React Native app).",
    },
    pushAppleKeyId: {
        type: "string",
        default: "",
        description: "Key id of the APNs auth key (`.p8`). Set: token authentication; empty: a legacy certificate.",
    },
    pushAppleTeamId: { type: "string", default: "", description: "Apple team id, with `pushAppleKeyId`." },
    pushAppleAuthKey: {
        type: "string",
        secret: true,
        default: "",
        description:
            'The APNs auth key (`.p8` text): `pulumi config set --secret pushAppleAuthKey -- "$(cat key.p8)"`.',
    },
    pushAppleCertificate: {
        type: "string",
        secret: true,
        default: "",
        description:
            "Legacy APNs certificate and its unencrypted key, one PEM, when `pushAppleKeyId` is empty (yearly renewal; prefer the auth key).",
    },
    pushAppleDevelopment: {
        type: "boolean",
        default: false,
        description: "Send to the APNs sandbox (development builds of the app) instead of production.",
    },
    pushAndroidPlatform: {
        type: "string",
        default: "android_rn",
        description: "The `platform` value the Android app sends. Empty: no Android pushes.",
    },
    pushFirebaseServiceAccount: {
        type: "string",
        secret: true,
        default: "",
        description:
            'Firebase service-account JSON of the Android app (FCM v1): `pulumi config set --secret pushFirebaseServiceAccount -- "$(cat sa.json)"`.',
    },
    pushThrottlePerSec: {
        type: "integer",
        default: 300,
        description: "Pushes per second the proxy accepts from one Mattermost server.",
    },
    pushSendTimeoutSec: {
        type: "integer",
        default: 30,
        description: "The proxy's whole budget for one push, retries included.",
    },
    pushRetryTimeoutSec: { type: "integer", default: 8, description: "The proxy's timeout of each attempt." },
    pushNotificationContents: {
        type: "string",
        default: "generic",
        description:
            "Mattermost's `PushNotificationContents`: `generic_no_channel`, `generic` (sender and channel, not the message), `full`, or `id_loaded` (licensed Enterprise: the device fetches the message from Mattermost).",
    },
} as const satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof configKeys;

export const configKeyNames = Object.keys(configKeys).sort() as ConfigKeyName[];

export function fullKey(key: string): string {
    return `${projectName}:${key}`;
}
