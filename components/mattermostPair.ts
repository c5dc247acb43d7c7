import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { mattermostUid } from "../config/customImage";
import { flattenSettings, type MattermostSettings } from "../config/mattermostSettings";
import { mattermostLogDirectory } from "../config/filebeat";
import { goTrustEnvironment } from "../config/trust";
import type { Resources } from "../config/validate";
import {
    containerResources,
    labels,
    lasting,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    scratchVolumes,
    securityExceptions,
    selectorLabels,
    sharedPodSpec,
    uniqueVolumes,
} from "./meta";
import type { LogShipping } from "./logShipping";
import type { TrustBundle } from "./trustBundle";
import type { PodDefaults } from "../config/registry";
import { schemaMigrationJob } from "./schemaMigration";

export const mattermostPairType = "mattermost:k8s:MattermostPair";

export interface MattermostPairArgs {
    readonly namespace: pulumi.Input<string>;
    /** What every pod of the stack gets: the registries' pull secrets. */
    readonly pods?: PodDefaults;
    readonly platform: "kubernetes" | "openshift";
    /** Production makes the anti-affinity between the two pods required instead of preferred. */
    readonly production: boolean;
    /** Pinned Mattermost image. */
    readonly image: string;
    /** The merged, validated settings; secret ones never come this way. */
    readonly settings: MattermostSettings;
    /** `postgres://` URL of the database (a secret): the config store (MM_CONFIG) and the data source. */
    readonly databaseUrl: pulumi.Input<string>;
    readonly resources: Resources;
    /** Where the database listens, and a pinned PostgreSQL image whose pg_isready waits for it. */
    readonly databaseWait: { readonly host: pulumi.Input<string>; readonly port: number; readonly image: string };
    /** S3 keys (secrets); absent when the pods use their IAM identity. */
    readonly fileStoreCredentials?: {
        readonly accessKeyId: pulumi.Input<string>;
        readonly secretAccessKey: pulumi.Input<string>;
    };
    /** The secret of the Keycloak client Mattermost logs in with, for the chosen mode. */
    readonly sso: { readonly mode: "gitlab" | "openid"; readonly clientSecret: pulumi.Input<string> };
    /** The license file's text, which Mattermost reads from MM_LICENSE before any uploaded one. */
    readonly license?: pulumi.Input<string>;
    /** The stack's secret settings (mattermostSecretSettings), by their `MM_*` variable. */
    readonly secretSettings?: Readonly<Record<string, pulumi.Input<string>>>;
    /** https://<push host>/<secret prefix> (a secret); absent: push notifications are off. */
    readonly pushNotificationServer?: pulumi.Input<string>;
    /** The CAs to trust next to the public roots: S3, the database, Keycloak, the push proxy. */
    readonly trustBundle?: TrustBundle;
    /** Absent: logs stay on the console and no sidecar runs. */
    readonly logShipping?: LogShipping;
}

export const httpPort = 8065;
/** Up to 20 minutes of pg_isready, every 2 s; only the host and port are in the environment, no secret. */
export const waitForDatabaseScript =
    'for attempt in $(seq 1 300); do pg_isready -q -h "$DATABASE_HOST" -p "$DATABASE_PORT" -t 2 && exit 0; sleep 2; done; ' +
    'echo "database $DATABASE_HOST:$DATABASE_PORT did not answer" >&2; exit 1';
/** The label both pods share, for anti-affinity and the disruption budget. */
export const pairLabel = { "mattermost-platform/pair": "mattermost" };

export interface PairMember {
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;
}

/**
 * Team Edition has no clustering, so high availability is a primary and a backup (DESIGN decision 3):
 * two one-replica Deployments with a Service each, one ConfigMap of `MM_*` settings and one Secret,
 * both auto-named so that any change replaces them and rolls both pods. The backup never runs jobs and
 * is rolled, and ready, before the primary is touched.
 */
export class MattermostPair extends pulumi.ComponentResource {
    public readonly primary: PairMember;
    public readonly backup: PairMember;
    /** Fixed Service names, for nginx's upstream block. */
    public readonly primaryServiceName: string;
    public readonly backupServiceName: string;
    /** The Job that migrates the schema with the pair's image before either pod rolls. */
    public readonly schemaMigration: k8s.batch.v1.Job;
    /** Its pods' labels, for the network policy that lets them reach the database. */
    public readonly schemaMigrationSelector: Readonly<Record<string, string>>;

    constructor(name: string, args: MattermostPairArgs, opts?: pulumi.ComponentResourceOptions) {
        super(mattermostPairType, name, {}, opts);

        const settings = new k8s.core.v1.ConfigMap(
            `${name}-settings`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "chat-server") },
                data: flattenSettings(args.settings),
            },
            { parent: this },
        );

        // Generated once and shared by both pods, instead of each server inventing its own on first start.
        const atRestEncryptKey = new random.RandomPassword(
            `${name}-at-rest-encrypt-key`,
            { length: 48, special: false },
            lasting(this, args.production),
        );
        const publicLinkSalt = new random.RandomPassword(
            `${name}-public-link-salt`,
            { length: 48, special: false },
            lasting(this, args.production),
        );
        const secrets = new k8s.core.v1.Secret(
            `${name}-secrets`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "chat-server") },
                stringData: {
                    // First, so that no name of the stack's can take the place of one the program sets.
                    ...args.secretSettings,
                    MM_CONFIG: args.databaseUrl,
                    MM_FILESETTINGS_PUBLICLINKSALT: publicLinkSalt.result,
                    MM_SQLSETTINGS_ATRESTENCRYPTKEY: atRestEncryptKey.result,
                    MM_SQLSETTINGS_DATASOURCE: args.databaseUrl,
                    [args.sso.mode === "gitlab" ? "MM_GITLABSETTINGS_SECRET" : "MM_OPENIDSETTINGS_SECRET"]:
                        args.sso.clientSecret,
                    ...(args.fileStoreCredentials
                        ? {
                              MM_FILESETTINGS_AMAZONS3ACCESSKEYID: args.fileStoreCredentials.accessKeyId,
                              MM_FILESETTINGS_AMAZONS3SECRETACCESSKEY: args.fileStoreCredentials.secretAccessKey,
                          }
                        : {}),
                    ...(args.license ? { MM_LICENSE: args.license } : {}),
                    ...(args.pushNotificationServer
                        ? { MM_EMAILSETTINGS_PUSHNOTIFICATIONSERVER: args.pushNotificationServer }
                        : {}),
                },
            },
            { parent: this },
        );

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-service-account`,
            {
                metadata: { name, namespace: args.namespace, labels: labels(name, "chat-server") },
                automountServiceAccountToken: false,
            },
            { parent: this },
        );
        const podPrerequisites: pulumi.Resource[] = [serviceAccount];
        if (args.platform === "openshift") {
            // OpenShift's default restricted-v2 SCC assigns a random uid, but the image's files belong to
            // uid 2000 and Mattermost rewrites client/root.html at start. nonroot-v2 admits uid 2000 while
            // keeping every other restriction (no root, no privilege escalation, all capabilities dropped).
            podPrerequisites.push(
                new k8s.rbac.v1.RoleBinding(
                    `${name}-scc-nonroot-v2`,
                    {
                        metadata: {
                            name: `${name}-scc-nonroot-v2`,
                            namespace: args.namespace,
                            labels: labels(name, "chat-server"),
                        },
                        roleRef: {
                            apiGroup: "rbac.authorization.k8s.io",
                            kind: "ClusterRole",
                            name: "system:openshift:scc:nonroot-v2",
                        },
                        subjects: [
                            { kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: args.namespace },
                        ],
                    },
                    { parent: this },
                ),
            );
        }

        // Fixed names, so nginx can address the Services before anything is deployed.
        const memberNameOf = (index: 1 | 2) => `${name}-${index}`;
        this.primaryServiceName = memberNameOf(1);
        this.backupServiceName = memberNameOf(2);

        const trustEnvironment = args.trustBundle
            ? Object.entries(goTrustEnvironment).map(([envName, value]) => ({ name: envName, value }))
            : [];
        const trustMounts = args.trustBundle ? [args.trustBundle.volumeMount()] : [];
        const trustVolumes = args.trustBundle ? [args.trustBundle.volume()] : [];
        // Both pods ship the same files the same way: one Filebeat configuration for the pair.
        const shipper = args.logShipping?.sidecar(
            name,
            [{ kind: "ndjsonFiles", id: "mattermost", paths: [`${mattermostLogDirectory}/mattermost*.log`] }],
            [{ name: "logs", mountPath: mattermostLogDirectory }],
            this,
        );

        const databaseWait = {
            name: "wait-for-database",
            image: args.databaseWait.image,
            command: ["sh", "-c", waitForDatabaseScript],
            env: [
                { name: "DATABASE_HOST", value: args.databaseWait.host },
                { name: "DATABASE_PORT", value: String(args.databaseWait.port) },
            ],
            resources: containerResources({
                requests: { cpu: "10m", memory: "16Mi" },
                limits: { cpu: "100m", memory: "64Mi" },
            }),
            securityContext: restrictedContainerSecurity({ readOnlyRootFilesystem: true }),
        };
        const podSecurity = restrictedPodSecurity({
            runAsUser: mattermostUid,
            runAsGroup: mattermostUid,
            fsGroup: mattermostUid,
        });

        const migrationName = `${name}-schema-migration`;
        this.schemaMigrationSelector = selectorLabels(migrationName);
        this.schemaMigration = schemaMigrationJob(migrationName, {
            args,
            settings: args.settings,
            serviceAccountName: serviceAccount.metadata.name,
            databaseWait,
            podSecurity,
            trust: { environment: trustEnvironment, mounts: trustMounts, volumes: trustVolumes },
            parent: this,
            dependsOn: podPrerequisites,
        });

        const member = (index: 1 | 2, role: "primary" | "backup", dependsOn: pulumi.Resource[]): PairMember => {
            const memberName = memberNameOf(index);
            const podLabels = {
                ...labels(memberName, "chat-server"),
                ...pairLabel,
                "mattermost-platform/role": role,
            };
            const antiAffinityTerm = {
                labelSelector: { matchLabels: pairLabel },
                topologyKey: "kubernetes.io/hostname",
            };
            const scratch = scratchVolumes({
                // The configuration is in PostgreSQL (MM_CONFIG); the directory only has to exist.
                config: { mountPath: "/mattermost/config", sizeLimit: "16Mi" },
                // The JSON log file, rotated by size (LogSettings), for the Filebeat sidecar.
                logs: { mountPath: "/mattermost/logs", sizeLimit: "1Gi" },
                // Unpacked plugins, server and web parts.
                plugins: { mountPath: "/mattermost/plugins", sizeLimit: "1Gi" },
                "client-plugins": { mountPath: "/mattermost/client/plugins", sizeLimit: "512Mi" },
                // Scratch of imports and exports; uploads go to S3 as they arrive.
                tmp: { mountPath: "/tmp", sizeLimit: "1Gi" },
                // Local mode's socket (mmctl --local) lives here.
                "var-tmp": { mountPath: "/var/tmp", sizeLimit: "16Mi" },
            });
            const ping = { httpGet: { path: "/api/v4/system/ping", port: "http" }, timeoutSeconds: 5 };
            const deployment = new k8s.apps.v1.Deployment(
                memberName,
                {
                    metadata: { name: memberName, namespace: args.namespace, labels: podLabels },
                    spec: {
                        replicas: 1,
                        // Never two servers of one member at once: without clustering they would both act as leader.
                        strategy: { type: "Recreate" },
                        revisionHistoryLimit: 5,
                        selector: { matchLabels: selectorLabels(memberName) },
                        template: {
                            metadata: { labels: podLabels },
                            spec: {
                                serviceAccountName: serviceAccount.metadata.name,
                                ...sharedPodSpec(args.pods, "mattermost", pairLabel),
                                automountServiceAccountToken: false,
                                securityContext: podSecurity,
                                affinity: {
                                    podAntiAffinity: args.production
                                        ? { requiredDuringSchedulingIgnoredDuringExecution: [antiAffinityTerm] }
                                        : {
                                              preferredDuringSchedulingIgnoredDuringExecution: [
                                                  { weight: 100, podAffinityTerm: antiAffinityTerm },
                                              ],
                                          },
                                },
                                // Mattermost gives up after a few minutes without its database; waiting here
                                // first keeps a slow database from turning into a crash loop. The wait runs
                                // pg_isready from the PostgreSQL image: Mattermost's image has no shell.
                                initContainers: [databaseWait],
                                containers: [
                                    {
                                        name: "mattermost",
                                        image: args.image,
                                        envFrom: [
                                            { configMapRef: { name: settings.metadata.name } },
                                            { secretRef: { name: secrets.metadata.name } },
                                        ],
                                        // `env` wins over `envFrom`: the backup never schedules or runs jobs.
                                        env: [
                                            ...trustEnvironment,
                                            ...(role === "backup"
                                                ? [
                                                      { name: "MM_JOBSETTINGS_RUNJOBS", value: "false" },
                                                      { name: "MM_JOBSETTINGS_RUNSCHEDULER", value: "false" },
                                                  ]
                                                : []),
                                        ],
                                        ports: [{ name: "http", containerPort: httpPort }],
                                        // The plain ping only: a database or S3 blip must not restart both pods.
                                        // The startup budget (10 min) covers schema migrations on upgrade.
                                        startupProbe: { ...ping, periodSeconds: 10, failureThreshold: 60 },
                                        livenessProbe: { ...ping, periodSeconds: 10, failureThreshold: 3 },
                                        readinessProbe: { ...ping, periodSeconds: 5, failureThreshold: 3 },
                                        resources: containerResources(args.resources),
                                        // Exception to read-only root: Mattermost rewrites client/root.html inside the
                                        // image at every start and exits if it cannot; every data path is an emptyDir.
                                        securityContext: restrictedContainerSecurity({
                                            writableRoot: securityExceptions.mattermostWritableRoot,
                                        }),
                                        volumeMounts: [...scratch.mounts, ...trustMounts],
                                    },
                                    ...(shipper ? [shipper.container] : []),
                                ],
                                volumes: uniqueVolumes([
                                    ...scratch.volumes,
                                    ...trustVolumes,
                                    ...(shipper?.volumes ?? []),
                                ]),
                            },
                        },
                    },
                },
                // After the schema migration: the new release's server never starts on the old schema.
                { parent: this, dependsOn: [...podPrerequisites, this.schemaMigration, ...dependsOn] },
            );
            const service = new k8s.core.v1.Service(
                `${memberName}-service`,
                {
                    metadata: { name: memberName, namespace: args.namespace, labels: podLabels },
                    spec: {
                        type: "ClusterIP",
                        selector: selectorLabels(memberName),
                        ports: [{ name: "http", port: httpPort, targetPort: "http" }],
                    },
                },
                { parent: this },
            );
            return { deployment, service };
        };

        // Pulumi waits for a Deployment to be ready before it moves on to what depends on it, so the
        // backup is updated and serving before the primary is touched: users are served throughout,
        // the primary on the old release over the migrated schema until its turn (docs/upgrades.md).
        this.backup = member(2, "backup", []);
        this.primary = member(1, "primary", [this.backup.deployment]);

        new k8s.policy.v1.PodDisruptionBudget(
            `${name}-disruption-budget`,
            {
                metadata: { name, namespace: args.namespace, labels: labels(name, "chat-server") },
                // A drain may take one of the pair, never both.
                spec: { minAvailable: 1, selector: { matchLabels: pairLabel } },
            },
            { parent: this },
        );

        this.registerOutputs({
            primaryServiceName: this.primary.service.metadata.name,
            backupServiceName: this.backup.service.metadata.name,
        });
    }
}
