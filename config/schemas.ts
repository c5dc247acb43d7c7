/** The zod building blocks every config key's schema is made of; each message says how to fix the value. */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { unpinnedReason } from "./images";

export const dnsLabel = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
export const hostnamePattern = new RegExp(`^${dnsLabel}(\\.${dnsLabel})+$`);
export const namespacePattern = new RegExp(`^${dnsLabel}$`);
export const quantityPattern = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

export const bool = (key: string) =>
    z
        .enum(["true", "false"], { error: `must be true or false. Set it with: pulumi config set ${key} true` })
        .transform((value) => value === "true");
export const integer = (min: number, max: number) =>
    z
        .string()
        .refine((text) => /^-?\d+$/.test(text) && Number(text) >= min && Number(text) <= max, {
            error: `must be a whole number from ${min} to ${max}`,
        })
        .transform(Number);
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, {
        error: (issue) =>
            `${JSON.stringify(issue.input)} is not allowed. Use ${values.map((v) => `"${v}"`).join(" or ")}`,
    });
export const pinnedImage = z.string().superRefine((value, context) => {
    const reason = unpinnedReason(value);
    if (reason) {
        context.addIssue({
            code: "custom",
            message: `"${value}" ${reason}. Pin a release tag or a digest, e.g. "repository:1.2.3" or "repository@sha256:<digest>"`,
        });
    }
});
export const quantity = z.string().regex(quantityPattern, {
    error: "is not a Kubernetes quantity. Use e.g. 500m or 2 for CPU, 512Mi or 4Gi for memory",
});
/** A YAML list in the stack file (Pulumi hands it over as JSON text) of strings, each described by `items`. */
function listOf(items: string) {
    return z
        .string()
        .transform((text, context) => {
            try {
                return JSON.parse(text) as unknown;
            } catch {
                context.addIssue({ code: "custom", message: `is not a list. Write it as a YAML list of ${items}` });
                return z.NEVER;
            }
        })
        .pipe(z.array(z.string(), { error: `must be a list of ${items}` }));
}

export const stringList = listOf("strings, one `Section.Key=value` each");

/** A network in CIDR notation with no host bits set (nft and firewalld refuse those); never everything. */
export function cidrProblem(cidr: string): string | undefined {
    if (!ipaddr.isValidCIDR(cidr)) {
        return `${JSON.stringify(cidr)} is not a CIDR. Give a network with its prefix length, e.g. 10.20.0.0/24 or 192.0.2.7/32`;
    }
    const [address, bits] = ipaddr.parseCIDR(cidr);
    const network =
        address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
    if (bits === 0) {
        return `${JSON.stringify(cidr)} admits every address. List only the networks that need it`;
    }
    if (network.toString() !== address.toString()) {
        return `${JSON.stringify(cidr)} has host bits set. Write the network, ${network.toString()}/${bits}, or a /${address.kind() === "ipv4" ? 32 : 128} for one address`;
    }
    return undefined;
}

export const cidrList = listOf("CIDRs, e.g. [10.20.0.0/24]").superRefine((cidrs, context) => {
    for (const cidr of cidrs) {
        const problem = cidrProblem(cidr);
        if (problem) {
            context.addIssue({ code: "custom", message: problem });
        }
    }
});
