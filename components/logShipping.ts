import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    filebeatConfigDirectory,
    filebeatConfigFile,
    filebeatDataDirectory,
    renderFilebeatConfig,
    type LogSource,
} from "../config/filebeat";
import { goTrustEnvironment } from "../config/trust";
import type { LogShippingSettings } from "../config/validate";
import { containerResources, labels, restrictedContainerSecurity } from "./meta";
import type { TrustBundle } from "./trustBundle";

export const logShippingType = "mattermost:k8s:LogShipping";

export interface LogShippingArgs {
    readonly namespace: pulumi.Input<string>;
    /** The stack name, which every shipped line carries as its environment. */
    readonly environment: string;
    readonly settings: LogShippingSettings;
    /** Password of settings.username (a secret). */
    readonly password?: pulumi.Input<string>;
    /** Filebeat is Go: it verifies ELK's certificate with the same bundle as Mattermost. */
    readonly trustBundle?: TrustBundle;
}

export interface Sidecar {
    readonly container: k8s.types.input.core.v1.Container;
    readonly volumes: k8s.types.input.core.v1.Volume[];
}

/** The Filebeat image's `filebeat` user (elastic/beats, dev-tools/packaging/templates/docker/Dockerfile.tmpl). */
export const filebeatUid = 1000;

/**
 * Ships logs to ELK with a Filebeat sidecar per pod (DESIGN decision 8). Holds the one Secret with the
 * ELK password; `sidecar()` gives a pod its Filebeat container, with a filebeat.yml of its own.
 */
export class LogShipping extends pulumi.ComponentResource {
    private readonly credentials?: k8s.core.v1.Secret;

    constructor(
        name: string,
        private readonly args: LogShippingArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(logShippingType, name, {}, opts);
        if (args.password !== undefined) {
            this.credentials = new k8s.core.v1.Secret(
                `${name}-credentials`,
                {
                    metadata: { namespace: args.namespace, labels: labels(name, "log-shipping") },
                    stringData: { password: args.password },
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }

    /**
     * The Filebeat container for one pod of `component`, its filebeat.yml in a ConfigMap owned by
     * `owner`, and the volumes it needs; `mounts` are the pod's log volumes it reads. `runAsUser`, for a
     * pod that gives its containers no uid on plain Kubernetes (filebeatUid: the image's USER is a name,
     * which the kubelet cannot check against runAsNonRoot).
     */
    public sidecar(
        component: string,
        sources: readonly LogSource[],
        mounts: readonly k8s.types.input.core.v1.VolumeMount[],
        owner: pulumi.ComponentResource,
        runAsUser?: number,
    ): Sidecar {
        const config = new k8s.core.v1.ConfigMap(
            `${component}-filebeat`,
            {
                metadata: { namespace: this.args.namespace, labels: labels(component, "log-shipping") },
                data: {
                    "filebeat.yml": renderFilebeatConfig({
                        environment: this.args.environment,
                        component,
                        shipping: this.args.settings,
                        sources,
                    }),
                },
            },
            { parent: owner },
        );
        const fieldRef = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
        const container: k8s.types.input.core.v1.Container = {
            name: "filebeat",
            image: this.args.settings.image,
            args: ["-e", "-c", filebeatConfigFile, "--path.data", filebeatDataDirectory],
            env: [
                fieldRef("POD_NAME", "metadata.name"),
                fieldRef("POD_NAMESPACE", "metadata.namespace"),
                fieldRef("NODE_NAME", "spec.nodeName"),
                ...Object.entries(goTrustEnvironment)
                    .filter(() => this.args.trustBundle !== undefined)
                    .map(([name, value]) => ({ name, value })),
                ...(this.args.settings.username ? [{ name: "ELK_USERNAME", value: this.args.settings.username }] : []),
                ...(this.credentials
                    ? [
                          {
                              name: "ELK_PASSWORD",
                              valueFrom: { secretKeyRef: { name: this.credentials.metadata.name, key: "password" } },
                          },
                      ]
                    : []),
            ],
            resources: containerResources({
                requests: { cpu: "50m", memory: "100Mi" },
                limits: { cpu: "500m", memory: "300Mi" },
            }),
            securityContext: {
                ...restrictedContainerSecurity({ readOnlyRootFilesystem: true }),
                ...(runAsUser === undefined ? {} : { runAsUser, runAsGroup: runAsUser }),
            },
            volumeMounts: [
                { name: "filebeat-config", mountPath: filebeatConfigDirectory, readOnly: true },
                { name: "filebeat-data", mountPath: filebeatDataDirectory },
                ...(this.args.trustBundle ? [this.args.trustBundle.volumeMount()] : []),
                ...mounts.map((mount) => ({ ...mount, readOnly: true })),
            ],
        };
        return {
            container,
            volumes: [
                { name: "filebeat-config", configMap: { name: config.metadata.name } },
                // Filebeat's registry (how far it has read) and its disk queue's overflow.
                { name: "filebeat-data", emptyDir: { sizeLimit: "256Mi" } },
                ...(this.args.trustBundle ? [this.args.trustBundle.volume()] : []),
            ],
        };
    }
}
