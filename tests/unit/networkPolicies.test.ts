/**
 * The rendered network policies of both stacks, evaluated as Kubernetes does (a flow passes when some
 * policy selecting the source allows it out and some policy selecting the destination allows it in),
 * over every pair of workloads and ports and every configured outside address: exactly the design's
 * flows pass.
 */
import * as fs from "node:fs";
import ipaddr from "ipaddr.js";
import { renderBothStacks, renderVariant, type Rendered } from "../helpers/render";

const stacks: Record<string, Rendered> = renderBothStacks();

type Labels = Record<string, string>;
interface Peer {
    podSelector?: { matchLabels?: Labels };
    namespaceSelector?: { matchLabels?: Labels };
    ipBlock?: { cidr: string };
}
interface PolicyRule {
    from?: Peer[];
    to?: Peer[];
    ports?: { protocol: string; port: number }[];
}
interface Policy {
    metadata: { name: string };
    spec: {
        podSelector: { matchLabels?: Labels };
        policyTypes: string[];
        ingress?: PolicyRule[];
        egress?: PolicyRule[];
    };
}

/** Somebody at one end of a flow: a pod of the namespace, a pod elsewhere, or an address outside. */
interface Endpoint {
    readonly name: string;
    readonly labels?: Labels;
    readonly namespaceLabels?: Labels;
    readonly address?: string;
}

const matches = (selector: Labels | undefined, labels: Labels | undefined) =>
    Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);

function peerMatches(peer: Peer, endpoint: Endpoint): boolean {
    if (peer.ipBlock) {
        if (!endpoint.address) {
            return false;
        }
        return ipaddr.parse(endpoint.address).match(ipaddr.parseCIDR(peer.ipBlock.cidr));
    }
    if (peer.namespaceSelector) {
        return (
            endpoint.namespaceLabels !== undefined &&
            matches(peer.namespaceSelector.matchLabels, endpoint.namespaceLabels) &&
            (!peer.podSelector || matches(peer.podSelector.matchLabels, endpoint.labels))
        );
    }
    // A pod selector alone means pods of the policy's own namespace.
    return (
        endpoint.labels !== undefined &&
        endpoint.namespaceLabels === undefined &&
        matches(peer.podSelector?.matchLabels, endpoint.labels)
    );
}

function allows(
    policies: Policy[],
    direction: "Ingress" | "Egress",
    self: Endpoint,
    other: Endpoint,
    port: number,
    protocol: string,
) {
    if (self.labels === undefined || self.namespaceLabels !== undefined) {
        return true; // Outside the namespace: not ours to police.
    }
    const selecting = policies.filter(
        (policy) =>
            policy.spec.policyTypes.includes(direction) && matches(policy.spec.podSelector.matchLabels, self.labels),
    );
    if (selecting.length === 0) {
        return true;
    }
    return selecting.some((policy) =>
        (direction === "Ingress" ? policy.spec.ingress : policy.spec.egress)?.some((rule) => {
            const peers = direction === "Ingress" ? rule.from : rule.to;
            const peerOk = !peers || peers.some((peer) => peerMatches(peer, other));
            const portOk =
                !rule.ports || rule.ports.some((allowed) => allowed.port === port && allowed.protocol === protocol);
            return peerOk && portOk;
        }),
    );
}

interface Workload {
    name: string;
    labels: Labels;
    ports: number[];
}

function workloads(rendered: Rendered): Workload[] {
    type Template = { metadata: { labels: Labels }; spec: { containers: { ports?: { containerPort: number }[] }[] } };
    return rendered.manifests.flatMap((manifest) => {
        const spec = manifest.spec as { template?: Template; jobTemplate?: { spec: { template: Template } } };
        const template = ["Deployment", "Job"].includes(String(manifest.kind))
            ? spec.template
            : manifest.kind === "CronJob"
              ? spec.jobTemplate?.spec.template
              : undefined;
        if (!template) {
            return [];
        }
        const name = (manifest.metadata as { name: string }).name.replace(/-[0-9a-f]{8}$/, "");
        const ports = template.spec.containers.flatMap((container) =>
            (container.ports ?? []).map((port) => port.containerPort),
        );
        // Keycloak's failure detection listens on jgroups' port + 50000 without declaring it.
        return [{ name, labels: template.metadata.labels, ports: ports.includes(7800) ? [...ports, 57800] : ports }];
    });
}

/** Every flow the rendered policies let through, as "source -> destination:port". */
function allowedFlows(rendered: Rendered, outside: Record<string, string>, router: Endpoint): string[] {
    const policies = rendered.manifests.filter((manifest) => manifest.kind === "NetworkPolicy") as unknown as Policy[];
    const pods = workloads(rendered);
    const podEndpoints: Endpoint[] = pods.map((pod) => ({ name: pod.name, labels: pod.labels }));
    const outsidePorts = [443, 5432, 636, 389, 9200, 80, 25, 587];
    const destinations: [Endpoint, number][] = [
        ...pods.flatMap((pod) =>
            pod.ports.map((port) => [{ name: pod.name, labels: pod.labels }, port] as [Endpoint, number]),
        ),
        ...Object.entries(outside).flatMap(([name, address]) =>
            outsidePorts.map((port) => [{ name, address }, port] as [Endpoint, number]),
        ),
    ];
    const flows: string[] = [];
    for (const source of [router, ...podEndpoints]) {
        for (const [destination, port] of destinations) {
            if (source.name === destination.name && source.name !== "keycloak") {
                continue;
            }
            if (source.namespaceLabels !== undefined && destination.address !== undefined) {
                continue; // From elsewhere to elsewhere: neither end is the namespace's.
            }
            if (
                allows(policies, "Egress", source, destination, port, "TCP") &&
                allows(policies, "Ingress", destination, source, port, "TCP")
            ) {
                flows.push(`${source.name} -> ${destination.name}:${port}`);
            }
        }
    }
    return flows.sort();
}

/** The workloads that may ask a pod with `podLabels` in `namespace` on port 53. */
function dnsReachable(rendered: Rendered, namespace: string, podLabels: Labels): string[] {
    const policies = rendered.manifests.filter((manifest) => manifest.kind === "NetworkPolicy") as unknown as Policy[];
    const dns: Endpoint = {
        name: "dns",
        labels: podLabels,
        namespaceLabels: { "kubernetes.io/metadata.name": namespace },
    };
    return workloads(rendered)
        .filter((pod) => allows(policies, "Egress", { name: pod.name, labels: pod.labels }, dns, 53, "UDP"))
        .map((pod) => pod.name)
        .sort();
}

describe("network policies of the test stack", () => {
    // The test stack's outside addresses (Pulumi.test.yaml), and one address nobody listed.
    const outside = { "public-endpoint": "10.60.255.10", "push-vm": "10.60.254.7", elsewhere: "192.0.2.1" };
    const router: Endpoint = {
        name: "ingress-controller",
        labels: {},
        namespaceLabels: { "kubernetes.io/metadata.name": "ingress-nginx" },
    };

    it("let exactly the design's flows through", () => {
        expect(allowedFlows(stacks.test, outside, router)).toEqual(
            [
                "ingress-controller -> nginx:8080",
                "nginx -> mattermost-1:8065",
                "nginx -> mattermost-2:8065",
                "nginx -> keycloak:8080",
                "mattermost-1 -> mattermost-postgres:5432",
                "mattermost-2 -> mattermost-postgres:5432",
                "mattermost-schema-migration -> mattermost-postgres:5432",
                "mattermost-1 -> mattermost-s3:8333",
                "mattermost-2 -> mattermost-s3:8333",
                "mattermost-1 -> push-vm:443",
                "mattermost-2 -> push-vm:443",
                "mattermost-1 -> public-endpoint:443",
                "mattermost-2 -> public-endpoint:443",
                "keycloak -> keycloak-postgres:5432",
                "keycloak-realm-apply -> keycloak:8080",
                "deprovision -> keycloak:8080",
                "deprovision -> nginx:8080",
            ].sort(),
        );
    });

    it("let every pod ask the cluster's DNS, and nothing else in kube-system", () => {
        expect(dnsReachable(stacks.test, "kube-system", { "k8s-app": "kube-dns" })).toEqual(
            workloads(stacks.test)
                .map((pod) => pod.name)
                .sort(),
        );
        expect(dnsReachable(stacks.test, "kube-system", { component: "kube-controller-manager" })).toEqual([]);
    });
});

describe("network policies of the prod stack", () => {
    const outside = {
        "public-endpoint": "10.40.255.10",
        database: "10.50.0.20",
        s3: "10.51.0.20",
        "domain-controller": "10.52.0.11",
        elk: "10.53.0.20",
        "push-vm": "10.54.0.7",
        elsewhere: "192.0.2.1",
    };
    // OpenShift's label for the ingress controllers' traffic, also from a router on the host network
    // (which the legacy "network.openshift.io/policy-group: ingress" misses).
    const router: Endpoint = {
        name: "router",
        labels: {},
        namespaceLabels: { "policy-group.network.openshift.io/ingress": "" },
    };

    it("let exactly the design's flows through", () => {
        const shippers = ["nginx", "mattermost-1", "mattermost-2", "keycloak"].map((name) => `${name} -> elk:9200`);
        expect(allowedFlows(stacks.prod, outside, router)).toEqual(
            [
                "router -> nginx:8080",
                "nginx -> mattermost-1:8065",
                "nginx -> mattermost-2:8065",
                "nginx -> keycloak:8080",
                "mattermost-1 -> database:5432",
                "mattermost-2 -> database:5432",
                "mattermost-schema-migration -> database:5432",
                "mattermost-1 -> s3:443",
                "mattermost-2 -> s3:443",
                "mattermost-1 -> push-vm:443",
                "mattermost-2 -> push-vm:443",
                "mattermost-1 -> public-endpoint:443",
                "mattermost-2 -> public-endpoint:443",
                "keycloak -> database:5432",
                "keycloak -> domain-controller:636",
                // Two Keycloak pods form one cache cluster: jgroups and its failure detection.
                "keycloak -> keycloak:7800",
                "keycloak -> keycloak:57800",
                "keycloak-realm-apply -> keycloak:8080",
                "deprovision -> keycloak:8080",
                "deprovision -> nginx:8080",
                ...shippers,
            ].sort(),
        );
    });

    it("let every pod ask OpenShift's DNS, and nothing else in openshift-dns", () => {
        expect(
            dnsReachable(stacks.prod, "openshift-dns", { "dns.operator.openshift.io/daemonset-dns": "default" }),
        ).toEqual(
            workloads(stacks.prod)
                .map((pod) => pod.name)
                .sort(),
        );
        expect(
            dnsReachable(stacks.prod, "openshift-dns", { "dns.operator.openshift.io/daemonset-node-resolver": "" }),
        ).toEqual([]);
    });
});

describe("network policies with an SMTP server", () => {
    it("let the pair, and nothing else, reach it at its port", () => {
        const rendered = renderVariant("test", (config) => {
            config["mattermost:mattermostSettings"] = [
                'EmailSettings.SMTPServer="smtp.corp.example.com"',
                'EmailSettings.SMTPPort="587"',
            ];
            config["mattermost:smtpCidrs"] = ["10.55.0.25/32"];
        });
        try {
            const router: Endpoint = { name: "router", labels: {}, namespaceLabels: { none: "" } };
            const toSmtp = allowedFlows(rendered, { smtp: "10.55.0.25" }, router).filter((flow) =>
                flow.includes("-> smtp:"),
            );
            expect(toSmtp).toEqual(["mattermost-1 -> smtp:587", "mattermost-2 -> smtp:587"]);
        } finally {
            fs.rmSync(rendered.dir, { recursive: true, force: true });
        }
    }, 60000);
});
