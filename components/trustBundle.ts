import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderTrustBundle, trustBundleFile, trustMountPath } from "../config/trust";
import { labels } from "./meta";

export const trustBundleType = "mattermost:k8s:TrustBundle";

export interface TrustBundleArgs {
    readonly namespace: pulumi.Input<string>;
    /** PEM certificates, company CAs first, then the CAs the program creates. */
    readonly certificates: readonly pulumi.Input<string>[];
}

/**
 * The CA certificates every TLS-calling pod trusts (DESIGN decision 6), as one auto-named ConfigMap: a
 * changed CA gives it a new name, which changes every pod template that mounts it and rolls the pods.
 * Mounted read-only; nothing runs as root and nothing rewrites the image's trust store at run time.
 */
export class TrustBundle extends pulumi.ComponentResource {
    public readonly configMapName: pulumi.Output<string>;
    /** The bundle's PEM, as the pods get it. */
    public readonly pem: pulumi.Output<string>;
    public readonly volumeName = "trust-bundle";

    constructor(name: string, args: TrustBundleArgs, opts?: pulumi.ComponentResourceOptions) {
        super(trustBundleType, name, {}, opts);

        this.pem = pulumi.all([...args.certificates]).apply(renderTrustBundle);
        const bundle = new k8s.core.v1.ConfigMap(
            name,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "trust") },
                data: { [trustBundleFile]: this.pem },
            },
            { parent: this },
        );

        this.configMapName = bundle.metadata.name;
        this.registerOutputs({ configMapName: this.configMapName, pem: this.pem });
    }

    public volume(): k8s.types.input.core.v1.Volume {
        return { name: this.volumeName, configMap: { name: this.configMapName } };
    }

    public volumeMount(): k8s.types.input.core.v1.VolumeMount {
        return { name: this.volumeName, mountPath: trustMountPath, readOnly: true };
    }
}
