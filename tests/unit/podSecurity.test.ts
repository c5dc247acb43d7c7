import { securityExceptions } from "../../components/meta";
import { renderBothStacks, type Rendered } from "../helpers/render";

const stacks: Record<string, Rendered> = renderBothStacks();

interface Container {
    name: string;
    securityContext?: {
        allowPrivilegeEscalation?: boolean;
        capabilities?: { drop?: string[]; add?: string[] };
        privileged?: boolean;
        readOnlyRootFilesystem?: boolean;
        runAsNonRoot?: boolean;
    };
    resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}
interface PodSpec {
    automountServiceAccountToken?: boolean;
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    shareProcessNamespace?: boolean;
    securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
    volumes?: { hostPath?: unknown }[];
    initContainers?: Container[];
    containers: Container[];
}

/** Every pod template of a render, by its workload's name. */
function pods(rendered: Rendered): [string, PodSpec][] {
    return rendered.manifests.flatMap((manifest) => {
        const name = (manifest.metadata as { name: string }).name;
        const spec = manifest.spec as {
            template?: { spec: PodSpec };
            jobTemplate?: { spec: { template: { spec: PodSpec } } };
        };
        const pod = spec?.template?.spec ?? spec?.jobTemplate?.spec.template.spec;
        return pod ? [[name, pod] as [string, PodSpec]] : [];
    });
}

/** Every departure from the hardening, as "workload/container: rule". */
function departures(workload: string, pod: PodSpec): string[] {
    const found: string[] = [];
    const podRule = (rule: string, holds: boolean) => holds || found.push(`${workload}/*: ${rule}`);
    podRule("automountServiceAccountToken", pod.automountServiceAccountToken === false);
    podRule("seccompProfile", pod.securityContext?.seccompProfile?.type === "RuntimeDefault");
    podRule("hostNamespaces", !pod.hostNetwork && !pod.hostPID && !pod.hostIPC);
    podRule("shareProcessNamespace", pod.shareProcessNamespace !== true);
    podRule("hostPath", !(pod.volumes ?? []).some((volume) => volume.hostPath !== undefined));
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const context = container.securityContext ?? {};
        const rule = (name: string, holds: boolean) => holds || found.push(`${workload}/${container.name}: ${name}`);
        rule("runAsNonRoot", context.runAsNonRoot === true || pod.securityContext?.runAsNonRoot === true);
        rule("allowPrivilegeEscalation", context.allowPrivilegeEscalation === false);
        rule("privileged", context.privileged !== true);
        rule("capabilities", context.capabilities?.drop?.join() === "ALL" && !context.capabilities.add?.length);
        rule("readOnlyRootFilesystem", context.readOnlyRootFilesystem === true);
        const resources = container.resources ?? {};
        rule(
            "resources",
            ["cpu", "memory"].every((kind) => resources.limits?.[kind] && resources.requests?.[kind]),
        );
    }
    return found;
}

const listed = Object.values(securityExceptions).flatMap((exception) =>
    exception.workloads.map((workload) => `${workload}/${exception.container}: ${exception.rule}`),
);

describe("pod hardening in both rendered stacks", () => {
    it.each(["test", "prod"])("the %s stack departs from it only where an exception is listed", (stack) => {
        const all = pods(stacks[stack]).flatMap(([workload, pod]) => departures(workload, pod));
        expect(all.filter((departure) => !listed.includes(departure))).toEqual([]);
    });

    it("has no stale exception: each listed one is made somewhere", () => {
        const all = new Set(
            ["test", "prod"].flatMap((stack) =>
                pods(stacks[stack]).flatMap(([workload, pod]) => departures(workload, pod)),
            ),
        );
        expect(listed.filter((exception) => !all.has(exception))).toEqual([]);
    });

    it("walks every workload: Deployments and the realm Job", () => {
        const names = pods(stacks.test).map(([name]) => name.replace(/-[0-9a-f]{8}$/, ""));
        expect(names).toEqual(
            expect.arrayContaining(["nginx", "mattermost-1", "mattermost-2", "keycloak", "keycloak-realm-apply"]),
        );
    });
});
