import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { flattenSettings, type MattermostSettings } from "../config/mattermostSettings";
import type { Resources } from "../config/validate";
import type { PodDefaults } from "../config/registry";
import { containerResources, labels, restrictedContainerSecurity, scratchVolumes, sharedPodSpec } from "./meta";

type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
type Volume = k8s.types.input.core.v1.Volume;
type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;

/** The server's binary in Mattermost's images (distroless and the older Ubuntu ones alike). */
export const mattermostBinary = "/mattermost/bin/mattermost";
/** "Migrate the database if there are any unapplied migrations" (cmd/mattermost/commands/db.go). */
export const schemaMigrationCommand = [mattermostBinary, "db", "migrate"];
/** Long enough for the large-table migrations Mattermost's upgrade notes time in minutes. */
export const schemaMigrationTimeout = "60m";

export interface SchemaMigrationArgs {
    readonly args: {
        readonly namespace: pulumi.Input<string>;
        readonly pods?: PodDefaults;
        readonly image: string;
        readonly databaseUrl: pulumi.Input<string>;
        readonly resources: Resources;
    };
    readonly settings: MattermostSettings;
    readonly serviceAccountName: pulumi.Input<string>;
    readonly databaseWait: Container;
    readonly podSecurity: PodSecurityContext;
    readonly trust: { readonly environment: EnvVar[]; readonly mounts: VolumeMount[]; readonly volumes: Volume[] };
    readonly parent: pulumi.Resource;
    readonly dependsOn: pulumi.Resource[];
}

/**
 * `mattermost db migrate` with the pair's image, as the Mattermost operator's update job does: a new
 * image (or database) makes a new Job, which the pair's Deployments wait for, so the schema is the new
 * release's before either pod rolls and a failed migration stops the upgrade with both pods on the old
 * one. It reads only the database settings: its own Secret holds the URL, so a change of any other
 * setting or secret leaves it alone. A migration that finds nothing to do prints "No migrations to
 * apply." and ends.
 */
export function schemaMigrationJob(name: string, from: SchemaMigrationArgs): k8s.batch.v1.Job {
    const { args } = from;
    const jobLabels = labels(name, "schema-migration");
    const database = new k8s.core.v1.Secret(
        `${name}-database`,
        {
            metadata: { namespace: args.namespace, labels: jobLabels },
            // The config store (MM_CONFIG) and the SQL store's data source, as the pods have them.
            stringData: { MM_CONFIG: args.databaseUrl, MM_SQLSETTINGS_DATASOURCE: args.databaseUrl },
        },
        { parent: from.parent },
    );
    const sqlSettings = Object.entries(flattenSettings(from.settings))
        .filter(([variable]) => variable.startsWith("MM_SQLSETTINGS_"))
        .map(([variable, value]) => ({ name: variable, value }));
    // Read-only root: as its code reads (migrateCmdF), the command's config store is the database and its
    // logger the console, and it writes a file only with --save-plan. /tmp is scratch for anything else.
    const scratch = scratchVolumes({ tmp: { mountPath: "/tmp", sizeLimit: "64Mi" } });
    return new k8s.batch.v1.Job(
        name,
        {
            metadata: { namespace: args.namespace, labels: jobLabels },
            spec: {
                // A try or two more for a database that drops the first connection; each try a pod of its
                // own (restartPolicy Never), whose log stays for `kubectl logs` when the migration fails.
                backoffLimit: 2,
                template: {
                    // Not the pair's labels: the Services and the disruption budget must not count this pod.
                    metadata: { labels: jobLabels },
                    spec: {
                        restartPolicy: "Never",
                        serviceAccountName: from.serviceAccountName,
                        ...sharedPodSpec(args.pods, "mattermost"),
                        automountServiceAccountToken: false,
                        securityContext: from.podSecurity,
                        initContainers: [from.databaseWait],
                        containers: [
                            {
                                name: "migrate",
                                image: args.image,
                                command: schemaMigrationCommand,
                                envFrom: [{ secretRef: { name: database.metadata.name } }],
                                env: [...sqlSettings, ...from.trust.environment],
                                resources: containerResources(args.resources),
                                securityContext: restrictedContainerSecurity({ readOnlyRootFilesystem: true }),
                                volumeMounts: [...scratch.mounts, ...from.trust.mounts],
                            },
                        ],
                        volumes: [...scratch.volumes, ...from.trust.volumes],
                    },
                },
            },
        },
        {
            parent: from.parent,
            dependsOn: from.dependsOn,
            customTimeouts: { create: schemaMigrationTimeout, update: schemaMigrationTimeout },
        },
    );
}
