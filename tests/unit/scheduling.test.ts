/**
 * `podScheduling`: each piece's pods get the node selector, tolerations, priority class and topology
 * spread given for that piece, and nothing of another's; a spread selects exactly that piece's pods.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";
import { schedulingByGroup, schedulingGroups, type SchedulingGroup } from "../../config/scheduling";
import { validateStackConfig } from "../../config/validate";
import { projectDir, renderBothStacks, renderStack, type Rendered } from "../helpers/render";
import { testStackConfig } from "../helpers/stackFixtures";

interface PodTemplate {
    metadata: { labels: Record<string, string> };
    spec: Record<string, unknown> & {
        topologySpreadConstraints?: { labelSelector: { matchLabels: Record<string, string> } }[];
    };
}

/** Which piece each workload of the test stack is, by its name. */
function groupOf(kind: string, name: string): SchedulingGroup {
    if (name.startsWith("mattermost-schema-migration-")) {
        // Mattermost's image with the pair's resources: the pair's nodes.
        return "mattermost";
    }
    if (kind === "CronJob" || kind === "Job") {
        return "jobs";
    }
    if (/-(postgres|s3)$/.test(name)) {
        return "stores";
    }
    const group = schedulingGroups.find((candidate) => name === candidate || name.startsWith(`${candidate}-`));
    if (!group) {
        throw new Error(`${kind}/${name} belongs to no piece of podScheduling`);
    }
    return group;
}

function podTemplates(
    rendered: Rendered,
): { group: SchedulingGroup; kind: string; name: string; template: PodTemplate }[] {
    return rendered.manifests.flatMap((manifest) => {
        const spec = manifest.spec as Record<string, any> | undefined;
        const template = (spec?.jobTemplate?.spec?.template ?? spec?.template) as PodTemplate | undefined;
        const name = (manifest.metadata as { name: string }).name;
        const kind = String(manifest.kind);
        return template ? [{ group: groupOf(kind, name), kind, name, template }] : [];
    });
}

const settings = (group: SchedulingGroup) => ({
    pods: group,
    nodeSelector: { "example.com/pool": group },
    tolerations: [
        { key: "dedicated", operator: "Equal", value: group, effect: "NoSchedule" },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
    ],
    priorityClassName: `${group}-priority`,
    ...(group === "jobs" || group === "stores" ? {} : { spread: "zone" }),
});

describe("podScheduling in the render", () => {
    const stacks = renderBothStacks();
    let scheduled: Rendered;
    let dir: string;

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "scheduling-"));
        const document = yaml.parse(fs.readFileSync(path.join(projectDir, "Pulumi.test.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        document.config["mattermost:podScheduling"] = schedulingGroups.map(settings);
        const stackFile = path.join(dir, "Pulumi.test.yaml");
        fs.writeFileSync(stackFile, yaml.stringify(document));
        scheduled = renderStack("test", stackFile);
    }, 120000);

    afterAll(() => {
        fs.rmSync(scheduled.dir, { recursive: true, force: true });
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("gives each piece's pods that piece's node selector, tolerations and priority class", () => {
        const pods = podTemplates(scheduled);
        expect(new Set(pods.map((pod) => pod.group))).toEqual(new Set(schedulingGroups));
        for (const { group, name, template } of pods) {
            const { nodeSelector, tolerations, priorityClassName } = settings(group);
            expect([
                name,
                template.spec.nodeSelector,
                template.spec.tolerations,
                template.spec.priorityClassName,
            ]).toEqual([name, nodeSelector, tolerations, priorityClassName]);
        }
    });

    it("spreads the pieces of several pods over zones, each spread selecting exactly its own piece's pods", () => {
        const pods = podTemplates(scheduled);
        for (const { group, kind, name, template } of pods) {
            const constraints = template.spec.topologySpreadConstraints;
            // A Job's pod is one at a time, with nothing to spread from.
            if (group === "jobs" || group === "stores" || kind === "Job") {
                expect([name, constraints]).toEqual([name, undefined]);
                continue;
            }
            expect(constraints).toEqual([
                {
                    maxSkew: 1,
                    topologyKey: "topology.kubernetes.io/zone",
                    whenUnsatisfiable: "ScheduleAnyway",
                    labelSelector: expect.anything(),
                },
            ]);
            const selector = Object.entries(constraints?.[0]?.labelSelector.matchLabels ?? {});
            const selected = pods.filter((pod) =>
                selector.every(([key, value]) => pod.template.metadata.labels[key] === value),
            );
            expect([name, selected.map((pod) => pod.name)]).toEqual([
                name,
                pods.filter((pod) => pod.group === group && pod.kind !== "Job").map((pod) => pod.name),
            ]);
        }
    });

    it("sets none of it where podScheduling is empty", () => {
        for (const rendered of Object.values(stacks)) {
            for (const { name, template } of podTemplates(rendered)) {
                const set = ["nodeSelector", "tolerations", "priorityClassName", "topologySpreadConstraints"].filter(
                    (field) => field in template.spec,
                );
                expect([name, set]).toEqual([name, []]);
            }
        }
    });
});

describe("podScheduling's checks", () => {
    const errors = (entries: unknown[]) =>
        validateStackConfig({ ...testStackConfig, podScheduling: JSON.stringify(entries) }).errors;

    it.each([
        [
            [{ pods: "database" }],
            'mattermost:podScheduling: "database": pods is one of mattermost, nginx, keycloak, jobs, stores.',
        ],
        [
            [{ pods: "nginx" }, { pods: "nginx" }],
            'mattermost:podScheduling: "nginx" has two entries. Give each piece one.',
        ],
        [
            [{ pods: "nginx", tolerations: [{ key: "dedicated", operator: "Exists", value: "x" }] }],
            'mattermost:podScheduling: "nginx": a toleration with operator "Exists" takes no value.',
        ],
        [
            [
                {
                    pods: "nginx",
                    tolerations: [
                        { key: "dedicated", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 30 },
                    ],
                },
            ],
            'mattermost:podScheduling: "nginx": a toleration with tolerationSeconds needs effect NoExecute (Kubernetes refuses it otherwise).',
        ],
        [
            [{ pods: "nginx", nodeSelector: { "bad key!": "x" } }],
            "mattermost:podScheduling: \"nginx\": nodeSelector has \"bad key!: x\", which is not a node label: a key of letters, digits, '-', '_' and '.' (with a DNS prefix and '/' before it if any) and a value of at most 63 of them.",
        ],
        [
            [{ pods: "jobs", spread: "node" }],
            'mattermost:podScheduling: "jobs": spread is for the pieces that run several pods (mattermost, nginx, keycloak). Remove it.',
        ],
        [[{ pods: "keycloak", spread: "rack" }], 'mattermost:podScheduling: "keycloak": spread is "zone" or "node".'],
    ])("refuses %j", (entries, message) => {
        expect(errors(entries)).toEqual([message]);
    });

    it("requires the spread in production and prefers it elsewhere", () => {
        const entries = [{ pods: "nginx" as const, spread: "node" as const }];
        expect(schedulingByGroup(entries, true).nginx?.spread).toEqual({
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "DoNotSchedule",
        });
        expect(schedulingByGroup(entries, false).nginx?.spread?.whenUnsatisfiable).toBe("ScheduleAnyway");
    });
});
