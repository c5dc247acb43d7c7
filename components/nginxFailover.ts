import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { edgeAnnotations, edgeTimeoutSeconds } from "../config/edge";
import { nginxSyslog } from "../config/filebeat";
import { guardArgs, guardLivenessProbe, guardScriptName, guardUpstreamFile, renderGuardScript } from "../config/guard";
import { renderNginxConf } from "../config/nginx";
import { quantityValue } from "../config/schemas";
import type { Resources } from "../config/validate";
import {
    containerResources,
    labels,
    mebibytes,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    scratchVolumes,
    selectorLabels,
    sharedPodSpec,
    uniqueVolumes,
} from "./meta";
import type { LogShipping } from "./logShipping";
import type { PodDefaults } from "../config/registry";

export const nginxFailoverType = "mattermost:k8s:NginxFailover";

export interface NginxFailoverArgs {
    readonly namespace: string;
    /** What every pod of the stack gets: the registries' pull secrets. */
    readonly pods?: PodDefaults;
    readonly platform: "kubernetes" | "openshift";
    readonly hostname: string;
    /** Pinned unprivileged nginx image. */
    readonly image: string;
    /** Pinned Node.js image that runs the failover guard. */
    readonly guardImage: string;
    readonly replicas: number;
    readonly resources: Resources;
    /** Names and port of the two Mattermost Services. */
    readonly primaryService: string;
    readonly backupService: string;
    readonly mattermostPort: number;
    readonly keycloakService: string;
    readonly keycloakPort: number;
    readonly dnsResolver: string;
    readonly maxBodyBytes: number;
    /** Ingress only: the IngressClass. */
    readonly ingressClassName?: string;
    /** The Secret with `hostname`'s certificate: the Ingress's, or the Route's external certificate. */
    readonly ingressTlsSecretName?: string;
    /** The stack's own annotations of the Ingress or Route, beside the program's. */
    readonly edgeAnnotations?: Readonly<Record<string, string>>;
    /** Absent: logs stay on the console and no sidecar runs. */
    readonly logShipping?: LogShipping;
}

export const listenPort = 8080;
export const healthPort = 8081;
export { edgeTimeoutSeconds };
/** The unprivileged nginx image's user; the guard runs as the same one, so it may signal nginx. */
export const nginxUid = 101;
/** A check a second and a small state: Node's own footprint is most of it. */
const guardResources = { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "96Mi" } };

/**
 * nginx in front of the pair (DESIGN decision 4): everyone goes to the primary, the `backup` server takes
 * over when it fails, Keycloak is served under /auth/, and the edge is an OpenShift Route or an Ingress.
 */
export class NginxFailover extends pulumi.ComponentResource {
    public readonly service: k8s.core.v1.Service;
    /** The nginx.conf the pods run, exactly. */
    public readonly nginxConf: string;

    constructor(name: string, args: NginxFailoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super(nginxFailoverType, name, {}, opts);

        const clusterName = (service: string) => `${service}.${args.namespace}.svc.cluster.local`;
        const runtimeDir = "/tmp";
        const guard = {
            primary: `${clusterName(args.primaryService)}:${args.mattermostPort}`,
            backup: `${clusterName(args.backupService)}:${args.mattermostPort}`,
            runtimeDir,
        };
        this.nginxConf = renderNginxConf({
            workerProcesses: Math.max(1, Math.ceil(quantityValue(args.resources.limits.cpu))),
            listenPort,
            healthPort,
            upstreamFile: guardUpstreamFile(runtimeDir),
            keycloakUrl: `http://${clusterName(args.keycloakService)}:${args.keycloakPort}`,
            dnsResolver: args.dnsResolver,
            maxBodyBytes: args.maxBodyBytes,
            runtimeDir,
            syslog: args.logShipping ? nginxSyslog : undefined,
        });
        const shipper = args.logShipping?.sidecar(
            name,
            [
                { kind: "syslogUdp", id: "nginx-access", address: nginxSyslog.access, json: true },
                { kind: "syslogUdp", id: "nginx-error", address: nginxSyslog.error, json: false },
            ],
            [],
            this,
        );

        const conf = new k8s.core.v1.ConfigMap(
            `${name}-conf`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "proxy") },
                data: { "nginx.conf": this.nginxConf, [guardScriptName]: renderGuardScript() },
            },
            { parent: this },
        );

        const scratch = scratchVolumes({
            // nginx buffers request bodies here (client_body_temp_path): room for eight of the largest
            // uploads at once, and at least 1 GiB.
            tmp: { mountPath: runtimeDir, sizeLimit: mebibytes(Math.max(1024 ** 3, 8 * args.maxBodyBytes)) },
        });
        const guardContainer = (containerName: string, init: boolean): k8s.types.input.core.v1.Container => ({
            name: containerName,
            image: args.guardImage,
            command: ["node", `/etc/nginx/mattermost/${guardScriptName}`, ...guardArgs(guard, init)],
            // A guard that stopped working shows as restarts, not as a failover that never comes.
            ...(init ? {} : { livenessProbe: guardLivenessProbe(runtimeDir) }),
            resources: containerResources(guardResources),
            securityContext: restrictedContainerSecurity({ readOnlyRootFilesystem: true }),
            // The runtime directory: the upstream file it writes, nginx's pid file it reads.
            volumeMounts: [...scratch.mounts, { name: "conf", mountPath: "/etc/nginx/mattermost", readOnly: true }],
        });
        const podLabels = labels(name, "proxy");
        const health = { httpGet: { path: "/healthz", port: "health" }, timeoutSeconds: 2 };
        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: { name, namespace: args.namespace, labels: podLabels },
                spec: {
                    replicas: args.replicas,
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                    selector: { matchLabels: selectorLabels(name) },
                    template: {
                        metadata: { labels: podLabels },
                        spec: {
                            ...sharedPodSpec(args.pods, "nginx", selectorLabels(name)),
                            automountServiceAccountToken: false,
                            // The guard signals nginx's master to reload: one process namespace, one uid (on
                            // OpenShift the SCC gives every container of the pod the same assigned uid).
                            // An exception to the hardening: securityExceptions.nginxSharedProcessNamespace.
                            shareProcessNamespace: true,
                            securityContext: restrictedPodSecurity(
                                args.platform === "openshift"
                                    ? undefined
                                    : { runAsUser: nginxUid, runAsGroup: nginxUid, fsGroup: nginxUid },
                            ),
                            affinity: {
                                podAntiAffinity: {
                                    preferredDuringSchedulingIgnoredDuringExecution: [
                                        {
                                            weight: 100,
                                            podAffinityTerm: {
                                                labelSelector: { matchLabels: selectorLabels(name) },
                                                topologyKey: "kubernetes.io/hostname",
                                            },
                                        },
                                    ],
                                },
                            },
                            // nginx.conf includes the upstream file, so it must exist before nginx starts.
                            initContainers: [guardContainer("failover-guard-init", true)],
                            containers: [
                                {
                                    name: "nginx",
                                    image: args.image,
                                    command: ["nginx", "-e", "stderr", "-c", "/etc/nginx/mattermost/nginx.conf"],
                                    ports: [
                                        { name: "http", containerPort: listenPort },
                                        { name: "health", containerPort: healthPort },
                                    ],
                                    livenessProbe: { ...health, periodSeconds: 10, failureThreshold: 3 },
                                    readinessProbe: { ...health, periodSeconds: 5, failureThreshold: 2 },
                                    resources: containerResources(args.resources),
                                    securityContext: restrictedContainerSecurity({ readOnlyRootFilesystem: true }),
                                    volumeMounts: [
                                        ...scratch.mounts,
                                        { name: "conf", mountPath: "/etc/nginx/mattermost", readOnly: true },
                                    ],
                                },
                                guardContainer("failover-guard", false),
                                ...(shipper ? [shipper.container] : []),
                            ],
                            volumes: uniqueVolumes([
                                ...scratch.volumes,
                                { name: "conf", configMap: { name: conf.metadata.name } },
                                ...(shipper?.volumes ?? []),
                            ]),
                        },
                    },
                },
            },
            { parent: this },
        );

        // With two pods or more, a drain leaves one serving. With one, a budget of one available pod would
        // refuse every eviction, and no node drain could finish: there is none, and a drain stops the chat
        // briefly (README, nginxReplicas).
        if (args.replicas > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-disruption-budget`,
                {
                    metadata: { name, namespace: args.namespace, labels: podLabels },
                    spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(name) } },
                },
                { parent: this },
            );
        }

        this.service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name, namespace: args.namespace, labels: podLabels },
                spec: {
                    type: "ClusterIP",
                    selector: selectorLabels(name),
                    ports: [{ name: "http", port: listenPort, targetPort: "http" }],
                },
            },
            { parent: this, dependsOn: [deployment] },
        );

        if (args.platform === "openshift") {
            const routerAccess = args.ingressTlsSecretName
                ? this.routerReadsCertificate(name, args.namespace, args.ingressTlsSecretName, podLabels)
                : [];
            new k8s.apiextensions.CustomResource(
                `${name}-route`,
                {
                    apiVersion: "route.openshift.io/v1",
                    kind: "Route",
                    metadata: {
                        name: "mattermost",
                        namespace: args.namespace,
                        labels: podLabels,
                        annotations: edgeAnnotations("openshift", args.edgeAnnotations ?? {}),
                    },
                    spec: {
                        host: args.hostname,
                        to: { kind: "Service", name: this.service.metadata.name, weight: 100 },
                        port: { targetPort: "http" },
                        tls: {
                            termination: "edge",
                            insecureEdgeTerminationPolicy: "Redirect",
                            ...(args.ingressTlsSecretName
                                ? { externalCertificate: { name: args.ingressTlsSecretName } }
                                : {}),
                        },
                        wildcardPolicy: "None",
                    },
                },
                { parent: this, dependsOn: routerAccess },
            );
        } else {
            new k8s.networking.v1.Ingress(
                `${name}-ingress`,
                {
                    metadata: {
                        name: "mattermost",
                        namespace: args.namespace,
                        labels: podLabels,
                        annotations: edgeAnnotations("kubernetes", args.edgeAnnotations ?? {}),
                    },
                    spec: {
                        ingressClassName: args.ingressClassName,
                        tls: [{ hosts: [args.hostname], secretName: args.ingressTlsSecretName }],
                        rules: [
                            {
                                host: args.hostname,
                                http: {
                                    paths: [
                                        {
                                            path: "/",
                                            pathType: "Prefix",
                                            backend: {
                                                service: { name: this.service.metadata.name, port: { name: "http" } },
                                            },
                                        },
                                    ],
                                },
                            },
                        ],
                    },
                },
                { parent: this },
            );
        }

        this.registerOutputs({ serviceName: this.service.metadata.name, nginxConf: this.nginxConf });
    }

    /**
     * The OpenShift router reads a Route's external certificate with its own service account, which may
     * read that one Secret and nothing else of the namespace.
     */
    private routerReadsCertificate(
        name: string,
        namespace: pulumi.Input<string>,
        secretName: string,
        podLabels: Record<string, string>,
    ): pulumi.Resource[] {
        const roleName = "mattermost-router-certificate";
        const role = new k8s.rbac.v1.Role(
            `${name}-router-certificate`,
            {
                metadata: { name: roleName, namespace, labels: podLabels },
                rules: [
                    {
                        apiGroups: [""],
                        resources: ["secrets"],
                        resourceNames: [secretName],
                        verbs: ["get", "list", "watch"],
                    },
                ],
            },
            { parent: this },
        );
        const binding = new k8s.rbac.v1.RoleBinding(
            `${name}-router-certificate`,
            {
                metadata: { name: roleName, namespace, labels: podLabels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName },
                subjects: [{ kind: "ServiceAccount", name: "router", namespace: "openshift-ingress" }],
            },
            { parent: this, dependsOn: [role] },
        );
        return [role, binding];
    }
}
