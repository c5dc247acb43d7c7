import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { jdbcPostgresUrl, postgresUrl } from "../config/database";
import { labels, scratchVolumes, selectorLabels, singlePodStore } from "./meta";
import type { PodDefaults } from "../config/registry";

export const postgresType = "mattermost:k8s:Postgres";

export interface PostgresArgs {
    readonly namespace: pulumi.Input<string>;
    /** What every pod of the stack gets: the registries' pull secrets. */
    readonly pods?: PodDefaults;
    /** Pinned PostgreSQL image (14 or newer). */
    readonly image: string;
    readonly database: string;
    readonly user: string;
}

/** The official image runs as the postgres user, uid and gid 999. */
const postgresUid = 999;
const port = 5432;

/**
 * An in-cluster PostgreSQL for test stacks: one pod, data on an emptyDir (lost on restart; the
 * configuration refuses this in production), a generated password, and a Service of fixed name.
 */
export class Postgres extends pulumi.ComponentResource {
    /** Where to reach the database: the Service's DNS name and port, and the `postgres://` URL (a secret). */
    public readonly endpoint: {
        host: pulumi.Output<string>;
        port: number;
        user: string;
        password: pulumi.Output<string>;
        /** With the credentials in it, as Mattermost reads it. */
        url: pulumi.Output<string>;
        /** Without credentials, as Keycloak reads it. */
        jdbcUrl: pulumi.Output<string>;
    };

    constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super(postgresType, name, {}, opts);

        const password = new random.RandomPassword(
            `${name}-password`,
            { length: 32, special: false },
            { parent: this },
        );
        const credentials = new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "database") },
                stringData: {
                    POSTGRES_DB: args.database,
                    POSTGRES_USER: args.user,
                    POSTGRES_PASSWORD: password.result,
                },
            },
            { parent: this },
        );

        const scratch = scratchVolumes({
            data: { mountPath: "/var/lib/postgresql/data", sizeLimit: "4Gi" },
            run: { mountPath: "/var/run/postgresql", sizeLimit: "16Mi" },
            tmp: { mountPath: "/tmp", sizeLimit: "256Mi" },
        });
        const deployment = new k8s.apps.v1.Deployment(
            name,
            singlePodStore({
                name,
                deploymentName: name,
                namespace: args.namespace,
                component: "database",
                uid: postgresUid,
                pods: args.pods,
                container: {
                    name: "postgres",
                    image: args.image,
                    envFrom: [{ secretRef: { name: credentials.metadata.name } }],
                    env: [{ name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" }],
                    ports: [{ name: "postgres", containerPort: port }],
                    readinessProbe: {
                        exec: { command: ["pg_isready", "-h", "127.0.0.1", "-U", args.user, "-d", args.database] },
                        periodSeconds: 5,
                    },
                    livenessProbe: { tcpSocket: { port: "postgres" }, periodSeconds: 10, failureThreshold: 6 },
                    volumeMounts: scratch.mounts,
                },
                volumes: scratch.volumes,
            }),
            { parent: this },
        );

        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name, namespace: args.namespace, labels: labels(name, "database") },
                spec: { selector: selectorLabels(name), ports: [{ name: "postgres", port, targetPort: "postgres" }] },
            },
            { parent: this, dependsOn: [deployment] },
        );

        const host = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
        const url = pulumi.secret(
            pulumi.all([host, password.result]).apply(([address, secret]) =>
                postgresUrl({
                    host: address,
                    port,
                    database: args.database,
                    user: args.user,
                    password: secret,
                    // Traffic to the in-cluster database never leaves the namespace.
                    parameters: { sslmode: "disable", connect_timeout: "10" },
                }),
            ),
        );
        const jdbcUrl = host.apply((address) =>
            jdbcPostgresUrl({ host: address, port, database: args.database, parameters: { sslmode: "disable" } }),
        );
        this.endpoint = { host, port, user: args.user, password: pulumi.secret(password.result), url, jdbcUrl };
        this.registerOutputs({ host, port, url });
    }
}
