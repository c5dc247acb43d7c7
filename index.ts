import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MattermostPair, httpPort } from "./components/mattermostPair";
import { NginxFailover } from "./components/nginxFailover";
import { Postgres } from "./components/postgres";
import { externalDatabaseUrl } from "./config/database";
import { loadStackConfig } from "./config/stack";

const config = loadStackConfig();

const provider = new k8s.Provider("kubernetes", {
    context: config.kubeContext,
    namespace: config.namespace,
    enableServerSideApply: true,
});
const namespaceResource = config.createNamespace
    ? new k8s.core.v1.Namespace("namespace", { metadata: { name: config.namespace } }, { provider })
    : undefined;
const namespace = namespaceResource?.metadata.name ?? pulumi.output(config.namespace);
const opts = { providers: { kubernetes: provider }, dependsOn: namespaceResource ? [namespaceResource] : [] };

const database = config.database;
const databaseUrl =
    database.mode === "inCluster"
        ? new Postgres(
              "mattermost-postgres",
              { namespace, image: database.image, database: database.name, user: database.user },
              opts,
          ).url
        : pulumi.secret(database.password.apply((password) => externalDatabaseUrl(database, password)));

const pair = new MattermostPair(
    "mattermost",
    {
        namespace,
        platform: config.platform,
        production: config.production,
        image: config.mattermost.image,
        settings: config.mattermost.settings,
        databaseUrl,
        resources: config.mattermost.resources,
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
        replicas: config.nginx.replicas,
        resources: config.nginx.resources,
        primaryService: pair.primaryServiceName,
        backupService: pair.backupServiceName,
        mattermostPort: httpPort,
        keycloakService: config.keycloak.serviceName,
        keycloakPort: config.keycloak.servicePort,
        dnsResolver: config.nginx.dnsResolver,
        maxBodyBytes: config.nginx.maxBodyBytes,
        ingressClassName: config.ingress.className,
        ingressTlsSecretName: config.ingress.tlsSecretName,
    },
    { ...opts, dependsOn: [...opts.dependsOn, pair] },
);

export const url = config.siteUrl;
export const namespaceName = namespace;
export const mattermostEdition = config.mattermost.edition;
export const mattermostVersion = config.mattermost.version;
export const services = {
    nginx: nginx.service.metadata.name,
    mattermostPrimary: pair.primary.service.metadata.name,
    mattermostBackup: pair.backup.service.metadata.name,
};
