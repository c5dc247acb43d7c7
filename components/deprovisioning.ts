import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deprovisionScriptName, renderDeprovisionScript } from "../config/guard";
import { deprovisionClientId, idAttribute, realmName } from "../config/realm";
import { labels, nodeImagePodSecurity, restrictedContainerSecurity, sharedPodSpec } from "./meta";
import type { PodDefaults } from "../config/registry";

export const deprovisioningType = "mattermost:k8s:Deprovisioning";

export interface DeprovisioningArgs {
    readonly namespace: pulumi.Input<string>;
    /** What every pod of the stack gets: the registries' pull secrets. */
    readonly pods?: PodDefaults;
    readonly schedule: string;
    /** Pinned Node.js image; the program comes from a ConfigMap. */
    readonly image: string;
    /** Who the pod runs as depends on it (nodeImagePodSecurity). */
    readonly platform: "kubernetes" | "openshift";
    /** Keycloak's base URL inside the cluster, with /auth. */
    readonly keycloakUrl: string;
    readonly clientSecret: pulumi.Input<string>;
    /** Mattermost's API through nginx, so it follows the failover. */
    readonly mattermostUrl: string;
    /** Absent: the CronJob is suspended until a token is configured. */
    readonly mattermostToken?: pulumi.Input<string>;
    readonly authService: "gitlab" | "openid";
    readonly allowList: readonly string[];
    readonly dryRun: boolean;
    /** The most one run may deactivate, however large the chat. */
    readonly maxPerRun: number;
    /** The share of the SSO accounts one run may deactivate; absent, the job's default (5%). */
    readonly maxFractionPerRun?: number;
    /** How far Keycloak's enabled users may shrink against the last good run; absent, the job's 5%. */
    readonly maxDirectoryShrink?: number;
    /**
     * The one-off override of the shrink check: the number of enabled Keycloak users an operator has
     * checked. It lets through only a view of exactly that size, so left set it lets no later shrink by.
     */
    readonly acceptDirectorySize?: number;
}

/** Only the settings given: the job's own defaults stand for the others, so they live in one place. */
function optionalEnv(values: Record<string, number | undefined>): k8s.types.input.core.v1.EnvVar[] {
    return Object.entries(values).flatMap(([name, value]) =>
        value === undefined ? [] : [{ name, value: String(value) }],
    );
}

/** A run may take this long; the next one is never started while it lasts. */
const deadlineSeconds = 240;

/**
 * The job that shuts out people disabled in or removed from AD (DESIGN decision 9), every few minutes:
 * scripts/deprovision.ts, transpiled into a ConfigMap and run in a pinned Node image. It acts in
 * Keycloak as a service account with four realm-management roles, and in Mattermost with a system-admin
 * bot's token, both from a Secret; it needs no Kubernetes API: the last good run's view of the directory,
 * which the next run compares with, is kept as a Mattermost preference of that bot.
 */
export class Deprovisioning extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;

    constructor(name: string, args: DeprovisioningArgs, opts?: pulumi.ComponentResourceOptions) {
        super(deprovisioningType, name, {}, opts);

        const program = new k8s.core.v1.ConfigMap(
            `${name}-program`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "deprovisioning") },
                data: { [deprovisionScriptName]: renderDeprovisionScript() },
            },
            { parent: this },
        );
        const credentials = new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "deprovisioning") },
                stringData: {
                    KEYCLOAK_CLIENT_SECRET: args.clientSecret,
                    ...(args.mattermostToken ? { MATTERMOST_TOKEN: args.mattermostToken } : {}),
                },
            },
            { parent: this },
        );

        const podLabels = labels(name, "deprovisioning");
        this.cronJob = new k8s.batch.v1.CronJob(
            name,
            {
                metadata: { name, namespace: args.namespace, labels: podLabels },
                spec: {
                    schedule: args.schedule,
                    suspend: args.mattermostToken === undefined,
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 300,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        spec: {
                            // The next scheduled run is the retry; a run never outlives its deadline.
                            backoffLimit: 0,
                            activeDeadlineSeconds: deadlineSeconds + 60,
                            template: {
                                metadata: { labels: podLabels },
                                spec: {
                                    restartPolicy: "Never",
                                    ...sharedPodSpec(args.pods, "jobs"),
                                    automountServiceAccountToken: false,
                                    securityContext: nodeImagePodSecurity(args.platform),
                                    containers: [
                                        {
                                            name: "deprovision",
                                            image: args.image,
                                            command: ["node", `/opt/deprovision/${deprovisionScriptName}`],
                                            env: [
                                                { name: "KEYCLOAK_URL", value: args.keycloakUrl },
                                                { name: "KEYCLOAK_REALM", value: realmName },
                                                { name: "KEYCLOAK_CLIENT_ID", value: deprovisionClientId },
                                                { name: "KEYCLOAK_ID_ATTRIBUTE", value: idAttribute },
                                                { name: "MATTERMOST_URL", value: args.mattermostUrl },
                                                { name: "MATTERMOST_AUTH_SERVICE", value: args.authService },
                                                { name: "ALLOW_LIST", value: args.allowList.join(",") },
                                                { name: "DRY_RUN", value: String(args.dryRun) },
                                                { name: "MAX_PER_RUN", value: String(args.maxPerRun) },
                                                ...optionalEnv({
                                                    MAX_FRACTION_PER_RUN: args.maxFractionPerRun,
                                                    MAX_DIRECTORY_SHRINK: args.maxDirectoryShrink,
                                                    ACCEPT_DIRECTORY_SIZE: args.acceptDirectorySize,
                                                }),
                                                { name: "DEADLINE_SECONDS", value: String(deadlineSeconds) },
                                            ],
                                            envFrom: [{ secretRef: { name: credentials.metadata.name } }],
                                            resources: {
                                                requests: { cpu: "50m", memory: "64Mi" },
                                                limits: { cpu: "500m", memory: "256Mi" },
                                            },
                                            securityContext: restrictedContainerSecurity({
                                                readOnlyRootFilesystem: true,
                                            }),
                                            volumeMounts: [
                                                { name: "program", mountPath: "/opt/deprovision", readOnly: true },
                                            ],
                                        },
                                    ],
                                    volumes: [{ name: "program", configMap: { name: program.metadata.name } }],
                                },
                            },
                        },
                    },
                },
            },
            { parent: this },
        );
        this.registerOutputs({ cronJobName: this.cronJob.metadata.name });
    }
}
