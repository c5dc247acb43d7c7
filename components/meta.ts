/** Labels, security contexts and small pod-spec pieces shared by the components. */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Resources } from "../config/validate";
import type { PodDefaults } from "../config/registry";
import type { SchedulingGroup } from "../config/scheduling";

export const partOf = "mattermost-platform";

/** Every label of an object; selectors use only `selectorLabels`. */
export function labels(name: string, component: string): Record<string, string> {
    return {
        ...selectorLabels(name),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": partOf,
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

export function selectorLabels(name: string): Record<string, string> {
    return { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": partOf };
}

/**
 * Every place a pod of this program departs from the hardening the rest follow (Pod Security
 * "restricted" plus a read-only root, limits and no service-account token), with the reason. The
 * components take their exceptions from here, and a test walks every pod of both rendered stacks and
 * refuses any departure not listed; the README's security section is generated from this list.
 */
export const securityExceptions = {
    mattermostWritableRoot: {
        workloads: ["mattermost-1", "mattermost-2"],
        container: "mattermost",
        rule: "readOnlyRootFilesystem",
        reason: "Mattermost rewrites client/root.html inside the image at every start and exits if it cannot; every path it keeps data in is an emptyDir.",
    },
    keycloakWritableRoot: {
        workloads: ["keycloak"],
        container: "keycloak",
        rule: "readOnlyRootFilesystem",
        reason: "the stock Keycloak image rebuilds itself at start for the build options it is given (database, health, /auth) into /opt/keycloak/lib/quarkus.",
    },
    nginxSharedProcessNamespace: {
        workloads: ["nginx"],
        container: "*",
        rule: "shareProcessNamespace",
        reason: "the failover guard reloads nginx by signalling its master process, so the pod's containers see each other's processes (as one uid, nothing else is shared).",
    },
} as const;

export type SecurityException = (typeof securityExceptions)[keyof typeof securityExceptions];

/**
 * Pod Security admission enforces "restricted" on the namespace the program creates, so a pod that
 * departs from it is refused by the API server, not only by the test that walks the render. Pinned to
 * no version: the profile is the cluster's, as its other namespaces get it.
 */
export const podSecurityLabels: Readonly<Record<string, string>> = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
};

/** Container hardening of the Pod Security "restricted" profile, read-only root unless an exception says otherwise. */
export function restrictedContainerSecurity(
    options:
        { readOnlyRootFilesystem: true } | { writableRoot: SecurityException & { rule: "readOnlyRootFilesystem" } },
): k8s.types.input.core.v1.SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        readOnlyRootFilesystem: "readOnlyRootFilesystem" in options,
        runAsNonRoot: true,
    };
}

/**
 * The pinned Node image (nodeImage) has no USER, so it runs as root; its own `node` user is 1000:1000
 * (nodejs/docker-node, 20/alpine3.22/Dockerfile).
 */
export const nodeImageUid = 1000;

/**
 * A pod of the Node image: on Kubernetes as its `node` user (the kubelet refuses runAsNonRoot for an
 * image that would run as root, unless a non-root uid is given), on OpenShift as the uid the restricted
 * SCC assigns from the namespace's range.
 */
export function nodeImagePodSecurity(platform: "kubernetes" | "openshift"): k8s.types.input.core.v1.PodSecurityContext {
    return restrictedPodSecurity(
        platform === "openshift"
            ? undefined
            : { runAsUser: nodeImageUid, runAsGroup: nodeImageUid, fsGroup: nodeImageUid },
    );
}

export function restrictedPodSecurity(
    identity: { runAsUser: number; runAsGroup: number; fsGroup: number } | undefined,
): k8s.types.input.core.v1.PodSecurityContext {
    return { ...identity, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
}

/** Resources of the one-pod stores of test stacks (PostgreSQL, S3): small, but bounded. */
export const testStoreResources: Resources = {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "1", memory: "1Gi" },
};

export function containerResources(resources: Resources): k8s.types.input.core.v1.ResourceRequirements {
    return { requests: { ...resources.requests }, limits: { ...resources.limits } };
}

/** Where a container writes, and the most it may keep there before the kubelet evicts the pod. */
export interface ScratchPath {
    readonly mountPath: string;
    /** A Kubernetes quantity, e.g. "256Mi": an emptyDir without one could fill the node's disk. */
    readonly sizeLimit: string;
}

/** emptyDir volumes with their mounts, for every path a container must write to, each bounded. */
export function scratchVolumes(paths: Readonly<Record<string, ScratchPath>>): {
    volumes: k8s.types.input.core.v1.Volume[];
    mounts: k8s.types.input.core.v1.VolumeMount[];
} {
    const entries = Object.entries(paths);
    return {
        volumes: entries.map(([name, { sizeLimit }]) => ({ name, emptyDir: { sizeLimit } })),
        mounts: entries.map(([name, { mountPath }]) => ({ name, mountPath })),
    };
}

/**
 * A size that holds `bytes`, in whole Mi, written as the API server writes it back (the largest binary
 * suffix with a whole number: 1024Mi is stored as 1Gi), so a preview never shows a change that is none.
 */
export function mebibytes(bytes: number): string {
    const mebi = Math.ceil(bytes / (1024 * 1024));
    if (mebi % (1024 * 1024) === 0) {
        return `${mebi / (1024 * 1024)}Ti`;
    }
    return mebi % 1024 === 0 ? `${mebi / 1024}Gi` : `${mebi}Mi`;
}

/** Volumes by name, first one kept: containers of one pod may ask for the same volume (the trust bundle). */
export function uniqueVolumes(volumes: readonly k8s.types.input.core.v1.Volume[]): k8s.types.input.core.v1.Volume[] {
    const seen = new Set<string>();
    return volumes.filter((volume) => {
        const name = volume.name as string;
        if (seen.has(name)) {
            return false;
        }
        seen.add(name);
        return true;
    });
}

type SharedPodSpec = Pick<
    k8s.types.input.core.v1.PodSpec,
    "imagePullSecrets" | "nodeSelector" | "tolerations" | "priorityClassName" | "topologySpreadConstraints"
>;

/**
 * The parts of a pod spec the stack sets for every pod (the pull secrets) and for a piece's pods (where
 * they may run: config/scheduling.ts); nothing that is unset. `spreadSelector` selects the piece's pods
 * for its topology spread.
 */
export function sharedPodSpec(
    pods: PodDefaults | undefined,
    group: SchedulingGroup,
    spreadSelector?: Readonly<Record<string, string>>,
): SharedPodSpec {
    const scheduling = pods?.scheduling[group];
    const spread = scheduling?.spread;
    return {
        ...(pods && pods.imagePullSecrets.length > 0
            ? { imagePullSecrets: pods.imagePullSecrets.map((name) => ({ name })) }
            : {}),
        ...(scheduling?.nodeSelector ? { nodeSelector: { ...scheduling.nodeSelector } } : {}),
        ...(scheduling?.tolerations ? { tolerations: scheduling.tolerations.map((entry) => ({ ...entry })) } : {}),
        ...(scheduling?.priorityClassName ? { priorityClassName: scheduling.priorityClassName } : {}),
        ...(spread && spreadSelector
            ? {
                  topologySpreadConstraints: [
                      {
                          maxSkew: 1,
                          topologyKey: spread.topologyKey,
                          whenUnsatisfiable: spread.whenUnsatisfiable,
                          labelSelector: { matchLabels: { ...spreadSelector } },
                      },
                  ],
              }
            : {}),
    };
}

/**
 * The Deployment of a one-pod store of a test stack (PostgreSQL, S3): one replica, replaced rather than
 * rolled (two servers on one data directory would corrupt it), a fixed non-root id, no API token, and
 * the container's data on the given volumes.
 */
export function singlePodStore(store: {
    /** Logical name: selector and labels. */
    name: string;
    /** The Deployment's name in the cluster. */
    deploymentName: string;
    namespace: pulumi.Input<string>;
    component: string;
    uid: number;
    container: k8s.types.input.core.v1.Container;
    volumes: k8s.types.input.core.v1.Volume[];
    pods?: PodDefaults;
}): k8s.apps.v1.DeploymentArgs {
    const podLabels = labels(store.name, store.component);
    return {
        metadata: { name: store.deploymentName, namespace: store.namespace, labels: podLabels },
        spec: {
            replicas: 1,
            strategy: { type: "Recreate" },
            selector: { matchLabels: selectorLabels(store.name) },
            template: {
                metadata: { labels: podLabels },
                spec: {
                    ...sharedPodSpec(store.pods, "stores"),
                    automountServiceAccountToken: false,
                    securityContext: restrictedPodSecurity({
                        runAsUser: store.uid,
                        runAsGroup: store.uid,
                        fsGroup: store.uid,
                    }),
                    containers: [
                        {
                            ...store.container,
                            resources: containerResources(testStoreResources),
                            securityContext: restrictedContainerSecurity({ readOnlyRootFilesystem: true }),
                        },
                    ],
                    volumes: store.volumes,
                },
            },
        },
    };
}

/**
 * Options of a value that must never change by accident: the at-rest key, the public-link salt, the
 * client secrets, the push prefix, a private CA's key. In production they are protected, so that a
 * rename, a refactor or a changed input that would make a new one fails the preview instead of rotating
 * it (a new at-rest key leaves what Mattermost encrypted unreadable); `pulumi state unprotect` is the
 * deliberate way, and a rename keeps them with `aliases`.
 */
export function lasting(parent: pulumi.Resource, production: boolean): pulumi.CustomResourceOptions {
    return { parent, protect: production };
}
