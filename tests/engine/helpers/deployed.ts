/**
 * What a real `pulumi up` left: the stack's state (`pulumi stack export`) and the objects in the cluster,
 * matched with the offline render of the same stack file.
 */
import type { Rendered } from "../../helpers/render";
import { differences, withRealNames } from "./compare";
import type { Kube, KubeObject } from "./kube";
import type { Workspace } from "./pulumiCli";

export interface StateResource {
    readonly urn: string;
    readonly type: string;
    readonly protect?: boolean;
    readonly outputs?: Record<string, unknown>;
}

export function stateResources(ws: Workspace, stack: string): StateResource[] {
    const exported = JSON.parse(ws.pulumiOk(["stack", "export", "--stack", stack]).stdout) as {
        deployment: { resources?: StateResource[] };
    };
    return exported.deployment.resources ?? [];
}

/** The Pulumi name of a resource: the last part of its URN. */
export function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

function kubernetesType(object: KubeObject): string {
    const [group, version] = object.apiVersion.includes("/")
        ? object.apiVersion.split("/")
        : ["core", object.apiVersion];
    return `kubernetes:${group}/${version}:${object.kind}`;
}

/** The render's hash suffix of an auto-named object (scripts/offlineRender.ts). */
const renderedSuffix = /-[0-9a-f]{8}$/;

/**
 * The deployed name of each rendered object: its own, or for an auto-named one the name Pulumi gave the
 * resource whose Pulumi name is the rendered name without its suffix.
 */
export function realNames(manifests: readonly KubeObject[], state: readonly StateResource[]): Map<string, string> {
    const names = new Map<string, string>();
    for (const manifest of manifests) {
        const type = kubernetesType(manifest);
        const sameType = state.filter((resource) => resource.type === type);
        const deployedNames = sameType.map((r) => (r.outputs?.metadata as { name?: string } | undefined)?.name);
        if (deployedNames.includes(manifest.metadata.name) || !renderedSuffix.test(manifest.metadata.name)) {
            continue;
        }
        const pulumiName = manifest.metadata.name.replace(renderedSuffix, "");
        const resource = sameType.find((r) => urnName(r.urn) === pulumiName);
        const deployed = (resource?.outputs?.metadata as { name?: string } | undefined)?.name;
        if (deployed) {
            names.set(manifest.metadata.name, deployed);
        }
    }
    return names;
}

export interface Comparison {
    /** Rendered objects with no live counterpart, as "Kind namespace/name". */
    readonly missing: string[];
    /** Per rendered object, what the live one says differently. */
    readonly differing: Record<string, string[]>;
}

export async function compareWithRender(rendered: Rendered, state: StateResource[], kube: Kube): Promise<Comparison> {
    const manifests = rendered.manifests as unknown as KubeObject[];
    const names = realNames(manifests, state);
    const missing: string[] = [];
    const differing: Record<string, string[]> = {};
    for (const manifest of manifests) {
        const expected = withRealNames(JSON.parse(JSON.stringify(manifest)), names) as KubeObject;
        const { name, namespace } = expected.metadata;
        const label = `${expected.kind} ${namespace ? `${namespace}/` : ""}${name}`;
        const live = await kube.get(expected.apiVersion, expected.kind, name, namespace);
        if (!live) {
            missing.push(label);
            continue;
        }
        const found = differences(expected as never, live as never);
        if (found.length > 0) {
            differing[label] = found;
        }
    }
    return { missing, differing };
}
