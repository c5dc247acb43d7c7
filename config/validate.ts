/**
 * Validation of a stack's raw configuration (the strings Pulumi hands the program) into one typed
 * object. Pure: no Pulumi imports, so the offline renderer and the tests call it directly. Every
 * problem is collected, not only the first, and each message names the key, what is wrong and how
 * to fix it.
 */
import { z } from "zod";
import { configKeys, fullKey, type ConfigKey, type ConfigKeyName } from "./keys";
import { formatVersion, parseImage, parseVersion, type Version } from "./images";
import { isExampleCertificate, isExampleHostKey, namesExampleDomain } from "./examples";
import {
    bool,
    cronProblem,
    hostAndPortProblem,
    integer,
    isHostName,
    isIpAddress,
    ldapFilterProblem,
    namespacePattern,
    oneOf,
    releaseImage,
    quantity,
    quantityValue,
    secretTextMap,
    stringList,
    textMap,
} from "./schemas";
import { edgeAnnotationProblems } from "./edge";
import { mattermostFileTarget } from "./filebeat";
import { mattermostClientId, realmEndpoints } from "./realm";
import { inClusterS3Endpoint } from "./s3";
import { imagePullSecretsSchema, mirroredImage, registryMirrorSchema, type PodDefaults } from "./registry";
import { podSchedulingSchema, schedulingByGroup } from "./scheduling";
import { parseCaCertificates } from "./trust";
import { networkFieldSchemas, portOf, validateNetwork, type NetworkSettings } from "./validateNetwork";
import { pushFieldSchemas, validatePush, type PushHostSettings } from "./validatePush";
import {
    customImageFieldSchemas,
    pluginSettingsOverrides,
    validateCustomImage,
    type CustomImageSettings,
} from "./customImage";
import {
    applyOverrides,
    settingValue,
    type MattermostSettings,
    type SettingOverride,
    type SettingValue,
} from "./mattermostSettings";
import { releaseLine, releaseSettings } from "./mattermostSchema";
import { secretSettingsProblems, validateMattermostSettings } from "./validateSettings";
import { webhookProblems, type WebhookDeclaration } from "./webhooks";

export type RawConfig = Readonly<Partial<Record<string, string>>>;

export interface Resources {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
}

export interface InClusterDatabase {
    readonly mode: "inCluster";
    readonly name: string;
    readonly user: string;
}

export interface ExternalDatabase {
    readonly mode: "external";
    readonly host: string;
    readonly port: number;
    readonly name: string;
    readonly user: string;
    readonly sslMode: "disable" | "require" | "verify-ca" | "verify-full";
    readonly connectTimeout: number;
}

export type DatabaseSettings = InClusterDatabase | ExternalDatabase;

export interface InClusterS3 {
    readonly mode: "inCluster";
    readonly image: string;
    readonly bucket: string;
    readonly pathPrefix: string;
}

export interface ExternalS3 {
    readonly mode: "external";
    readonly endpoint: string;
    readonly bucket: string;
    readonly pathPrefix: string;
    readonly region: string;
    readonly ssl: boolean;
    /** False: no keys, the pod's IAM identity is used. */
    readonly hasCredentials: boolean;
}

export type FileStorageSettings = InClusterS3 | ExternalS3;

export interface ActiveDirectorySettings {
    readonly urls: readonly string[];
    readonly bindDn: string;
    readonly usersDn: string;
    readonly userFilter?: string;
    /** The AD attribute with each person's numeric id. */
    readonly idAttribute: string;
}

export interface TestUser {
    readonly username: string;
    /** Digits only: Keycloak hands it to Mattermost as a JSON number. */
    readonly id: string;
    readonly email: string;
    readonly name: string;
}

export interface IdentitySettings {
    readonly image: string;
    /** The pinned Node image the realm-apply job runs its program in. */
    readonly applyImage: string;
    readonly replicas: number;
    readonly resources: Resources;
    readonly database: InClusterDatabase | ExternalDatabase;
    readonly directory?: ActiveDirectorySettings;
    readonly testUsers: readonly TestUser[];
    readonly ssoSessionIdleMinutes: number;
    readonly ssoSessionMaxHours: number;
}

export interface LogShippingSettings {
    readonly output: "elasticsearch" | "logstash";
    /** host:port; always TLS. */
    readonly endpoint: string;
    readonly username?: string;
    readonly image: string;
}

export interface StackSettings {
    readonly production: boolean;
    /** What every pod gets, whichever piece it belongs to. */
    readonly pods: PodDefaults;
    readonly platform: "kubernetes" | "openshift";
    readonly namespace: string;
    readonly createNamespace: boolean;
    readonly kubeContext?: string;
    readonly hostname: string;
    readonly siteUrl: string;
    readonly mattermost: {
        /** What the pair runs: customMattermostImage when set, else mattermostImage. */
        readonly image: string;
        /** What `npm run build:image` builds for this stack. */
        readonly build: CustomImageSettings;
        readonly edition: "team" | "enterprise";
        readonly version: string;
        /** The key that names the release, for messages about it. */
        readonly versionKey: "mattermostVersion" | "mattermostImage";
        /** mattermostUpgradeFrom: where the upgrade check starts instead of the last deployed release. */
        readonly upgradeFrom?: string;
        readonly licensed: boolean;
        readonly ssoMode: "gitlab" | "openid";
        readonly settings: MattermostSettings;
        /** The settings of mattermostSecretSettings, by name; their values are read as secrets. */
        readonly secretSettings: readonly string[];
        readonly resources: Resources;
    };
    readonly nginx: {
        readonly image: string;
        /** Node.js image of the failover guard beside nginx. */
        readonly guardImage: string;
        readonly replicas: number;
        readonly resources: Resources;
        readonly dnsResolver: string;
        /** Largest request body, in bytes: Mattermost's FileSettings.MaxFileSize, so the two never disagree. */
        readonly maxBodyBytes: number;
    };
    readonly ingress: {
        readonly className?: string;
        readonly tlsSecretName?: string;
        /** The stack's own annotations of the Ingress or Route. */
        readonly annotations: Readonly<Record<string, string>>;
    };
    readonly identity: IdentitySettings;
    readonly database: DatabaseSettings;
    /** PostgreSQL image: the in-cluster database, and pg_isready before Mattermost starts. */
    readonly postgresImage: string;
    readonly fileStorage: FileStorageSettings;
    /** The company's CA certificates, one PEM each, checked. */
    readonly companyCaCertificates: readonly string[];
    /** Absent: logs stay on the pods' consoles and no sidecar runs. */
    readonly logShipping?: LogShippingSettings;
    /** The push proxy VM; absent: no push notifications. */
    readonly push?: PushHostSettings;
    /** Deny by default and allow the platform's flows; absent with networkPolicies false. */
    readonly network?: NetworkSettings;
    /** Webhooks and who may create integrations, applied through Mattermost's API with the admin token. */
    readonly integrations: {
        readonly incomingWebhooks: readonly {
            readonly team: string;
            readonly channel: string;
            readonly displayName: string;
        }[];
        readonly creators: "admins" | "everyone";
        readonly hasToken: boolean;
    };
    /** The job that shuts out people disabled in AD; absent with an empty schedule. */
    readonly deprovision?: {
        readonly schedule: string;
        readonly image: string;
        readonly allowList: readonly string[];
        readonly dryRun: boolean;
        readonly maxPerRun: number;
        /** Fractions of the SSO accounts and of the last good directory view (percent / 100). */
        readonly maxFractionPerRun: number;
        readonly maxDirectoryShrink: number;
        /** The one-off override of the shrink check, when set. */
        readonly acceptDirectorySize?: number;
        /** Without the Mattermost token the CronJob is created suspended. */
        readonly hasToken: boolean;
    };
}

export interface ValidationResult {
    readonly settings?: StackSettings;
    readonly errors: readonly string[];
    /** Secrets the stack needs but does not set; fatal in `pulumi up`, placeholders in the offline render. */
    readonly missingSecrets: readonly { readonly key: ConfigKeyName; readonly message: string }[];
    /** Plain values the offline render can do without but `pulumi up` cannot (e.g. a checksum to pin). */
    readonly missingValues: readonly { readonly key: ConfigKeyName; readonly message: string }[];
    readonly warnings: readonly string[];
}

/** End of support of Mattermost 10.11 ESR, the last Team Edition release with GitLab SSO. */
export const esr1011EndOfSupport = "2026-08-15";

/** Keys earlier versions read, and why they are gone: a stack file that still sets one is told so. */
const retiredKeys: Readonly<Record<string, string>> = {
    keycloakConfigCliImage:
        "the realm is applied by the program's own realm-apply job, which runs in nodeImage (keycloak-config-cli is not published on any registry this program can pin)",
};

const fieldSchemas = {
    production: bool("production"),
    acceptTagOnlyImages: bool("acceptTagOnlyImages"),
    platform: oneOf(["kubernetes", "openshift"]),
    namespace: z
        .string()
        .regex(namespacePattern, {
            error: "is not a valid namespace name. Use lower-case letters, digits and '-', at most 63 characters",
        })
        .refine((value) => !isSystemNamespace(value), {
            error: "is a namespace of the cluster itself, and its default-deny policy would cut off the cluster's own pods (DNS among them). Use a namespace of the chat's own, e.g. mattermost",
        }),
    createNamespace: bool("createNamespace"),
    kubeContext: z.string(),
    hostname: z.string().refine(isHostName, {
        error: "is not a fully qualified host name. Use the public DNS name users type, lower-case, without scheme or path, at most 253 characters, e.g. chat.example.com",
    }),
    mattermostImage: releaseImage,
    mattermostEdition: oneOf(["team", "enterprise"]),
    mattermostVersion: z.string().refine((value) => value === "" || parseVersion(value) !== undefined, {
        error: "is not a version. Use the Mattermost release, e.g. 10.11.10",
    }),
    mattermostUpgradeFrom: z.string().refine((value) => value === "" || parseVersion(value) !== undefined, {
        error: "is not a version. Use the Mattermost release the database holds, e.g. 10.11.10",
    }),
    mattermostLicensed: bool("mattermostLicensed"),
    mattermostLicense: z.string(),
    ssoMode: oneOf(["gitlab", "openid"]),
    mattermostSettings: stringList,
    mattermostWeakerSettings: stringList,
    mattermostSecretSettings: secretTextMap(
        "pulumi config set --secret --path 'mattermostSecretSettings[\"<name>\"]' <value>",
    ),
    mattermostCpuRequest: quantity,
    mattermostMemoryRequest: quantity,
    mattermostCpuLimit: quantity,
    mattermostMemoryLimit: quantity,
    nginxImage: releaseImage,
    imagePullSecrets: imagePullSecretsSchema,
    imageRegistryMirror: registryMirrorSchema,
    podScheduling: podSchedulingSchema,
    nginxReplicas: integer(1, 10),
    nodeImage: releaseImage,
    deprovisionSchedule: z.string().superRefine((value, context) => {
        const problem = value === "" ? undefined : cronProblem(value);
        if (problem) {
            context.addIssue({
                code: "custom",
                message: `${problem}. Give e.g. "*/5 * * * *", or leave it empty for no job`,
            });
        }
    }),
    mattermostAdminToken: z.string(),
    deprovisionAllowList: stringList.pipe(
        z.array(z.string().regex(/^[a-z0-9._-]+$/, { error: "has an entry that is not a Mattermost username" })),
    ),
    deprovisionDryRun: bool("deprovisionDryRun"),
    incomingWebhooks: stringList.pipe(
        z.array(
            z.string().regex(/^[a-z0-9_-]+\/[a-z0-9_-]+\/\S.*$/, {
                error: "has an entry that is not team/channel/Display name (team and channel as in their URLs), e.g. engineering/builds/TeamCity",
            }),
        ),
    ),
    integrationCreators: oneOf(["admins", "everyone"]),
    deprovisionMaxPerRun: integer(1, 10000),
    deprovisionMaxPercentPerRun: integer(1, 50),
    deprovisionMaxDirectoryShrinkPercent: integer(1, 50),
    deprovisionAcceptDirectorySize: z.string().regex(/^(|\d{1,7})$/, {
        error: "is not a number of people. Give the number the job's refusal named, e.g. 850, or leave it empty",
    }),
    nginxCpuRequest: quantity,
    nginxMemoryRequest: quantity,
    nginxCpuLimit: quantity,
    nginxMemoryLimit: quantity,
    dnsResolver: z.string().refine((value) => value === "" || isHostName(value) || isIpAddress(value), {
        error: "is neither a host name nor an IP address. Name the cluster's DNS Service, or leave it empty for the platform's default",
    }),
    ingressClassName: z.string(),
    ingressTlsSecretName: z.string(),
    edgeAnnotations: textMap(
        "pulumi config set --path 'edgeAnnotations[\"cert-manager.io/cluster-issuer\"]' letsencrypt",
    ),
    databaseMode: oneOf(["external", "inCluster"]),
    databaseHost: z
        .string()
        .refine((value) => value === "" || isHostName(value) || isIpAddress(value) || namespacePattern.test(value), {
            error: "is not a host name or an IP address. Use the PostgreSQL server's DNS name, e.g. postgres.db.example.com",
        }),
    databasePort: integer(1, 65535),
    databaseName: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
        error: "is not a plain PostgreSQL identifier. Use letters, digits and _, e.g. mattermost",
    }),
    databaseUser: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
        error: "is not a plain PostgreSQL identifier. Use letters, digits and _, e.g. mattermost",
    }),
    databaseSslMode: oneOf(["disable", "require", "verify-ca", "verify-full"]),
    databaseConnectTimeout: integer(1, 300),
    databasePassword: z.string(),
    postgresImage: releaseImage,
    companyCaCertificates: z.string(),
    s3Mode: oneOf(["external", "inCluster"]),
    s3Endpoint: z.string().superRefine((value, context) => {
        if (value.includes("://")) {
            context.addIssue({
                code: "custom",
                message: `"${value}" has a scheme. Give host[:port] only, e.g. s3.example.com:9000; TLS is s3Ssl`,
            });
        } else if (value !== "" && hostAndPortProblem(value, false)) {
            context.addIssue({
                code: "custom",
                message: `${hostAndPortProblem(value, false)}. Give host[:port], e.g. s3.example.com or s3.example.com:9000`,
            });
        }
    }),
    s3Bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        error: "is not a valid bucket name. Use 3 to 63 lower-case letters, digits, '.' and '-'",
    }),
    s3PathPrefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*([A-Za-z0-9._-]+\/?)?$/, {
        error: "is not a key prefix. Use letters, digits, '.', '_', '-' and '/', without a leading '/', e.g. chat/",
    }),
    s3Region: z
        .string()
        .regex(/^([a-z0-9-]+)?$/, { error: "is not a region name. Use e.g. eu-central-1, or leave it empty" }),
    s3Ssl: bool("s3Ssl"),
    s3AccessKeyId: z.string(),
    s3SecretAccessKey: z.string(),
    s3Image: releaseImage,
    elkEndpoint: z.string().superRefine((value, context) => {
        if (value.includes("://")) {
            context.addIssue({
                code: "custom",
                message: `"${value}" has a scheme. Give host:port only, e.g. logs.example.com:9200; TLS is always on`,
            });
        } else if (value !== "" && hostAndPortProblem(value, true)) {
            context.addIssue({
                code: "custom",
                message: `${hostAndPortProblem(value, true)}. Give host:port, e.g. logs.example.com:9200 (Elasticsearch) or logs.example.com:5044 (Logstash)`,
            });
        }
    }),
    elkOutput: oneOf(["elasticsearch", "logstash"]),
    elkUsername: z.string(),
    elkPassword: z.string(),
    filebeatImage: releaseImage,
    localLogin: bool("localLogin"),
    mattermostSsoSessionHours: integer(1, 24 * 365),
    keycloakImage: releaseImage,
    keycloakReplicas: integer(1, 10),
    keycloakCpuRequest: quantity,
    keycloakMemoryRequest: quantity,
    keycloakCpuLimit: quantity,
    keycloakMemoryLimit: quantity,
    keycloakDatabaseMode: oneOf(["external", "inCluster"]),
    keycloakDatabaseHost: z.string().refine((value) => value === "" || isHostName(value) || isIpAddress(value), {
        error: "is not a host name or an IP address. Use the PostgreSQL server's DNS name, or leave it empty for databaseHost's",
    }),
    keycloakDatabasePort: integer(1, 65535),
    keycloakDatabaseName: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
        error: "is not a plain PostgreSQL identifier. Use letters, digits and _, e.g. keycloak",
    }),
    keycloakDatabaseUser: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
        error: "is not a plain PostgreSQL identifier. Use letters, digits and _, e.g. keycloak",
    }),
    keycloakDatabasePassword: z.string(),
    adUrls: stringList.pipe(
        z.array(
            z
                .string()
                .refine(
                    (value) =>
                        /^ldaps?:\/\//.test(value) && !hostAndPortProblem(value.replace(/^ldaps?:\/\//, ""), false),
                    {
                        error: "has an entry that is not an LDAP URL of a host and an optional port from 1 to 65535. Give e.g. ldaps://dc1.corp.example.com:636",
                    },
                ),
        ),
    ),
    adBindDn: z.string(),
    adBindPassword: z.string(),
    adUsersDn: z.string(),
    adUserFilter: z.string().superRefine((value, context) => {
        const problem =
            value === ""
                ? undefined
                : value.startsWith("(")
                  ? ldapFilterProblem(value)
                  : "is not wrapped in parentheses";
        if (problem) {
            context.addIssue({
                code: "custom",
                message: `${problem}, so it is not an LDAP filter. Give e.g. (memberOf=CN=Chat-Users,OU=Groups,DC=corp,DC=example,DC=com)`,
            });
        }
    }),
    adIdAttribute: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9-]*$/, { error: "is not an LDAP attribute name, e.g. employeeID" }),
    testUsers: stringList,
    ssoSessionIdleMinutes: integer(1, 24 * 60),
    ssoSessionMaxHours: integer(1, 24 * 30),
    loginButtonText: z.string().min(1, { error: "is empty. Give the text of the login button, e.g. Log in with AD" }),
    ...customImageFieldSchemas,
    ...pushFieldSchemas,
    ...networkFieldSchemas,
} satisfies Record<ConfigKeyName, z.ZodType>;

/** The keys whose values land in the realm file (config/realm.ts renderRealm). */
const realmBoundKeys = ["adUrls", "adBindDn", "adUsersDn", "adUserFilter", "adIdAttribute", "testUsers"] as const;

/** Namespaces of the providers the program uses, whose keys a stack file may set beside this program's. */
const providerNamespaces = ["pulumi", "kubernetes", "command", "random", "tls"];

/** `team/channel/Display name`, the display name free to hold "/". */
function parseWebhook(entry: string): WebhookDeclaration {
    const [team = "", channel = "", ...name] = entry.split("/");
    return { team, channel, displayName: name.join("/") };
}

/** The cluster's own namespaces: the chat's default-deny policy there would cut off the cluster's own pods. */
/** Every key that names an image the stack runs or builds on (customMattermostImage apart). */
export const imageKeys = [
    "mattermostImage",
    "nginxImage",
    "nodeImage",
    "postgresImage",
    "keycloakImage",
    "s3Image",
    "filebeatImage",
] as const satisfies readonly ConfigKeyName[];

/** The images the stack runs (or, mattermostImage, builds on), by key; pieces it does not run are left out. */
function imagesInUse(f: Fields): (typeof imageKeys)[number][] {
    return imageKeys.filter(
        (key) => (key !== "s3Image" || f.s3Mode === "inCluster") && (key !== "filebeatImage" || f.elkEndpoint !== ""),
    );
}

/**
 * A production stack runs images by digest: a registry can move a tag to other contents, so a tag alone
 * pins nothing. The tag stays beside the digest, for people and for the version rules.
 */
function tagOnlyImageRule(f: Fields): { problems: { key: ConfigKeyName; message: string }[]; warnings: string[] } {
    const tagOnly = imagesInUse(f).filter((key) => parseImage(f[key]).digest === undefined);
    if (tagOnly.length === 0) {
        return { problems: [], warnings: [] };
    }
    if (f.acceptTagOnlyImages) {
        return {
            problems: [],
            warnings: [
                `${fullKey("acceptTagOnlyImages")}: is true, so this production stack runs images by a tag alone, which their registry can move: ${tagOnly.map((key) => `${key} ${f[key]}`).join(", ")}. Add each one's digest ("repository:tag@sha256:<digest>"), then: pulumi config rm acceptTagOnlyImages.`,
            ],
        };
    }
    return {
        problems: tagOnly.map((key) => ({
            key,
            message: `is "${f[key]}", a tag without its digest, and a registry can move a tag to other contents: a production stack runs images by digest. Give "${f[key]}@sha256:<digest>", the digest the registry gives for that tag (e.g. docker buildx imagetools inspect ${f[key]}), or set acceptTagOnlyImages true until you have it`,
        })),
        warnings: [],
    };
}

/** A production stack still holding the example values Pulumi.prod.yaml ships, named at every preview. */
function exampleValueWarnings(raw: RawConfig, certificates: readonly string[]): string[] {
    const warnings: string[] = [];
    const exampleNamed = (Object.keys(configKeys) as ConfigKeyName[]).filter((key) => {
        const value = raw[key];
        return !(configKeys[key] as ConfigKey).secret && value !== undefined && namesExampleDomain(value);
    });
    if (exampleNamed.length > 0) {
        warnings.push(
            `${exampleNamed.map(fullKey).join(", ")}: name hosts under example.com, a domain reserved for examples (as Pulumi.prod.yaml ships them). Replace them with the company's own before the first pulumi up.`,
        );
    }
    if (certificates.some(isExampleCertificate)) {
        warnings.push(
            `${fullKey("companyCaCertificates")}: holds the repository's example CA certificate, whose private key nobody has: no service's certificate is signed by it, so TLS to the company's services would fail. Replace it with the company's CA certificates.`,
        );
    }
    if (raw.pushSshHostKey && isExampleHostKey(raw.pushSshHostKey)) {
        warnings.push(
            `${fullKey("pushSshHostKey")}: is the repository's example host key (its private key was discarded), so the host key check fails against any real push VM. Replace it with the VM's own, read on its console: cat /etc/ssh/ssh_host_ed25519_key.pub.`,
        );
    }
    return warnings;
}

function isSystemNamespace(name: string): boolean {
    return (
        ["default", "kube-system", "kube-public", "kube-node-lease", "openshift"].includes(name) ||
        /^(openshift|kube)-/.test(name)
    );
}

type Fields = { [K in ConfigKeyName]: z.output<(typeof fieldSchemas)[K]> };

function withDefaults(raw: RawConfig): Record<ConfigKeyName, string | undefined> {
    const values = {} as Record<ConfigKeyName, string | undefined>;
    for (const [key, declaration] of Object.entries(configKeys) as [
        ConfigKeyName,
        (typeof configKeys)[ConfigKeyName],
    ][]) {
        const given = raw[key];
        const fallback = "default" in declaration ? declaration.default : undefined;
        values[key] =
            given ??
            (fallback === undefined
                ? undefined
                : typeof fallback === "object"
                  ? JSON.stringify(fallback)
                  : String(fallback));
    }
    return values;
}

/** The license file and the flag agree, and only the Enterprise image takes a license. */
function licenseRules(
    f: Pick<Fields, "mattermostEdition" | "mattermostLicensed">,
    licenseSet: boolean,
    problem: (key: ConfigKeyName, message: string) => void,
    missingSecrets: { key: ConfigKeyName; message: string }[],
): void {
    if (licenseSet && f.mattermostEdition === "team") {
        problem(
            "mattermostLicense",
            "is set, but Team Edition has no licensed features to unlock (its code is the open source part alone). Use the Enterprise image (mattermostEdition enterprise), or remove the license",
        );
    } else if (licenseSet && !f.mattermostLicensed) {
        problem(
            "mattermostLicense",
            "is set, but mattermostLicensed is false, so the checks that depend on a license would judge the stack unlicensed. Set mattermostLicensed true",
        );
    } else if (!licenseSet && f.mattermostLicensed && f.mattermostEdition === "enterprise") {
        missingSecrets.push({
            key: "mattermostLicense",
            message: `${fullKey("mattermostLicense")}: is required with mattermostLicensed true: Mattermost reads the license from it. Set it with: pulumi config set --secret mattermostLicense -- "$(cat company.mattermost-license)"`,
        });
    }
}

/** Mattermost's own defaults (server/public/model/config.go: EmailSMTPDefaultServer, EmailSMTPDefaultPort). */
const defaultSmtpServer = "localhost";
const defaultSmtpPort = "10025";

/**
 * The port of the SMTP server Mattermost sends e-mail to, when that server is outside the pod (and the
 * network policies must let Mattermost reach it); undefined for one in the pod, Mattermost's default.
 */
function smtpDestination(
    settings: MattermostSettings,
    problem: (key: ConfigKeyName, message: string) => void,
): number | undefined {
    const server = settingValue(settings, "EmailSettings.SMTPServer");
    if (typeof server !== "string" || ["", defaultSmtpServer, "127.0.0.1", "::1"].includes(server)) {
        return undefined;
    }
    const port = settingValue(settings, "EmailSettings.SMTPPort") ?? defaultSmtpPort;
    const number = typeof port === "string" && /^\d{1,5}$/.test(port) ? Number(port) : 0;
    if (number < 1 || number > 65535) {
        problem(
            "mattermostSettings",
            `EmailSettings.SMTPPort is ${JSON.stringify(port)}, which is no port, so Mattermost could not reach ${server}. Give the port as text, e.g. EmailSettings.SMTPPort="587"`,
        );
        return undefined;
    }
    return number;
}

/** The one wording of a failed configuration, for `pulumi up` and the offline render alike. */
export function describeProblems(problems: readonly string[]): string {
    return `The stack configuration has ${problems.length} problem(s):\n${problems.map((problem) => `  - ${problem}`).join("\n")}`;
}

/**
 * @param raw the stack's values, as text, by key without the project prefix
 * @param secretKeys the keys whose values are stored encrypted (`secure:`); a declared secret set in
 *   plain text is refused, since it would sit readable in the stack file and in the state
 * @param now when certificates are judged current
 */
export function validateStackConfig(
    raw: RawConfig,
    secretKeys: ReadonlySet<string> = new Set(),
    now: Date = new Date(),
): ValidationResult {
    const errors: string[] = [];
    const warnings: string[] = [];
    const missingSecrets: { key: ConfigKeyName; message: string }[] = [];
    const missingValues: { key: ConfigKeyName; message: string }[] = [];
    const problem = (key: ConfigKeyName, message: string) => errors.push(`${fullKey(key)}: ${message}.`);

    for (const key of Object.keys(raw)) {
        if (key.includes(":")) {
            const [namespace = "", name = ""] = key.split(":");
            if (!providerNamespaces.includes(namespace)) {
                errors.push(
                    `${key}: is under the prefix "${namespace}:", which nothing in this program reads, so it would be ignored. This program's keys are ${fullKey(name)} and the like; providers' are ${providerNamespaces.map((p) => `${p}:`).join(", ")}.`,
                );
            }
        } else if (raw[key] === "null") {
            errors.push(
                `${fullKey(key)}: is null (YAML's null, which Pulumi hands over as the text "null"). Remove the key to take its default, or quote a real value.`,
            );
        } else if (key in retiredKeys) {
            errors.push(`${fullKey(key)}: is no longer a setting: ${retiredKeys[key]}. Remove it from the stack file.`);
        } else if (!(key in configKeys)) {
            errors.push(
                `${fullKey(key)}: is not a setting of this program. Remove it, or see the configuration reference in the README for the keys there are.`,
            );
        }
    }

    for (const [key, declaration] of Object.entries(configKeys) as [ConfigKeyName, ConfigKey][]) {
        // An empty map holds no secret, whether encrypted or not.
        if (declaration.secret && raw[key] && raw[key] !== "{}" && !secretKeys.has(key)) {
            problem(
                key,
                declaration.type === "map"
                    ? `is stored in plain text in the stack file. Remove it and set each value encrypted: pulumi config set --secret --path '${key}["<Section.Key>"]' <value>`
                    : `is stored in plain text in the stack file. Remove it and set it with: pulumi config set --secret ${key}`,
            );
        } else if (!declaration.secret && secretKeys.has(key)) {
            problem(
                key,
                `is stored encrypted, but it is no secret: the program uses it as plain text, in manifests and outputs that are not secret. Set it in plain text: pulumi config set ${key} <value>`,
            );
        }
    }

    for (const key of realmBoundKeys) {
        if (raw[key]?.includes("$(") || raw[key]?.includes("${")) {
            problem(
                key,
                "holds $( or ${, which mark the secrets the realm file refers to ($(env:NAME), filled in by the apply job) and Keycloak's vault references (${vault.key}). No value of AD or of the test users has them; remove them",
            );
        }
    }

    // A null is reported above; its key then takes its default rather than fail again as "null".
    const values = withDefaults(Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== "null")));
    const fields: Partial<Fields> = {};
    for (const key of Object.keys(fieldSchemas) as ConfigKeyName[]) {
        const value = values[key];
        if (value === undefined) {
            problem(key, `is required. ${configKeys[key].description} Set it with: pulumi config set ${key} <value>`);
            continue;
        }
        const parsed = fieldSchemas[key].safeParse(value);
        if (parsed.success) {
            (fields as Record<string, unknown>)[key] = parsed.data;
        } else {
            // Messages that do not quote the value get it in front; a secret value is never shown.
            const shown = "secret" in configKeys[key] || value === "" ? "" : `${JSON.stringify(value)} `;
            for (const issue of parsed.error.issues) {
                problem(key, issue.message.startsWith('"') ? issue.message : `${shown}${issue.message}`);
            }
        }
    }

    const f = fields as Fields;
    const has = (...keys: ConfigKeyName[]) => keys.every((key) => key in fields);

    // The edition rule (DESIGN decision 1).
    let version: Version | undefined;
    if (has("mattermostImage", "mattermostVersion")) {
        version = parseVersion(f.mattermostVersion || (parseImage(f.mattermostImage).tag ?? ""));
        if (!version) {
            problem(
                "mattermostVersion",
                "is empty and the image tag is not a version, so the edition rules cannot be checked. Set it to the release the image contains, e.g. pulumi config set mattermostVersion 11.6.1",
            );
        }
    }
    if (has("mattermostUpgradeFrom") && f.mattermostUpgradeFrom) {
        warnings.push(
            `${fullKey("mattermostUpgradeFrom")}: is set (${f.mattermostUpgradeFrom}), so the upgrade check starts from it instead of the release this stack last deployed. Remove it once this pulumi up has passed: pulumi config rm mattermostUpgradeFrom`,
        );
    }
    if (has("mattermostImage", "mattermostEdition")) {
        const repository = parseImage(f.mattermostImage).repository;
        const named = repository.endsWith("mattermost-team-edition")
            ? "team"
            : repository.endsWith("mattermost-enterprise-edition")
              ? "enterprise"
              : undefined;
        if (named && named !== f.mattermostEdition) {
            problem(
                "mattermostEdition",
                `is "${f.mattermostEdition}" but mattermostImage is the ${named} edition image (${repository}). Set mattermostEdition to "${named}", or use the matching image`,
            );
        }
    }
    if (version && has("mattermostEdition", "ssoMode", "mattermostLicensed")) {
        const shown = formatVersion(version);
        if (f.ssoMode === "gitlab") {
            const gitlabFree = version.major < 11;
            if (f.mattermostEdition === "team" && !gitlabFree) {
                problem(
                    "ssoMode",
                    `is "gitlab", but Team Edition ${shown} has no GitLab SSO (it left Team Edition in v11.0). Either pin Team Edition 10.11 ESR (mattermostImage mattermost/mattermost-team-edition:10.11.x, past end of support since ${esr1011EndOfSupport}), or move to the Enterprise image (mattermostEdition enterprise) with ssoMode "openid" (free Entry) or with a license (mattermostLicensed true) to keep "gitlab"`,
                );
            } else if (f.mattermostEdition === "enterprise" && !gitlabFree && !f.mattermostLicensed) {
                problem(
                    "ssoMode",
                    `is "gitlab", but GitLab SSO needs a Professional or Enterprise license from v11 (${shown} unlicensed runs as Entry). Set ssoMode to "openid", or install a license and set mattermostLicensed true`,
                );
            } else if (gitlabFree && !f.mattermostLicensed) {
                warnings.push(
                    `${fullKey("mattermostImage")}: Mattermost ${shown} with GitLab SSO is the 10.11 ESR line, past end of support since ${esr1011EndOfSupport}: no more security fixes. Plan the move to the Enterprise image with ssoMode "openid" (README, "Which Mattermost, which login").`,
                );
            }
        } else if (f.mattermostEdition === "team") {
            problem(
                "ssoMode",
                `is "openid", but Team Edition has no OpenID Connect login. Use the Enterprise image (mattermostImage mattermost/mattermost-enterprise-edition:<version>, mattermostEdition enterprise), or ssoMode "gitlab" with Team Edition 10.11`,
            );
        }
        licenseRules(f, Boolean(raw.mattermostLicense), problem, missingSecrets);
        if (f.mattermostEdition === "enterprise" && !f.mattermostLicensed) {
            warnings.push(
                `${fullKey("mattermostEdition")}: the Enterprise image without a license runs as Mattermost Entry: message history visible up to the last 10,000 messages, no high availability, no compliance features; Mattermost describes it for teams under 50 users. Buy a license (mattermostLicense, mattermostLicensed true) before relying on it company-wide.`,
            );
        }
    }

    // Mattermost settings: base config.json plus the stack's overrides.
    let settings: MattermostSettings | undefined;
    const release = version ? releaseSettings[releaseLine(version)] : undefined;
    if (version && !release) {
        problem(
            f.mattermostVersion ? "mattermostVersion" : "mattermostImage",
            `is Mattermost ${formatVersion(version)}, whose settings this program does not know (it knows ${Object.keys(releaseSettings).join(", ")}), so mattermostSettings cannot be checked. Pin one of those, or add the release: npm install --save-dev --save-exact mattermost-types-${releaseLine(version)}@npm:@mattermost/types@<its version>, import its file in config/mattermostSchema.ts and run npm run -s settings-schema`,
        );
    }
    if (release && has("mattermostSettings", "mattermostWeakerSettings", "production")) {
        const outcome = validateMattermostSettings(
            release,
            f.mattermostSettings,
            f.production,
            f.mattermostWeakerSettings,
        );
        settings = outcome.settings;
        for (const { key, message } of outcome.problems) {
            if (key === "base") {
                errors.push(message);
            } else {
                problem(key, message);
            }
        }
    }

    if (has("platform", "edgeAnnotations")) {
        for (const message of edgeAnnotationProblems(f.platform, f.edgeAnnotations)) {
            problem("edgeAnnotations", message);
        }
    }
    if (release && has("mattermostSecretSettings")) {
        for (const message of secretSettingsProblems(release, f.mattermostSecretSettings)) {
            problem("mattermostSecretSettings", message);
        }
    }

    if (
        has("mattermostLicensed", "mattermostEdition", "pushNotificationContents") &&
        f.pushNotificationContents === "id_loaded" &&
        (f.mattermostEdition !== "enterprise" || !f.mattermostLicensed)
    ) {
        problem(
            "pushNotificationContents",
            '"id_loaded" needs a licensed Enterprise edition. Use "full", "generic" or "generic_no_channel", or install a license and set mattermostLicensed true',
        );
    }

    // Push notifications: the proxy VM.
    const pushKeys = Object.keys(pushFieldSchemas) as (keyof typeof pushFieldSchemas)[];
    const push = has(...pushKeys)
        ? validatePush(f, (key) => Boolean(raw[key]), {
              problem,
              missingSecret: (key, message) => missingSecrets.push({ key, message }),
              missingValue: (key, message) => missingValues.push({ key, message }),
          })
        : undefined;
    // Trust: the company's CAs.
    let companyCaCertificates: readonly string[] = [];
    if (has("companyCaCertificates")) {
        const parsed = parseCaCertificates(f.companyCaCertificates, now);
        companyCaCertificates = parsed.certificates;
        for (const message of parsed.problems) {
            problem("companyCaCertificates", message);
        }
    }
    if (has("production") && f.production) {
        warnings.push(...exampleValueWarnings(raw, companyCaCertificates));
    }
    const privateCaInUse = companyCaCertificates.length > 0 || (has("s3Mode") && f.s3Mode === "inCluster");
    if (settings && settingValue(settings, "ServiceSettings.EnableInsecureOutgoingConnections") === true) {
        if (has("production") && f.production) {
            problem(
                "mattermostSettings",
                "ServiceSettings.EnableInsecureOutgoingConnections=true turns off TLS verification for every outgoing call (S3, push proxy, Keycloak, webhooks) and is refused in a production stack. Trust the private CA instead, or mark the stack production false if it really is a test stack",
            );
        } else if (privateCaInUse) {
            problem(
                "mattermostSettings",
                "ServiceSettings.EnableInsecureOutgoingConnections=true while a private CA is configured: the CA is in the trust bundle of every pod, so verification works and must stay on. Remove the override",
            );
        }
    }

    // File storage.
    if (has("production", "acceptTagOnlyImages", "s3Mode", "elkEndpoint", ...imageKeys) && f.production) {
        const rule = tagOnlyImageRule(f);
        rule.problems.forEach(({ key, message }) => problem(key, message));
        warnings.push(...rule.warnings);
    }
    if (has("s3Mode", "production") && f.s3Mode === "inCluster" && f.production) {
        problem(
            "s3Mode",
            "is inCluster in a production stack: its files live on an emptyDir and are lost whenever the pod restarts. Use the company S3 service (s3Mode external with s3Endpoint)",
        );
    }
    if (has("s3Mode", "s3Endpoint", "s3Ssl", "production") && f.s3Mode === "external") {
        if (f.s3Endpoint === "") {
            problem(
                "s3Endpoint",
                "is required with s3Mode external. Set it to the S3 service's host[:port]: pulumi config set s3Endpoint <host>",
            );
        }
        if (!f.s3Ssl && f.production) {
            problem(
                "s3Ssl",
                "is false in a production stack: files and keys would cross the network in clear text. Set it true and trust the service's CA with companyCaCertificates",
            );
        }
        if (Boolean(raw.s3AccessKeyId) !== Boolean(raw.s3SecretAccessKey)) {
            const missing = raw.s3AccessKeyId ? "s3SecretAccessKey" : "s3AccessKeyId";
            missingSecrets.push({
                key: missing,
                message: `${fullKey(missing)}: is required once the other S3 key is set (or leave both empty to use the pod's IAM identity). Set it with: pulumi config set --secret ${missing}`,
            });
        }
    }

    // Log shipping.
    if (has("elkEndpoint", "elkUsername") && f.elkEndpoint !== "" && f.elkUsername !== "" && !raw.elkPassword) {
        missingSecrets.push({
            key: "elkPassword",
            message: `${fullKey("elkPassword")}: is required with elkUsername and is not set. Set it with: pulumi config set --secret elkPassword`,
        });
    }

    // Identity: Keycloak, its database, Active Directory or test users.
    if (has("keycloakDatabaseMode", "production") && f.keycloakDatabaseMode === "inCluster" && f.production) {
        problem(
            "keycloakDatabaseMode",
            "is inCluster in a production stack: Keycloak's data (realm, users, sessions) lives on an emptyDir and is lost whenever the pod restarts. Use the company PostgreSQL (keycloakDatabaseMode external)",
        );
    }
    if (has("keycloakDatabaseMode", "keycloakDatabaseHost", "databaseHost") && f.keycloakDatabaseMode === "external") {
        if (f.keycloakDatabaseHost === "" && f.databaseHost === "") {
            problem(
                "keycloakDatabaseHost",
                "is required with keycloakDatabaseMode external (databaseHost, its fallback, is empty too). Set it: pulumi config set keycloakDatabaseHost <host>",
            );
        }
        if (!raw.keycloakDatabasePassword) {
            missingSecrets.push({
                key: "keycloakDatabasePassword",
                message: `${fullKey("keycloakDatabasePassword")}: is required with keycloakDatabaseMode external and is not set. Set it with: pulumi config set --secret keycloakDatabasePassword`,
            });
        }
    }
    let directory: ActiveDirectorySettings | undefined;
    if (has("adUrls", "adBindDn", "adUsersDn", "adUserFilter", "adIdAttribute", "production") && f.adUrls.length > 0) {
        if (f.production && f.adUrls.some((url) => url.startsWith("ldap://"))) {
            problem(
                "adUrls",
                "has an ldap:// URL in a production stack: AD passwords would cross the network in clear text. Use ldaps:// (port 636) and trust the domain's CA with companyCaCertificates",
            );
        }
        if (f.adBindDn === "") {
            problem(
                "adBindDn",
                "is required with adUrls. Set the service account Keycloak binds as: pulumi config set adBindDn <dn>",
            );
        }
        if (f.adUsersDn === "") {
            problem(
                "adUsersDn",
                "is required with adUrls. Set where the users live: pulumi config set adUsersDn OU=Staff,DC=corp,DC=example,DC=com",
            );
        }
        if (!raw.adBindPassword) {
            missingSecrets.push({
                key: "adBindPassword",
                message: `${fullKey("adBindPassword")}: is required with adUrls and is not set. Set it with: pulumi config set --secret adBindPassword`,
            });
        }
        directory = {
            urls: f.adUrls,
            bindDn: f.adBindDn,
            usersDn: f.adUsersDn,
            userFilter: f.adUserFilter || undefined,
            idAttribute: f.adIdAttribute,
        };
    }
    const testUsers: TestUser[] = [];
    if (has("testUsers", "production", "adUrls")) {
        for (const entry of f.testUsers) {
            const match = /^([a-z0-9._-]+):([1-9][0-9]{0,17}):([^:@\s]+@[^:@\s]+):(.+)$/.exec(entry);
            if (!match) {
                problem(
                    "testUsers",
                    `entry ${JSON.stringify(entry)} is not username:id:email:Full Name with a positive numeric id, e.g. alice:1001:alice@example.com:Alice Example`,
                );
                continue;
            }
            const [, username, id, email, name] = match as unknown as [string, string, string, string, string];
            if (testUsers.some((user) => user.username === username || user.id === id || user.email === email)) {
                problem(
                    "testUsers",
                    `entry ${JSON.stringify(entry)} repeats a username, id or email of another entry; each must be unique, as Mattermost links accounts by the id`,
                );
                continue;
            }
            testUsers.push({ username, id, email, name });
        }
        if (f.production && testUsers.length > 0) {
            problem(
                "testUsers",
                "is set in a production stack: local accounts would bypass Active Directory. Remove them and use adUrls",
            );
        }
        if (f.production && f.adUrls.length === 0) {
            problem(
                "adUrls",
                "is empty in a production stack, so nobody could log in. Set the domain controllers: pulumi config set --path 'adUrls[0]' ldaps://dc1.corp.example.com:636",
            );
        }
    }

    // Database.
    if (has("databaseMode", "production") && f.databaseMode === "inCluster" && f.production) {
        problem(
            "databaseMode",
            "is inCluster in a production stack: its data lives on an emptyDir and is lost whenever the pod restarts. Use the company PostgreSQL (databaseMode external with databaseHost and databasePassword)",
        );
    }
    if (has("databaseMode", "databaseHost") && f.databaseMode === "external") {
        if (f.databaseHost === "") {
            problem(
                "databaseHost",
                "is required with databaseMode external. Set it to the PostgreSQL host name: pulumi config set databaseHost <host>",
            );
        }
        if (!raw.databasePassword) {
            missingSecrets.push({
                key: "databasePassword",
                message: `${fullKey("databasePassword")}: is required with databaseMode external and is not set. Set it with: pulumi config set --secret databasePassword`,
            });
        }
    }

    const webhooks = has("incomingWebhooks") ? f.incomingWebhooks.map(parseWebhook) : [];
    for (const message of webhookProblems(webhooks)) {
        problem("incomingWebhooks", message);
    }
    for (const prefix of ["mattermost", "nginx", "keycloak"] as const) {
        for (const resource of ["Cpu", "Memory"] as const) {
            const [request, limit] = [`${prefix}${resource}Request`, `${prefix}${resource}Limit`] as const;
            if (has(request, limit) && quantityValue(f[request]) > quantityValue(f[limit])) {
                problem(
                    request,
                    `is ${f[request]}, above ${fullKey(limit)} ${f[limit]}, which Kubernetes refuses. Lower the request or raise the limit`,
                );
            }
        }
    }
    if (has("incomingWebhooks") && f.incomingWebhooks.length > 0 && !raw.mattermostAdminToken) {
        warnings.push(
            `${fullKey("incomingWebhooks")}: is set but mattermostAdminToken is not, so the webhooks are not created yet. Set the token once Mattermost runs: pulumi config set --secret mattermostAdminToken`,
        );
    }
    if (
        has("deprovisionSchedule", "deprovisionAcceptDirectorySize") &&
        f.deprovisionSchedule &&
        f.deprovisionAcceptDirectorySize
    ) {
        warnings.push(
            `${fullKey("deprovisionAcceptDirectorySize")}: is set, so the deprovisioning job accepts a directory of exactly ${f.deprovisionAcceptDirectorySize} enabled people however far it shrank. Unset it once the job has run: pulumi config rm deprovisionAcceptDirectorySize`,
        );
    }
    if (has("deprovisionSchedule") && f.deprovisionSchedule && !raw.mattermostAdminToken) {
        warnings.push(
            `${fullKey("mattermostAdminToken")}: is not set, so the deprovisioning job is created suspended: people disabled in AD keep their Mattermost sessions. Once Mattermost runs, make the token with the commands of the stack output adminTokenCommands (README, section The admin token) and set it: pulumi config set --secret mattermostAdminToken`,
        );
    }

    // The image: plugins and web-client text baked in, and the build the stack points at.
    const image = has(
        "mattermostImage",
        "nodeImage",
        "mattermostVersion",
        "mattermostPlugins",
        "webClientReplacements",
        "customMattermostImage",
    )
        ? validateCustomImage(f, {
              problem,
              missingValue: (key, message) => missingValues.push({ key, message }),
          })
        : undefined;

    // Network policies: where the services outside the cluster are.
    const networkKeys = Object.keys(networkFieldSchemas) as (keyof typeof networkFieldSchemas)[];
    const network =
        has(...networkKeys) &&
        has("databaseMode", "keycloakDatabaseMode", "databasePort", "keycloakDatabasePort", "s3Mode", "s3Endpoint") &&
        has("s3Ssl", "adUrls", "elkEndpoint")
            ? validateNetwork(
                  f,
                  {
                      databasePorts: [
                          ...(f.databaseMode === "external" ? [f.databasePort] : []),
                          ...(f.keycloakDatabaseMode === "external" ? [f.keycloakDatabasePort] : []),
                      ],
                      s3Port: f.s3Mode === "external" ? portOf(f.s3Endpoint, f.s3Ssl ? 443 : 80) : undefined,
                      adPorts: f.adUrls.map((url) => portOf(url, url.startsWith("ldaps:") ? 636 : 389)),
                      elkPort: f.elkEndpoint ? portOf(f.elkEndpoint, 443) : undefined,
                      pushHost: push ? { address: push.hostIsAddress ? push.host : undefined } : undefined,
                      smtpPort: settings ? smtpDestination(settings, problem) : undefined,
                  },
                  problem,
              )
            : undefined;

    if (errors.length > 0 || !version || !settings || !image) {
        return { errors, warnings, missingSecrets, missingValues };
    }

    const resources = (prefix: "mattermost" | "nginx" | "keycloak"): Resources => ({
        requests: { cpu: f[`${prefix}CpuRequest`], memory: f[`${prefix}MemoryRequest`] },
        limits: { cpu: f[`${prefix}CpuLimit`], memory: f[`${prefix}MemoryLimit`] },
    });
    const database: DatabaseSettings =
        f.databaseMode === "inCluster"
            ? { mode: "inCluster", name: f.databaseName, user: f.databaseUser }
            : {
                  mode: "external",
                  host: f.databaseHost,
                  port: f.databasePort,
                  name: f.databaseName,
                  user: f.databaseUser,
                  sslMode: f.databaseSslMode,
                  connectTimeout: f.databaseConnectTimeout,
              };
    // Public images through the mirror, when there is one; the custom image from where it was pushed.
    const pulled = (reference: string) => mirroredImage(reference, f.imageRegistryMirror);
    const fileStorage: FileStorageSettings =
        f.s3Mode === "inCluster"
            ? { mode: "inCluster", image: pulled(f.s3Image), bucket: f.s3Bucket, pathPrefix: f.s3PathPrefix }
            : {
                  mode: "external",
                  endpoint: f.s3Endpoint,
                  bucket: f.s3Bucket,
                  pathPrefix: f.s3PathPrefix,
                  region: f.s3Region,
                  ssl: f.s3Ssl,
                  hasCredentials: Boolean(raw.s3AccessKeyId),
              };
    const siteUrl = `https://${f.hostname}`;
    return {
        errors,
        warnings,
        missingSecrets,
        missingValues,
        settings: {
            production: f.production,
            platform: f.platform,
            namespace: f.namespace,
            createNamespace: f.createNamespace,
            kubeContext: f.kubeContext || undefined,
            hostname: f.hostname,
            siteUrl,
            mattermost: {
                image: f.customMattermostImage ? image.image : pulled(image.image),
                build: image.build,
                edition: f.mattermostEdition,
                version: formatVersion(version),
                versionKey: f.mattermostVersion ? "mattermostVersion" : "mattermostImage",
                upgradeFrom: f.mattermostUpgradeFrom
                    ? formatVersion(parseVersion(f.mattermostUpgradeFrom)!)
                    : undefined,
                licensed: f.mattermostLicensed,
                ssoMode: f.ssoMode,
                secretSettings: Object.keys(f.mattermostSecretSettings).sort(),
                settings: applyOverrides(settings, [
                    { section: "ServiceSettings", key: "SiteURL", value: siteUrl },
                    ...fileStorageSettings(fileStorage, f.namespace),
                    ...loginSettings(siteUrl, f.ssoMode, f.localLogin, f.mattermostSsoSessionHours, f.loginButtonText),
                    ...pluginSettingsOverrides(image.build.plugins),
                    // The server's URL holds the secret prefix, so it goes into the Secret; without a
                    // push host it is emptied, as Mattermost would otherwise use its public test service.
                    { section: "EmailSettings", key: "SendPushNotifications", value: push !== undefined },
                    ...(push ? [] : [{ section: "EmailSettings", key: "PushNotificationServer", value: "" }]),
                    { section: "EmailSettings", key: "PushNotificationContents", value: f.pushNotificationContents },
                    ...(f.elkEndpoint
                        ? [
                              {
                                  section: "LogSettings",
                                  key: "AdvancedLoggingJSON",
                                  value: mattermostFileTarget() as SettingValue,
                              },
                          ]
                        : []),
                ]),
                resources: resources("mattermost"),
            },
            nginx: {
                image: pulled(f.nginxImage),
                guardImage: pulled(f.nodeImage),
                replicas: f.nginxReplicas,
                resources: resources("nginx"),
                dnsResolver:
                    f.dnsResolver ||
                    (f.platform === "openshift"
                        ? "dns-default.openshift-dns.svc.cluster.local"
                        : "kube-dns.kube-system.svc.cluster.local"),
                maxBodyBytes: settingValue(settings, "FileSettings.MaxFileSize") as number,
            },
            ingress: {
                className: f.ingressClassName || undefined,
                tlsSecretName: f.ingressTlsSecretName || undefined,
                annotations: f.edgeAnnotations,
            },
            identity: {
                image: pulled(f.keycloakImage),
                applyImage: pulled(f.nodeImage),
                replicas: f.keycloakReplicas,
                resources: resources("keycloak"),
                database:
                    f.keycloakDatabaseMode === "inCluster"
                        ? { mode: "inCluster", name: f.keycloakDatabaseName, user: f.keycloakDatabaseUser }
                        : {
                              mode: "external",
                              host: f.keycloakDatabaseHost || f.databaseHost,
                              port: f.keycloakDatabasePort,
                              name: f.keycloakDatabaseName,
                              user: f.keycloakDatabaseUser,
                              sslMode: f.databaseSslMode,
                              connectTimeout: f.databaseConnectTimeout,
                          },
                directory,
                testUsers,
                ssoSessionIdleMinutes: f.ssoSessionIdleMinutes,
                ssoSessionMaxHours: f.ssoSessionMaxHours,
            },
            database,
            postgresImage: pulled(f.postgresImage),
            pods: {
                imagePullSecrets: f.imagePullSecrets,
                scheduling: schedulingByGroup(f.podScheduling, f.production),
            },
            fileStorage,
            companyCaCertificates,
            logShipping: f.elkEndpoint
                ? {
                      output: f.elkOutput,
                      endpoint: f.elkEndpoint,
                      username: f.elkUsername || undefined,
                      image: pulled(f.filebeatImage),
                  }
                : undefined,
            push,
            network,
            integrations: {
                incomingWebhooks: webhooks,
                creators: f.integrationCreators,
                hasToken: Boolean(raw.mattermostAdminToken),
            },
            deprovision: f.deprovisionSchedule
                ? {
                      schedule: f.deprovisionSchedule,
                      image: pulled(f.nodeImage),
                      allowList: f.deprovisionAllowList,
                      dryRun: f.deprovisionDryRun,
                      maxPerRun: f.deprovisionMaxPerRun,
                      maxFractionPerRun: f.deprovisionMaxPercentPerRun / 100,
                      maxDirectoryShrink: f.deprovisionMaxDirectoryShrinkPercent / 100,
                      acceptDirectorySize: f.deprovisionAcceptDirectorySize
                          ? Number(f.deprovisionAcceptDirectorySize)
                          : undefined,
                      hasToken: Boolean(raw.mattermostAdminToken),
                  }
                : undefined,
        },
    };
}

/**
 * How people log in (DESIGN decision 1): Keycloak as GitLab or as an OpenID Connect provider, at the
 * realm's public URLs for browser and back-channel alike (one issuer); the client secret is a secret.
 */
function loginSettings(
    siteUrl: string,
    mode: "gitlab" | "openid",
    localLogin: boolean,
    ssoHours: number,
    buttonText: string,
): SettingOverride[] {
    const endpoints = realmEndpoints(siteUrl);
    const setting = (section: string, key: string, value: string | boolean | number): SettingOverride => ({
        section,
        key,
        value,
    });
    const sso =
        mode === "gitlab"
            ? [
                  setting("GitLabSettings", "Enable", true),
                  setting("GitLabSettings", "Id", mattermostClientId),
                  // Empty on purpose: "openid" here would switch Mattermost to its OpenID provider.
                  setting("GitLabSettings", "Scope", ""),
                  setting("GitLabSettings", "AuthEndpoint", endpoints.authorization),
                  setting("GitLabSettings", "TokenEndpoint", endpoints.token),
                  setting("GitLabSettings", "UserAPIEndpoint", endpoints.userinfo),
                  setting("GitLabSettings", "ButtonText", buttonText),
              ]
            : [
                  setting("OpenIdSettings", "Enable", true),
                  setting("OpenIdSettings", "Id", mattermostClientId),
                  setting("OpenIdSettings", "DiscoveryEndpoint", endpoints.discovery),
                  setting("OpenIdSettings", "ButtonText", buttonText),
              ];
    return [
        ...sso,
        setting("EmailSettings", "EnableSignUpWithEmail", false),
        setting("EmailSettings", "EnableSignInWithEmail", localLogin),
        setting("EmailSettings", "EnableSignInWithUsername", localLogin),
        setting("TeamSettings", "EnableOpenServer", false),
        setting("ServiceSettings", "SessionLengthSSOInHours", ssoHours),
    ];
}

/**
 * Mattermost's FileSettings for the store, apart from the keys, which are secrets.
 */
function fileStorageSettings(storage: FileStorageSettings, namespace: string): SettingOverride[] {
    const file = (key: string, value: string | boolean): SettingOverride => ({ section: "FileSettings", key, value });
    return [
        file("DriverName", "amazons3"),
        file("AmazonS3Bucket", storage.bucket),
        file("AmazonS3PathPrefix", storage.pathPrefix),
        file("AmazonS3SignV2", false),
        ...(storage.mode === "external"
            ? [
                  file("AmazonS3Endpoint", storage.endpoint),
                  file("AmazonS3SSL", storage.ssl),
                  file("AmazonS3Region", storage.region),
              ]
            : [
                  file("AmazonS3Endpoint", inClusterS3Endpoint(namespace)),
                  file("AmazonS3SSL", true),
                  file("AmazonS3Region", ""),
              ]),
    ];
}
