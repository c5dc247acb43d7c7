import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Egress, NetworkSettings } from "../config/validateNetwork";
import { labels } from "./meta";

export const networkPoliciesType = "mattermost:k8s:NetworkPolicies";

type Selector = Readonly<Record<string, string>>;

/** A workload in the namespace: its pods' labels and the port it serves on. */
export interface Workload {
    readonly selector: Selector;
    readonly port: number;
}

export interface NetworkPoliciesArgs {
    readonly namespace: pulumi.Input<string>;
    readonly platform: "kubernetes" | "openshift";
    readonly settings: NetworkSettings;
    readonly nginx: Workload;
    readonly mattermost: Workload;
    /** The Job that migrates Mattermost's schema before the pair rolls: it reaches the database only. */
    readonly schemaMigration: Selector;
    /** Keycloak; `clusterPorts` when its pods form a cluster (jgroups). */
    readonly keycloak: Workload & { readonly clusterPorts?: readonly number[] };
    /** The Job that applies the realm: it calls Keycloak's admin API. */
    readonly realmApply: Selector;
    /** The deprovisioning job: Keycloak's admin API, and Mattermost's API through nginx. */
    readonly deprovision?: Selector;
    /** In-cluster stores of test stacks; absent when the company's services are used. */
    readonly mattermostDatabase?: Workload;
    readonly keycloakDatabase?: Workload;
    readonly fileStore?: Workload;
    /** Every pod with a Filebeat sidecar ships to ELK. */
    readonly logShipping: boolean;
}

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Rule = { peers: Peer[]; ports: number[] };

const tcp = (ports: readonly number[]) => ports.map((port) => ({ protocol: "TCP", port }));
const pods = (selector: Selector): Peer => ({ podSelector: { matchLabels: { ...selector } } });
const outside = (egress: Egress): Rule => ({
    peers: egress.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
    ports: [...egress.ports],
});

/**
 * Default deny for the namespace, then exactly the flows the design needs (DESIGN decision 9): the
 * router to nginx; nginx to the Mattermost pods and Keycloak; Mattermost to its database, S3, the push
 * VM and Keycloak's public URL; its schema migration to the database; Keycloak to its database and the domain controllers; the shippers to
 * ELK; DNS for everyone. Destinations outside the cluster are the CIDRs of the configuration.
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(networkPoliciesType, name, {}, opts);
        const { settings } = args;
        const policy = (
            policyName: string,
            selector: Selector,
            rules: { ingress?: Rule[]; egress?: Rule[] },
        ): k8s.networking.v1.NetworkPolicy =>
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${policyName}`,
                {
                    metadata: { name: policyName, namespace: args.namespace, labels: labels(name, "network-policy") },
                    spec: {
                        podSelector: { matchLabels: { ...selector } },
                        policyTypes: [...(rules.ingress ? ["Ingress"] : []), ...(rules.egress ? ["Egress"] : [])],
                        ingress: rules.ingress?.map((rule) => ({ from: rule.peers, ports: tcp(rule.ports) })),
                        egress: rules.egress?.map((rule) => ({ to: rule.peers, ports: tcp(rule.ports) })),
                    },
                },
                { parent: this },
            );

        new k8s.networking.v1.NetworkPolicy(
            `${name}-default-deny`,
            {
                metadata: { name: "default-deny", namespace: args.namespace, labels: labels(name, "network-policy") },
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            },
            { parent: this },
        );
        // DNS for every pod: the cluster's resolver pods only, not the rest of their namespace
        // (OpenShift's listen on 5353 behind their Service's 53). Their labels: CoreDNS's k8s-app: kube-dns
        // (kubeadm, GKE, EKS, AKS), and the DNS operator's DaemonSet dns-default on OpenShift.
        const dns: { namespace: string; pods: Record<string, string> } =
            args.platform === "openshift"
                ? { namespace: "openshift-dns", pods: { "dns.operator.openshift.io/daemonset-dns": "default" } }
                : { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } };
        new k8s.networking.v1.NetworkPolicy(
            `${name}-dns`,
            {
                metadata: { name: "allow-dns", namespace: args.namespace, labels: labels(name, "network-policy") },
                spec: {
                    podSelector: {},
                    policyTypes: ["Egress"],
                    egress: [
                        {
                            to: [
                                {
                                    namespaceSelector: {
                                        matchLabels: { "kubernetes.io/metadata.name": dns.namespace },
                                    },
                                    podSelector: { matchLabels: dns.pods },
                                },
                            ],
                            ports: [53, ...(args.platform === "openshift" ? [5353] : [])].flatMap((port) => [
                                { protocol: "UDP", port },
                                { protocol: "TCP", port },
                            ]),
                        },
                    ],
                },
            },
            { parent: this },
        );

        const elk = args.logShipping && settings.elk ? [outside(settings.elk)] : [];
        const router: Peer =
            args.platform === "openshift"
                ? // The ingress controllers' traffic, a router on the host network's too (OpenShift 4.6 on;
                  // with podSelector {}, as a namespace selector alone leaves host-network pods out).
                  {
                      namespaceSelector: { matchLabels: { "policy-group.network.openshift.io/ingress": "" } },
                      podSelector: {},
                  }
                : { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": settings.ingressNamespace } } };

        const deprovision = args.deprovision ? [pods(args.deprovision)] : [];
        policy("nginx", args.nginx.selector, {
            ingress: [{ peers: [router, ...deprovision], ports: [args.nginx.port] }],
            egress: [
                { peers: [pods(args.mattermost.selector)], ports: [args.mattermost.port] },
                { peers: [pods(args.keycloak.selector)], ports: [args.keycloak.port] },
                ...elk,
            ],
        });

        const database = (store: Workload | undefined): Rule[] =>
            store
                ? [{ peers: [pods(store.selector)], ports: [store.port] }]
                : settings.database
                  ? [outside(settings.database)]
                  : [];
        policy("mattermost", args.mattermost.selector, {
            ingress: [{ peers: [pods(args.nginx.selector)], ports: [args.mattermost.port] }],
            egress: [
                ...database(args.mattermostDatabase),
                ...(args.fileStore
                    ? [{ peers: [pods(args.fileStore.selector)], ports: [args.fileStore.port] }]
                    : settings.s3
                      ? [outside(settings.s3)]
                      : []),
                ...(settings.pushHost ? [outside(settings.pushHost)] : []),
                ...(settings.smtp ? [outside(settings.smtp)] : []),
                // Keycloak at its public URL: one issuer for the browser and the back-channel.
                outside(settings.publicEndpoint),
                ...elk,
            ],
        });

        policy("mattermost-schema-migration", args.schemaMigration, {
            egress: database(args.mattermostDatabase),
        });

        const cluster = args.keycloak.clusterPorts ? [...args.keycloak.clusterPorts] : undefined;
        policy("keycloak", args.keycloak.selector, {
            ingress: [
                {
                    peers: [pods(args.nginx.selector), pods(args.realmApply), ...deprovision],
                    ports: [args.keycloak.port],
                },
                ...(cluster ? [{ peers: [pods(args.keycloak.selector)], ports: cluster }] : []),
            ],
            egress: [
                ...database(args.keycloakDatabase),
                ...(settings.activeDirectory ? [outside(settings.activeDirectory)] : []),
                ...(cluster ? [{ peers: [pods(args.keycloak.selector)], ports: cluster }] : []),
                ...elk,
            ],
        });

        policy("keycloak-realm-apply", args.realmApply, {
            egress: [{ peers: [pods(args.keycloak.selector)], ports: [args.keycloak.port] }],
        });

        if (args.deprovision) {
            policy("deprovision", args.deprovision, {
                egress: [
                    { peers: [pods(args.keycloak.selector)], ports: [args.keycloak.port] },
                    { peers: [pods(args.nginx.selector)], ports: [args.nginx.port] },
                ],
            });
        }

        const stores: [string, Workload | undefined, Selector[]][] = [
            ["mattermost-database", args.mattermostDatabase, [args.mattermost.selector, args.schemaMigration]],
            ["keycloak-database", args.keycloakDatabase, [args.keycloak.selector]],
            ["mattermost-file-store", args.fileStore, [args.mattermost.selector]],
        ];
        for (const [storeName, store, clients] of stores) {
            if (store) {
                policy(storeName, store.selector, { ingress: [{ peers: clients.map(pods), ports: [store.port] }] });
            }
        }

        this.registerOutputs({});
    }
}
