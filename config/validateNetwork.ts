/**
 * The network policies' keys (issue 7): where the services outside the cluster are, and the rules that
 * make each one required once traffic is denied by default. Part of validateStackConfig; pure like it.
 */
import { z } from "zod";
import type { ConfigKeyName } from "./keys";
import { bool, cidrList, namespacePattern } from "./schemas";

/** Addresses outside the cluster, and the TCP ports there. */
export interface Egress {
    readonly cidrs: readonly string[];
    readonly ports: readonly number[];
}

export interface NetworkSettings {
    /** Kubernetes: the ingress controller's namespace; OpenShift recognises its routers by label. */
    readonly ingressNamespace: string;
    /** The chat's public host name from inside the cluster: Mattermost reaches Keycloak there. */
    readonly publicEndpoint: Egress;
    readonly database?: Egress;
    readonly s3?: Egress;
    readonly activeDirectory?: Egress;
    readonly elk?: Egress;
    readonly pushHost?: Egress;
    /** The SMTP server Mattermost sends e-mail through. */
    readonly smtp?: Egress;
}

export const networkFieldSchemas = {
    networkPolicies: bool("networkPolicies"),
    ingressNamespace: z.string().regex(namespacePattern, {
        error: "is not a namespace name. Give the namespace the ingress controller runs in, e.g. ingress-nginx",
    }),
    publicEndpointCidrs: cidrList,
    databaseCidrs: cidrList,
    s3Cidrs: cidrList,
    adCidrs: cidrList,
    elkCidrs: cidrList,
    pushHostCidrs: cidrList,
    smtpCidrs: cidrList,
};

type NetworkFields = { [K in keyof typeof networkFieldSchemas]: z.output<(typeof networkFieldSchemas)[K]> };

/** What the other keys say about the services the pods call. */
export interface Destinations {
    readonly databasePorts: readonly number[];
    readonly s3Port?: number;
    readonly adPorts: readonly number[];
    readonly elkPort?: number;
    /** The push host, when it is an address rather than a name. */
    readonly pushHost?: { readonly address?: string };
    /** Where Mattermost's SMTP server listens, when it is outside the pod. */
    readonly smtpPort?: number;
}

/** The port of `host:port` or of a URL, or the fallback. */
export function portOf(address: string, fallback: number): number {
    const match = /:(\d+)$/.exec(address);
    return match ? Number(match[1]) : fallback;
}

/**
 * @returns the policies' settings, or undefined with networkPolicies false
 */
export function validateNetwork(
    f: NetworkFields,
    destinations: Destinations,
    problem: (key: ConfigKeyName, message: string) => void,
): NetworkSettings | undefined {
    if (!f.networkPolicies) {
        return undefined;
    }
    const required = (key: ConfigKeyName, cidrs: readonly string[], what: string, example: string) => {
        if (cidrs.length === 0) {
            problem(
                key,
                `is empty, but with networkPolicies true (deny by default) ${what} only at the addresses listed here. Set them: pulumi config set --path '${key}[0]' ${example}, or set networkPolicies false`,
            );
        }
        return cidrs;
    };
    const egress = (cidrs: readonly string[], ports: readonly number[]): Egress => ({
        cidrs,
        ports: [...new Set(ports)].sort((a, b) => a - b),
    });
    let pushHostCidrs = f.pushHostCidrs;
    if (destinations.pushHost?.address && pushHostCidrs.length === 0) {
        pushHostCidrs = [`${destinations.pushHost.address}/32`];
    }
    return {
        ingressNamespace: f.ingressNamespace,
        publicEndpoint: egress(
            required(
                "publicEndpointCidrs",
                f.publicEndpointCidrs,
                "Mattermost reaches Keycloak at the chat's public URL",
                "10.0.0.10/32",
            ),
            [443],
        ),
        database:
            destinations.databasePorts.length > 0
                ? egress(
                      required(
                          "databaseCidrs",
                          f.databaseCidrs,
                          "Mattermost and Keycloak reach the external PostgreSQL",
                          "10.50.0.0/24",
                      ),
                      destinations.databasePorts,
                  )
                : undefined,
        s3:
            destinations.s3Port !== undefined
                ? egress(required("s3Cidrs", f.s3Cidrs, "Mattermost reaches the external S3 service", "10.51.0.0/24"), [
                      destinations.s3Port,
                  ])
                : undefined,
        activeDirectory:
            destinations.adPorts.length > 0
                ? egress(
                      required("adCidrs", f.adCidrs, "Keycloak reaches the domain controllers", "10.52.0.0/24"),
                      destinations.adPorts,
                  )
                : undefined,
        elk:
            destinations.elkPort !== undefined
                ? egress(required("elkCidrs", f.elkCidrs, "the log shippers reach elkEndpoint", "10.53.0.0/24"), [
                      destinations.elkPort,
                  ])
                : undefined,
        pushHost: destinations.pushHost
            ? egress(required("pushHostCidrs", pushHostCidrs, "Mattermost reaches the push VM", "10.54.0.7/32"), [443])
            : undefined,
        smtp:
            destinations.smtpPort !== undefined
                ? egress(required("smtpCidrs", f.smtpCidrs, "Mattermost reaches its SMTP server", "10.55.0.25/32"), [
                      destinations.smtpPort,
                  ])
                : undefined,
    };
}
