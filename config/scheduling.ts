/**
 * Where each piece's pods may run: node selectors, tolerations, a priority class and a topology spread,
 * per piece, on top of the anti-affinity the pair and nginx always have. One key, `podScheduling`, a
 * list of maps, one per piece:
 *   - { pods: mattermost, nodeSelector: { chat: "true" }, tolerations: [{ key: dedicated, operator: Equal,
 *       value: chat, effect: NoSchedule }], priorityClassName: chat-critical, spread: zone }
 */
import { z } from "zod";
import { dnsLabel, mapList } from "./schemas";

export const schedulingGroups = ["mattermost", "nginx", "keycloak", "jobs", "stores"] as const;
export type SchedulingGroup = (typeof schedulingGroups)[number];

/** A Kubernetes label key: an optional DNS-subdomain prefix and a name of at most 63 characters. */
const labelName = "([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)";
const labelKey = new RegExp(`^(${dnsLabel}(\\.${dnsLabel})*/)?${labelName}$`);
const labelValue = new RegExp(`^(${labelName})?$`);
const subdomain = new RegExp(`^${dnsLabel}(\\.${dnsLabel})*$`);

const toleration = z
    .strictObject(
        {
            key: z.string().regex(labelKey, { error: "a toleration's key is not a label key" }).optional(),
            operator: z.enum(["Equal", "Exists"], { error: 'a toleration\'s operator is "Equal" or "Exists"' }),
            value: z.string().regex(labelValue, { error: "a toleration's value is not a label value" }).optional(),
            effect: z
                .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
                    error: "a toleration's effect is NoSchedule, PreferNoSchedule or NoExecute",
                })
                .optional(),
            // How long a pod stays on a node tainted NoExecute (node.kubernetes.io/unreachable and the like)
            // before it is evicted; Kubernetes' default of 300 s for those two is often too long for a chat.
            tolerationSeconds: z
                .number({ error: "a toleration's tolerationSeconds is a whole number of seconds" })
                .int({ error: "a toleration's tolerationSeconds is a whole number of seconds" })
                .min(0, { error: "a toleration's tolerationSeconds is 0 or more" })
                .optional(),
        },
        { error: "a toleration is a map of key, operator, value, effect and tolerationSeconds" },
    )
    .refine((entry) => entry.operator === "Equal" || entry.value === undefined, {
        error: 'a toleration with operator "Exists" takes no value',
    })
    .refine((entry) => entry.operator === "Exists" || entry.key !== undefined, {
        error: 'a toleration with operator "Equal" needs a key',
    })
    .refine((entry) => entry.tolerationSeconds === undefined || entry.effect === "NoExecute", {
        error: "a toleration with tolerationSeconds needs effect NoExecute (Kubernetes refuses it otherwise)",
    });

const schedulingEntry = z.strictObject(
    {
        pods: z.enum(schedulingGroups, { error: `pods is one of ${schedulingGroups.join(", ")}` }),
        nodeSelector: z
            .record(z.string(), z.string(), { error: "nodeSelector is a map of node labels to their values" })
            .superRefine((selector, context) => {
                for (const [key, value] of Object.entries(selector)) {
                    if (!labelKey.test(key) || !labelValue.test(value)) {
                        context.addIssue({
                            code: "custom",
                            message: `nodeSelector has ${JSON.stringify(`${key}: ${value}`)}, which is not a node label: a key of letters, digits, '-', '_' and '.' (with a DNS prefix and '/' before it if any) and a value of at most 63 of them`,
                        });
                    }
                }
            })
            .optional(),
        tolerations: z.array(toleration, { error: "tolerations is a list of maps" }).optional(),
        priorityClassName: z
            .string()
            .regex(subdomain, { error: "priorityClassName is not a PriorityClass name" })
            .optional(),
        spread: z.enum(["zone", "node"], { error: 'spread is "zone" or "node"' }).optional(),
    },
    { error: "is a map of pods, nodeSelector, tolerations, priorityClassName and spread" },
);

export type SchedulingEntry = z.output<typeof schedulingEntry>;

/** Pieces of one pod each (a job, a test store): spreading them over nodes or zones means nothing. */
const unspread: readonly SchedulingGroup[] = ["jobs", "stores"];

export const podSchedulingSchema = mapList(schedulingEntry, "pods").superRefine((entries, context) => {
    const groups = entries.map((entry) => entry.pods);
    const repeated = groups.find((group, index) => groups.indexOf(group) !== index);
    if (repeated) {
        context.addIssue({ code: "custom", message: `"${repeated}" has two entries. Give each piece one` });
    }
    for (const entry of entries.filter((each) => each.spread && unspread.includes(each.pods))) {
        context.addIssue({
            code: "custom",
            message: `"${entry.pods}": spread is for the pieces that run several pods (mattermost, nginx, keycloak). Remove it`,
        });
    }
});

/** What a piece's pods get, as the components put it into their pod specs. */
export interface PodScheduling {
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly Readonly<Record<string, string | number>>[];
    readonly priorityClassName?: string;
    readonly spread?: { readonly topologyKey: string; readonly whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway" };
}

/**
 * The stack's entries by piece. A production stack's spread is required (a pod waits rather than land
 * beside its twin), as the pair's anti-affinity is; a test stack's is preferred.
 */
export function schedulingByGroup(
    entries: readonly SchedulingEntry[],
    production: boolean,
): Partial<Record<SchedulingGroup, PodScheduling>> {
    return Object.fromEntries(
        entries.map(({ pods, spread, ...rest }) => [
            pods,
            {
                ...rest,
                ...(spread
                    ? {
                          spread: {
                              topologyKey: spreadTopologyKeys[spread],
                              whenUnsatisfiable: production ? "DoNotSchedule" : "ScheduleAnyway",
                          },
                      }
                    : {}),
            },
        ]),
    );
}

/** The topology key a spread is over. */
export const spreadTopologyKeys = { zone: "topology.kubernetes.io/zone", node: "kubernetes.io/hostname" } as const;
