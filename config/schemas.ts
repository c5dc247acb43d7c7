/** The zod building blocks every config key's schema is made of; each message says how to fix the value. */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { imageReferenceProblem } from "./images";

export const dnsLabel = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
export const hostnamePattern = new RegExp(`^${dnsLabel}(\\.${dnsLabel})+$`);
export const namespacePattern = new RegExp(`^${dnsLabel}$`);

/** A DNS name of at least two labels, within DNS's 253 characters (each label within its 63). */
export function isHostName(value: string): boolean {
    // A top-level domain is never all digits (RFC 3696), so "10.96.0.300" is a mistyped address, no name.
    return value.length <= 253 && hostnamePattern.test(value) && !/\.[0-9]+$/.test(value);
}

/** An IPv4 address in its four-part form (not "10.1", which inet_aton would also take), or an IPv6 one. */
export function isIpAddress(value: string): boolean {
    return ipaddr.IPv4.isValidFourPartDecimal(value) || (value.includes(":") && ipaddr.IPv6.isValid(value));
}

/** Why the text is not a TCP port, or undefined: 0 is no port, and nothing is above 65535. */
export function portProblem(text: string): string | undefined {
    return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535
        ? undefined
        : `has the port ${JSON.stringify(text)}, but a port is a whole number from 1 to 65535`;
}

/** `host` or `host:port`, the host a name or an address: why not, or undefined. */
export function hostAndPortProblem(value: string, portRequired: boolean): string | undefined {
    const match = /^(.*?)(?::([^:]*))?$/.exec(value);
    const [host, port] = [match?.[1] ?? "", match?.[2]];
    if (!isHostName(host) && !ipaddr.IPv4.isValidFourPartDecimal(host)) {
        return `${JSON.stringify(value)} has no host name or IPv4 address before its port`;
    }
    if (port === undefined) {
        return portRequired ? `${JSON.stringify(value)} has no port` : undefined;
    }
    const problem = portProblem(port);
    return problem ? `${JSON.stringify(value)} ${problem}` : undefined;
}

const cronFields = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    {
        name: "month",
        min: 1,
        max: 12,
        names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    },
    // Sunday is 0 and 7, as in the cron library Kubernetes uses.
    { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
] as const;

/** Why a five-field cron schedule would be refused or never run, or undefined. */
export function cronProblem(schedule: string): string | undefined {
    const parts = schedule.trim().split(/\s+/);
    if (parts.length !== cronFields.length) {
        return "is not a cron schedule of five fields";
    }
    for (const [index, field] of cronFields.entries()) {
        const names: readonly string[] = "names" in field ? field.names : [];
        const value = (text: string) => {
            const named = names.indexOf(text.toLowerCase());
            return named >= 0 ? named + (field.min === 1 ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : NaN;
        };
        for (const item of parts[index].split(",")) {
            const match = /^(\*|([0-9a-zA-Z]+)(?:-([0-9a-zA-Z]+))?)(?:\/(\d+))?$/.exec(item);
            const [from, to] = match?.[2] ? [value(match[2]), match[3] ? value(match[3]) : undefined] : [];
            const step = match?.[4] === undefined ? 1 : Number(match[4]);
            const inRange = (n: number | undefined) => n === undefined || (n >= field.min && n <= field.max);
            if (
                !match ||
                (match[2] && (Number.isNaN(from) || Number.isNaN(to ?? 0))) ||
                !inRange(from) ||
                !inRange(to) ||
                (to !== undefined && from !== undefined && to < from) ||
                step < 1
            ) {
                return `has ${JSON.stringify(item)} as its ${field.name}, which must be from ${field.min} to ${field.max} (or *, a range a-b, a step /n)`;
            }
        }
    }
    return undefined;
}

/**
 * Why an LDAP filter (RFC 4515) is malformed, or undefined: parentheses that do not pair up, an empty
 * pair, text after the end. A literal parenthesis in a value is written \28 or \29, so every one counts.
 */
export function ldapFilterProblem(filter: string): string | undefined {
    let depth = 0;
    for (const [index, character] of [...filter].entries()) {
        if (character === "(") {
            depth++;
            if (filter[index + 1] === ")") {
                return "has an empty pair of parentheses";
            }
        } else if (character === ")") {
            depth--;
            if (depth < 0) {
                return "closes a parenthesis it never opened";
            }
            if (depth === 0 && index !== filter.length - 1) {
                return "has text after its closing parenthesis; join filters with (&...) or (|...)";
            }
        }
    }
    return depth === 0 ? undefined : "leaves a parenthesis open";
}

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
export const releaseImage = z.string().superRefine((value, context) => {
    const reason = imageReferenceProblem(value);
    if (reason) {
        context.addIssue({
            code: "custom",
            message: `"${value}" ${reason}. Give a release tag, and in production its digest too, e.g. "repository:1.2.3" or "repository:1.2.3@sha256:<digest>"`,
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
export function listOf(items: string) {
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

/**
 * A YAML map in the stack file of names to text, each value checked by `valueProblem` (a message, or
 * undefined when the value will do); `notAMap` is what to say when the text is no map at all.
 */
function mapOfText(notAMap: string, valueProblem: (name: string, value: unknown) => string | undefined) {
    return z.string().transform((text, context): Record<string, string> => {
        let parsed: unknown;
        try {
            parsed = JSON.parse(text) as unknown;
        } catch {
            parsed = undefined;
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
            context.addIssue({ code: "custom", message: notAMap });
            return z.NEVER;
        }
        for (const [name, value] of Object.entries(parsed)) {
            const problem = valueProblem(name, value);
            if (problem) {
                context.addIssue({ code: "custom", message: problem });
            }
        }
        return parsed as Record<string, string>;
    });
}

/** A YAML map in the stack file of names to text; `example` is how one entry is set. */
export function textMap(example: string) {
    return mapOfText(`is not a map of names to text. Write it as a YAML map, e.g. ${example}`, (name, value) =>
        typeof value === "string"
            ? undefined
            : `"${name}" is ${JSON.stringify(value)}, not text. Quote it, as Kubernetes takes text only`,
    );
}

/**
 * A YAML map in the stack file of names to secret text. Its messages name entries, never show a value.
 * `example` is how one entry is set, with `<name>` where the entry's name goes.
 */
export function secretTextMap(example: string) {
    return mapOfText(
        `is not a map of names to values. Set each entry on its own, encrypted, so that a review sees which are set: ${example}`,
        (name, value) =>
            typeof value === "string" && value !== ""
                ? undefined
                : `"${name}" has no text as its value. Give it one: ${example.replace("<name>", name)}`,
    );
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

/** Link-local networks: a cloud's metadata service answers there (169.254.169.254, fd00:ec2::254) with the node's credentials. */
const linkLocal = ["169.254.0.0/16", "fe80::/10", "fd00:ec2::/64"];

/** Whether two networks share an address: one of them holds the other. */
export function cidrsOverlap(a: string, b: string): boolean {
    const [left, right] = [ipaddr.parseCIDR(a), ipaddr.parseCIDR(b)];
    if (left[0].kind() !== right[0].kind()) {
        return false;
    }
    // Same family, so match is called on matching kinds.
    const holds = (outer: typeof left, inner: typeof left) =>
        inner[1] >= outer[1] && (inner[0] as ipaddr.IPv4).match(outer);
    return holds(left, right) || holds(right, left);
}

/** What is wrong with a list of CIDRs as a whole, each valid on its own (cidrProblem). */
export function cidrListProblems(cidrs: readonly string[]): string[] {
    for (const family of ["ipv4", "ipv6"] as const) {
        const bits = family === "ipv4" ? 32 : 128;
        const admitted = cidrs
            .map((cidr) => ipaddr.parseCIDR(cidr))
            .filter(([address]) => address.kind() === family)
            .reduce((sum, [, prefix]) => sum + 2n ** BigInt(bits - prefix), 0n);
        // Without overlaps (refused below), the networks' sizes add up to what they admit.
        if (
            admitted === 2n ** BigInt(bits) &&
            !cidrs.some((cidr, index) => cidrs.slice(index + 1).some((other) => cidrsOverlap(cidr, other)))
        ) {
            return [
                `together admit every ${family === "ipv4" ? "IPv4" : "IPv6"} address. List only the networks that need it`,
            ];
        }
    }
    const problems: string[] = [];
    for (const cidr of cidrs) {
        if (linkLocal.some((range) => cidrsOverlap(cidr, range))) {
            problems.push(
                `${JSON.stringify(cidr)} reaches link-local addresses, where a cloud's metadata service hands out the node's credentials. List only the networks that need it`,
            );
        }
    }
    cidrs.forEach((cidr, index) => {
        const overlapping = cidrs.slice(index + 1).find((other) => cidrsOverlap(cidr, other));
        if (overlapping) {
            problems.push(
                `${JSON.stringify(cidr)} and ${JSON.stringify(overlapping)} overlap (nft would refuse them only on the push VM). Keep the wider one`,
            );
        }
    });
    return problems;
}

export const cidrList = listOf("CIDRs, e.g. [10.20.0.0/24]").superRefine((cidrs, context) => {
    const single = cidrs.map(cidrProblem).filter((problem) => problem !== undefined);
    for (const problem of single.length > 0 ? single : cidrListProblems(cidrs)) {
        context.addIssue({ code: "custom", message: problem });
    }
});
