import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Deprovisioning } from "./components/deprovisioning";
import { Integrations } from "./components/integrations";
import { Keycloak, keycloakClusterPorts, keycloakHttpPort, keycloakService } from "./components/keycloak";
import { LogShipping } from "./components/logShipping";
import { MattermostPair, httpPort, pairLabel } from "./components/mattermostPair";
import { MattermostRelease } from "./components/mattermostRelease";
import { podSecurityLabels, selectorLabels } from "./components/meta";
import { NetworkPolicies } from "./components/networkPolicies";
import { NginxFailover, listenPort } from "./components/nginxFailover";
import { Postgres } from "./components/postgres";
import { PushProxyHost } from "./components/pushProxyHost";
import { S3Store } from "./components/s3Store";
import { TrustBundle } from "./components/trustBundle";
import { adminTokenCommands as commandsForAdminToken } from "./config/adminToken";
import { externalDatabaseUrl, jdbcPostgresUrl } from "./config/database";
import { realmEndpoints, renderRealm } from "./config/realm";
import { fullKey } from "./config/keys";
import { inClusterS3Port } from "./config/s3";
import { loadStackConfig, type StackConfig } from "./config/stack";

const config = loadStackConfig();

// No Kubernetes object is touched before the move from the release the stack last deployed is one
// Mattermost supports in a single step: the provider, and so every object, waits for the check.
const release = new MattermostRelease("mattermost-release", {
    version: config.mattermost.version,
    versionKey: fullKey(config.mattermost.versionKey),
    upgradeFrom: config.mattermost.upgradeFrom,
});
const provider = new k8s.Provider(
    "kubernetes",
    { context: config.kubeContext, namespace: config.namespace, enableServerSideApply: true },
    { dependsOn: [release] },
);
const namespaceResource = config.createNamespace
    ? new k8s.core.v1.Namespace(
          "namespace",
          { metadata: { name: config.namespace, labels: podSecurityLabels } },
          { provider },
      )
    : undefined;
const namespace = namespaceResource?.metadata.name ?? pulumi.output(config.namespace);
const opts = { providers: { kubernetes: provider }, dependsOn: namespaceResource ? [namespaceResource] : [] };

// The databases: the company's, or a PostgreSQL pod each in test stacks.
const databaseEndpoint = databaseFor("mattermost-postgres", config.database);
const keycloakDatabase = databaseFor("keycloak-postgres", config.identity.database);

// Files on S3: in the cluster behind a CA of its own (test stacks) or the company's service.
const storage = config.fileStorage;
const s3 =
    storage.mode === "inCluster"
        ? new S3Store("mattermost-s3", { namespace: config.namespace, image: storage.image, pods: config.pods }, opts)
        : undefined;
const s3Credentials = s3 ?? (storage.mode === "external" ? storage.credentials : undefined);

// Push notifications: the proxy on its own VM, provisioned over SSH, when a push host is configured.
const pushProxy =
    config.push &&
    new PushProxyHost("push-host", {
        settings: config.push,
        secrets: config.push.secrets,
        production: config.production,
    });

const trustedCertificates = [
    ...config.companyCaCertificates,
    ...(s3 ? [s3.caCertificate] : []),
    ...(pushProxy ? [pushProxy.caCertificate] : []),
];
const trustBundle =
    trustedCertificates.length > 0
        ? new TrustBundle("trust-bundle", { namespace, certificates: trustedCertificates }, opts)
        : undefined;

// Logs to ELK through a Filebeat sidecar in every pod, when an endpoint is configured.
const logShipping =
    config.logShipping &&
    new LogShipping(
        "log-shipping",
        {
            namespace,
            environment: pulumi.getStack(),
            settings: config.logShipping,
            password: config.elkPassword,
            trustBundle,
        },
        opts,
    );

// Identity: Keycloak with its own database, the realm applied as data.
const identity = config.identity;
const keycloak = new Keycloak(
    "keycloak",
    {
        namespace,
        production: config.production,
        siteUrl: config.siteUrl,
        image: identity.image,
        applyImage: identity.applyImage,
        platform: config.platform,
        replicas: identity.replicas,
        resources: identity.resources,
        database: keycloakDatabase,
        realm: renderRealm({ siteUrl: config.siteUrl, ssoMode: config.mattermost.ssoMode, ...identity }),
        adBindPassword: identity.adBindPassword,
        hasTestUsers: identity.testUsers.length > 0,
        trustBundle,
        logShipping,
        pods: config.pods,
    },
    opts,
);

const pair = new MattermostPair(
    "mattermost",
    {
        namespace,
        platform: config.platform,
        production: config.production,
        image: config.mattermost.image,
        settings: config.mattermost.settings,
        secretSettings: config.mattermostSecretSettings,
        license: config.mattermostLicense,
        databaseUrl: databaseEndpoint.url,
        databaseWait: { host: databaseEndpoint.host, port: databaseEndpoint.port, image: config.postgresImage },
        fileStoreCredentials: s3Credentials && {
            accessKeyId: s3Credentials.accessKeyId,
            secretAccessKey: s3Credentials.secretAccessKey,
        },
        sso: { mode: config.mattermost.ssoMode, clientSecret: keycloak.clientSecret },
        pushNotificationServer: pushProxy?.url,
        trustBundle,
        logShipping,
        resources: config.mattermost.resources,
        pods: config.pods,
    },
    opts,
);

const nginx = new NginxFailover(
    "nginx",
    {
        namespace: config.namespace,
        platform: config.platform,
        hostname: config.hostname,
        image: config.nginx.image,
        guardImage: config.nginx.guardImage,
        replicas: config.nginx.replicas,
        resources: config.nginx.resources,
        primaryService: pair.primaryServiceName,
        backupService: pair.backupServiceName,
        mattermostPort: httpPort,
        keycloakService,
        keycloakPort: keycloakHttpPort,
        dnsResolver: config.nginx.dnsResolver,
        maxBodyBytes: config.nginx.maxBodyBytes,
        ingressClassName: config.ingress.className,
        ingressTlsSecretName: config.ingress.tlsSecretName,
        edgeAnnotations: config.ingress.annotations,
        logShipping,
        pods: config.pods,
    },
    { ...opts, dependsOn: [...opts.dependsOn, pair] },
);

// Shuts out people disabled in AD: Keycloak directly, Mattermost's API through nginx.
const cluster = (service: string) => `${service}.${config.namespace}.svc.cluster.local`;
if (config.deprovision) {
    new Deprovisioning(
        "deprovision",
        {
            namespace,
            schedule: config.deprovision.schedule,
            image: config.deprovision.image,
            platform: config.platform,
            pods: config.pods,
            keycloakUrl: `http://${cluster(keycloakService)}:${keycloakHttpPort}/auth`,
            clientSecret: keycloak.deprovisionClientSecret,
            mattermostUrl: `http://${cluster("nginx")}:${listenPort}`,
            mattermostToken: config.mattermostAdminToken,
            authService: config.mattermost.ssoMode,
            allowList: config.deprovision.allowList,
            dryRun: config.deprovision.dryRun,
            maxPerRun: config.deprovision.maxPerRun,
            maxFractionPerRun: config.deprovision.maxFractionPerRun,
            maxDirectoryShrink: config.deprovision.maxDirectoryShrink,
            acceptDirectorySize: config.deprovision.acceptDirectorySize,
        },
        opts,
    );
}

// Integrations, through Mattermost's API once its admin token is configured (it can only exist after the first start).
const integrations =
    config.mattermostAdminToken &&
    new Integrations(
        "integrations",
        {
            siteUrl: config.siteUrl,
            token: config.mattermostAdminToken,
            incomingWebhooks: config.integrations.incomingWebhooks,
            creators: config.integrations.creators,
        },
        { dependsOn: [nginx] },
    );

// Deny by default, then exactly the flows above (names as given to the components).
if (config.network) {
    const store = (name: string, port: number, inCluster: boolean) =>
        inCluster ? { selector: selectorLabels(name), port } : undefined;
    new NetworkPolicies(
        "network-policies",
        {
            namespace,
            platform: config.platform,
            settings: config.network,
            nginx: { selector: selectorLabels("nginx"), port: listenPort },
            mattermost: { selector: pairLabel, port: httpPort },
            schemaMigration: pair.schemaMigrationSelector,
            keycloak: {
                selector: selectorLabels("keycloak"),
                port: keycloakHttpPort,
                clusterPorts: identity.replicas > 1 ? keycloakClusterPorts : undefined,
            },
            realmApply: selectorLabels("keycloak-realm-apply"),
            deprovision: config.deprovision ? selectorLabels("deprovision") : undefined,
            mattermostDatabase: store("mattermost-postgres", 5432, config.database.mode === "inCluster"),
            keycloakDatabase: store("keycloak-postgres", 5432, identity.database.mode === "inCluster"),
            fileStore: store("mattermost-s3", inClusterS3Port, storage.mode === "inCluster"),
            logShipping: Boolean(config.logShipping),
        },
        opts,
    );
}

export const url = config.siteUrl;
export const namespaceName = namespace;
export const mattermostEdition = config.mattermost.edition;
// Recorded once the new release's schema migration has completed.
export const mattermostVersion = pair.schemaMigration.metadata.apply(() => config.mattermost.version);
export const keycloakIssuer = realmEndpoints(config.siteUrl).issuer;
export const keycloakDiscoveryUrl = realmEndpoints(config.siteUrl).discovery;
export const trustBundlePem = trustBundle?.pem ?? "";
export const adminTokenCommands = pair.primary.deployment.metadata.name.apply((primary) =>
    commandsForAdminToken(config.namespace, primary, new URL(config.siteUrl).hostname),
);
export const keycloakAdminPassword = keycloak.adminPassword;
export const services = {
    nginx: nginx.service.metadata.name,
    mattermostPrimary: pair.primary.service.metadata.name,
    mattermostBackup: pair.backup.service.metadata.name,
    keycloak: keycloakService,
};

/**
 * The outputs that exist only with what they describe (config/outputs.ts, "present"): added when they
 * are there, since an output exported as undefined makes the SDK warn at every preview.
 */
Object.assign(
    module.exports,
    Object.fromEntries(
        Object.entries({
            testUserPassword: keycloak.testUserPassword,
            pushUrl: pushProxy?.url,
            pushCaCertificate: pushProxy?.caCertificate,
            pushHost: pushProxy?.host,
            incomingWebhookUrls: config.integrations.incomingWebhooks.length > 0 ? integrations?.urls : undefined,
        }).filter(([, value]) => value !== undefined),
    ),
);

/** Where a database is and how to log in, for Mattermost (a URL) and Keycloak (JDBC and credentials). */
function databaseFor(podName: string, database: StackConfig["database"] | StackConfig["identity"]["database"]) {
    if (database.mode === "inCluster") {
        return new Postgres(
            podName,
            { namespace, image: config.postgresImage, database: database.name, user: database.user, pods: config.pods },
            opts,
        ).endpoint;
    }
    return {
        host: database.host,
        port: database.port,
        user: database.user,
        password: database.password,
        url: pulumi.secret(database.password.apply((password) => externalDatabaseUrl(database, password))),
        jdbcUrl: jdbcPostgresUrl({
            host: database.host,
            port: database.port,
            database: database.name,
            parameters: { sslmode: database.sslMode, connectTimeout: String(database.connectTimeout) },
        }),
    };
}
