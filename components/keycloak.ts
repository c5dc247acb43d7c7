import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { keycloakSyslog, syslogMaxMessageBytes } from "../config/filebeat";
import { realmApplyScriptName, renderRealmApplyScript } from "../config/guard";
import { keycloakUrl, realmSecretVariables } from "../config/realm";
import { trustBundlePath } from "../config/trust";
import type { Resources } from "../config/validate";
import { filebeatUid, type LogShipping } from "./logShipping";
import {
    containerResources,
    labels,
    lasting,
    nodeImagePodSecurity,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    scratchVolumes,
    securityExceptions,
    selectorLabels,
    sharedPodSpec,
    uniqueVolumes,
} from "./meta";
import type { TrustBundle } from "./trustBundle";
import type { PodDefaults } from "../config/registry";

export const keycloakType = "mattermost:k8s:Keycloak";

/** The Service nginx proxies /auth/ to, and the realm-apply and deprovisioning jobs talk to. */
export const keycloakService = "keycloak";
export const keycloakHttpPort = 8080;
/** jgroups between clustered pods, and its failure detection (port + 50000). */
export const keycloakClusterPorts = [7800, 57800];
const managementPort = 9000;
/** Keycloak's temporary first admin; the realm-apply job replaces it by the permanent one. */
const bootstrapAdmin = "bootstrap-admin";
export const permanentAdmin = "admin";
/**
 * The admin console's own URL: nginx keeps /auth/admin off the public name, so administrators reach it
 * through `kubectl port-forward service/keycloak 8080` (README), and the console must send them there.
 */
export const adminConsoleUrl = `http://localhost:${keycloakHttpPort}/auth`;

export interface KeycloakArgs {
    readonly namespace: pulumi.Input<string>;
    /** Production keeps the client secrets from being rotated by accident (`lasting`). */
    readonly production: boolean;
    /** What every pod of the stack gets: the registries' pull secrets. */
    readonly pods?: PodDefaults;
    readonly siteUrl: string;
    readonly image: string;
    /** The pinned Node image the realm-apply job runs in. */
    readonly applyImage: string;
    /** Who the realm-apply pod runs as depends on it (nodeImagePodSecurity). */
    readonly platform: "kubernetes" | "openshift";
    readonly replicas: number;
    readonly resources: Resources;
    /** JDBC URL without credentials, and the credentials. */
    readonly database: {
        readonly jdbcUrl: pulumi.Input<string>;
        readonly user: string;
        readonly password: pulumi.Input<string>;
    };
    /** The rendered realm; its secrets are placeholders filled from `realmSecrets`. */
    readonly realm: string;
    readonly adBindPassword?: pulumi.Input<string>;
    /** Local test users exist in the realm and need their shared password. */
    readonly hasTestUsers: boolean;
    readonly trustBundle?: TrustBundle;
    readonly logShipping?: LogShipping;
}

/**
 * Keycloak between Active Directory and Mattermost (DESIGN decision 5): production start mode behind
 * nginx under /auth/, its own database, a generated bootstrap admin that the realm-apply job replaces by a
 * permanent one, and the realm applied by that job on every change (an import at start never updates an
 * existing realm).
 */
export class Keycloak extends pulumi.ComponentResource {
    /** Secret of the realm's mattermost client, for Mattermost's SSO settings. */
    public readonly clientSecret: pulumi.Output<string>;
    /** The secret of the deprovisioning job's service-account client. */
    public readonly deprovisionClientSecret: pulumi.Output<string>;
    public readonly adminPassword: pulumi.Output<string>;
    /** Set when the realm has test users. */
    public readonly testUserPassword?: pulumi.Output<string>;

    constructor(name: string, args: KeycloakArgs, opts?: pulumi.ComponentResourceOptions) {
        super(keycloakType, name, {}, opts);

        const adminPassword = new random.RandomPassword(
            `${name}-admin-password`,
            { length: 32, special: false },
            { parent: this },
        );
        const bootstrapAdminPassword = new random.RandomPassword(
            `${name}-bootstrap-admin-password`,
            { length: 32, special: false },
            { parent: this },
        );
        const clientSecret = new random.RandomPassword(
            `${name}-client-secret`,
            { length: 48, special: false },
            lasting(this, args.production),
        );
        const deprovisionClientSecret = new random.RandomPassword(
            `${name}-deprovision-client-secret`,
            { length: 48, special: false },
            lasting(this, args.production),
        );
        const testUserPassword = args.hasTestUsers
            ? new random.RandomPassword(`${name}-test-user-password`, { length: 20, special: false }, { parent: this })
            : undefined;

        const credentials = new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "identity") },
                stringData: {
                    KC_DB_PASSWORD: args.database.password,
                    KC_BOOTSTRAP_ADMIN_PASSWORD: bootstrapAdminPassword.result,
                    ADMIN_PASSWORD: adminPassword.result,
                },
            },
            { parent: this },
        );

        const shipper = args.logShipping?.sidecar(
            name,
            [{ kind: "syslogUdp", id: "keycloak", address: keycloakSyslog, json: true }],
            [],
            this,
            // Keycloak's own USER is a uid (1000), so its pod sets none; Filebeat's is a name.
            args.platform === "kubernetes" ? filebeatUid : undefined,
        );
        const clustered = args.replicas > 1;
        const environment: Record<string, pulumi.Input<string>> = {
            KC_DB: "postgres",
            KC_DB_URL: args.database.jdbcUrl,
            KC_DB_USERNAME: args.database.user,
            // The public URL, path included: tokens carry one issuer whoever asks.
            KC_HOSTNAME: keycloakUrl(args.siteUrl),
            KC_HOSTNAME_ADMIN: adminConsoleUrl,
            KC_HTTP_RELATIVE_PATH: "/auth",
            // TLS ends at the edge; nginx forwards X-Forwarded-* (replaced, not appended, by the Route).
            KC_HTTP_ENABLED: "true",
            KC_PROXY_HEADERS: "xforwarded",
            KC_HEALTH_ENABLED: "true",
            KC_BOOTSTRAP_ADMIN_USERNAME: bootstrapAdmin,
            // One pod keeps its caches to itself; several share them through the database (jdbc-ping).
            KC_CACHE: clustered ? "ispn" : "local",
            ...(clustered ? { KC_CACHE_STACK: "jdbc-ping" } : {}),
            KC_LOG_CONSOLE_OUTPUT: "json",
            ...(shipper
                ? {
                      KC_LOG: "console,syslog",
                      KC_LOG_SYSLOG_ENDPOINT: keycloakSyslog,
                      KC_LOG_SYSLOG_PROTOCOL: "udp",
                      KC_LOG_SYSLOG_OUTPUT: "json",
                      KC_LOG_SYSLOG_MAX_LENGTH: String(syslogMaxMessageBytes),
                  }
                : {}),
            ...(args.trustBundle ? { KC_TRUSTSTORE_PATHS: trustBundlePath } : {}),
        };
        const fromCredentials = (key: string) => ({
            name: key,
            valueFrom: { secretKeyRef: { name: credentials.metadata.name, key } },
        });
        const scratch = scratchVolumes({
            // Caches and transaction logs; the data itself is in PostgreSQL.
            data: { mountPath: "/opt/keycloak/data", sizeLimit: "512Mi" },
            tmp: { mountPath: "/tmp", sizeLimit: "256Mi" },
        });
        const health = (path: string) => ({
            httpGet: { path: `/auth/health/${path}`, port: "management" },
            timeoutSeconds: 5,
        });
        const podLabels = labels(name, "identity");

        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: { name: keycloakService, namespace: args.namespace, labels: podLabels },
                spec: {
                    replicas: args.replicas,
                    // One pod with local caches must never overlap its successor; a cluster rolls one by one.
                    strategy: clustered
                        ? { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }
                        : { type: "Recreate" },
                    selector: { matchLabels: selectorLabels(name) },
                    template: {
                        metadata: { labels: podLabels },
                        spec: {
                            ...sharedPodSpec(args.pods, "keycloak", selectorLabels(name)),
                            automountServiceAccountToken: false,
                            // No runAsUser: the image is arbitrary-uid safe (group 0), as OpenShift's restricted SCC needs.
                            securityContext: restrictedPodSecurity(undefined),
                            containers: [
                                {
                                    name: "keycloak",
                                    image: args.image,
                                    args: ["start"],
                                    env: [
                                        ...Object.entries(environment).map(([key, value]) => ({ name: key, value })),
                                        fromCredentials("KC_DB_PASSWORD"),
                                        fromCredentials("KC_BOOTSTRAP_ADMIN_PASSWORD"),
                                    ],
                                    ports: [
                                        { name: "http", containerPort: keycloakHttpPort },
                                        { name: "management", containerPort: managementPort },
                                        ...(clustered
                                            ? [{ name: "jgroups", containerPort: keycloakClusterPorts[0] }]
                                            : []),
                                    ],
                                    // First start migrates the schema and builds the server for these options.
                                    startupProbe: { ...health("started"), periodSeconds: 10, failureThreshold: 60 },
                                    livenessProbe: { ...health("live"), periodSeconds: 10, failureThreshold: 3 },
                                    readinessProbe: { ...health("ready"), periodSeconds: 5, failureThreshold: 3 },
                                    resources: containerResources(args.resources),
                                    // Exception to read-only root: the stock image rebuilds itself at start for the
                                    // build options above (database, health, /auth) into /opt/keycloak/lib/quarkus.
                                    securityContext: restrictedContainerSecurity({
                                        writableRoot: securityExceptions.keycloakWritableRoot,
                                    }),
                                    volumeMounts: [
                                        ...scratch.mounts,
                                        ...(args.trustBundle ? [args.trustBundle.volumeMount()] : []),
                                    ],
                                },
                                ...(shipper ? [shipper.container] : []),
                            ],
                            volumes: uniqueVolumes([
                                ...scratch.volumes,
                                ...(args.trustBundle ? [args.trustBundle.volume()] : []),
                                ...(shipper?.volumes ?? []),
                            ]),
                        },
                    },
                },
            },
            { parent: this },
        );

        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: keycloakService, namespace: args.namespace, labels: podLabels },
                spec: {
                    selector: selectorLabels(name),
                    ports: [{ name: "http", port: keycloakHttpPort, targetPort: "http" }],
                },
            },
            { parent: this, dependsOn: [deployment] },
        );

        // The realm: a ConfigMap of data without secrets, beside the program that applies it.
        const realm = new k8s.core.v1.ConfigMap(
            `${name}-realm`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "identity") },
                data: { "realm.json": args.realm, [realmApplyScriptName]: renderRealmApplyScript() },
            },
            { parent: this },
        );
        const realmSecrets = new k8s.core.v1.Secret(
            `${name}-realm-secrets`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "identity") },
                stringData: {
                    [realmSecretVariables.clientSecret]: clientSecret.result,
                    [realmSecretVariables.deprovisionClientSecret]: deprovisionClientSecret.result,
                    ...(args.adBindPassword !== undefined
                        ? { [realmSecretVariables.adBindPassword]: args.adBindPassword }
                        : {}),
                    ...(testUserPassword ? { [realmSecretVariables.testUserPassword]: testUserPassword.result } : {}),
                },
            },
            { parent: this },
        );
        this.realmApply(name, args, { credentials, realm, realmSecrets, service });

        // Marked secret here too, not only by the provider's schema, so no consumer can lose it.
        this.clientSecret = pulumi.secret(clientSecret.result);
        this.deprovisionClientSecret = pulumi.secret(deprovisionClientSecret.result);
        this.adminPassword = pulumi.secret(adminPassword.result);
        this.testUserPassword = testUserPassword && pulumi.secret(testUserPassword.result);
        this.registerOutputs({
            clientSecret: this.clientSecret,
            deprovisionClientSecret: this.deprovisionClientSecret,
            adminPassword: this.adminPassword,
            testUserPassword: this.testUserPassword,
        });
    }

    /** A Job is immutable, so a changed realm, program or secret gives a new Job, which applies it again. */
    private realmApply(
        name: string,
        args: KeycloakArgs,
        from: {
            credentials: k8s.core.v1.Secret;
            realm: k8s.core.v1.ConfigMap;
            realmSecrets: k8s.core.v1.Secret;
            service: k8s.core.v1.Service;
        },
    ): void {
        const credential = (variable: string, key: string) => ({
            name: variable,
            valueFrom: { secretKeyRef: { name: from.credentials.metadata.name, key } },
        });
        const jobLabels = labels(`${name}-realm-apply`, "identity-config");
        new k8s.batch.v1.Job(
            `${name}-realm-apply`,
            {
                metadata: { namespace: args.namespace, labels: jobLabels },
                spec: {
                    backoffLimit: 6,
                    template: {
                        // Not Keycloak's own labels: its Service and network policy must not take this pod for a server.
                        metadata: { labels: jobLabels },
                        spec: {
                            restartPolicy: "OnFailure",
                            ...sharedPodSpec(args.pods, "jobs"),
                            automountServiceAccountToken: false,
                            securityContext: nodeImagePodSecurity(args.platform),
                            containers: [
                                {
                                    name: "realm-apply",
                                    image: args.applyImage,
                                    command: ["node", `/opt/realm/${realmApplyScriptName}`],
                                    env: [
                                        {
                                            name: "KEYCLOAK_URL",
                                            value: `http://${keycloakService}:${keycloakHttpPort}/auth`,
                                        },
                                        { name: "ADMIN_CONSOLE_URL", value: adminConsoleUrl },
                                        { name: "REALM_FILE", value: "/opt/realm/realm.json" },
                                        { name: "ADMIN_USERNAME", value: permanentAdmin },
                                        credential("ADMIN_PASSWORD", "ADMIN_PASSWORD"),
                                        { name: "BOOTSTRAP_ADMIN_USERNAME", value: bootstrapAdmin },
                                        credential("BOOTSTRAP_ADMIN_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD"),
                                        { name: "WAIT_SECONDS", value: "300" },
                                    ],
                                    // The realm's `$(env:NAME)` secrets, read by the program at those fields only.
                                    envFrom: [{ secretRef: { name: from.realmSecrets.metadata.name } }],
                                    resources: containerResources({
                                        requests: { cpu: "50m", memory: "64Mi" },
                                        limits: { cpu: "500m", memory: "256Mi" },
                                    }),
                                    securityContext: restrictedContainerSecurity({ readOnlyRootFilesystem: true }),
                                    volumeMounts: [{ name: "realm", mountPath: "/opt/realm", readOnly: true }],
                                },
                            ],
                            volumes: [{ name: "realm", configMap: { name: from.realm.metadata.name } }],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [from.service] },
        );
    }
}
