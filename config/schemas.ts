/** The zod building blocks every config key's schema is made of; each message says how to fix the value. */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { unpinnedReason } from "./images";

export const dnsLabel = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
export const hostnamePattern = new RegExp(`^${dnsLabel}(\\.${dnsLabel})+$`);
export const namespacePattern = new RegExp(`^${dnsLabel}$`);
export const quantityPattern = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

const quantitySuffixes: Readonly<Record<string, number>> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
};

/** A Kubernetes quantity (quantityPattern) as a number: "500m" is 0.5, "2" is 2, "1Ki" is 1024. */
export function quantityValue(text: string): number {
    const match = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
    if (!match) {
        throw new Error(`${JSON.stringify(text)} is not a Kubernetes quantity`);
    }
    return Number(match[1]) * (quantitySuffixes[match[2] ?? ""] ?? 1);
}

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
/**
 * The JSON text Pulumi hands a YAML list over as, parsed; undefined (and an issue) when it is not JSON,
 * which JSON.parse itself never returns.
 */
function parsedList(text: string, context: z.RefinementCtx, items: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        context.addIssue({ code: "custom", message: `is not a list. Write it as a YAML list of ${items}` });
        return undefined;
    }
}

/** A YAML list in the stack file of strings, each described by `items`. */
function listOf(items: string) {
    return z
        .string()
        .transform((text, context) => {
            const parsed = parsedList(text, context, items);
            return parsed === undefined ? z.NEVER : parsed;
        })
        .pipe(z.array(z.string(), { error: `must be a list of ${items}` }));
}

/**
 * A YAML list of maps in the stack file, each checked by `item`. Messages name the entry by its
 * `nameField`, or by its position when that is missing.
 */
export function mapList<T extends z.ZodType>(item: T, nameField: string) {
    return z.string().transform((text, context): z.output<T>[] => {
        const parsed = parsedList(text, context, "maps");
        if (parsed === undefined) {
            return z.NEVER;
        }
        if (!Array.isArray(parsed)) {
            context.addIssue({ code: "custom", message: "is not a list. Write it as a YAML list of maps" });
            return z.NEVER;
        }
        const entries: z.output<T>[] = [];
        parsed.forEach((entry: unknown, index) => {
            const result = item.safeParse(entry);
            if (result.success) {
                entries.push(result.data);
                return;
            }
            const name =
                entry !== null && typeof entry === "object" ? (entry as Record<string, unknown>)[nameField] : undefined;
            const label = typeof name === "string" && name !== "" ? name : `entry ${index + 1}`;
            for (const issue of result.error.issues) {
                context.addIssue({ code: "custom", message: `"${label}": ${issue.message}` });
            }
        });
        return entries;
    });
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
