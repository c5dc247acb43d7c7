/** Reads objects from the local cluster's API server as its admin, finding each kind's path by discovery. */
import { ClusterInfo, kubeRequest } from "../../../scripts/cluster";

export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; [key: string]: unknown };
    [key: string]: unknown;
}

interface ApiResource {
    name: string;
    kind: string;
    namespaced: boolean;
}

export class Kube {
    private readonly discovered = new Map<string, ApiResource[]>();

    constructor(private readonly cluster: ClusterInfo) {}

    private async json<T>(urlPath: string): Promise<T | undefined> {
        const response = await kubeRequest(this.cluster, "GET", urlPath);
        if (response.status === 404) {
            return undefined;
        }
        if (response.status !== 200) {
            throw new Error(`GET ${urlPath}: ${response.status} ${response.body.slice(0, 500)}`);
        }
        return JSON.parse(response.body) as T;
    }

    private static groupPath(apiVersion: string): string {
        return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    }

    private async resource(apiVersion: string, kind: string): Promise<ApiResource> {
        let resources = this.discovered.get(apiVersion);
        if (!resources) {
            const list = await this.json<{ resources: ApiResource[] }>(Kube.groupPath(apiVersion));
            resources = (list?.resources ?? []).filter((resource) => !resource.name.includes("/"));
            this.discovered.set(apiVersion, resources);
        }
        const found = resources.find((resource) => resource.kind === kind);
        if (!found) {
            throw new Error(`The cluster serves no ${kind} in ${apiVersion}`);
        }
        return found;
    }

    private async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
        const resource = await this.resource(apiVersion, kind);
        const scope = resource.namespaced && namespace ? `/namespaces/${namespace}` : "";
        return `${Kube.groupPath(apiVersion)}${scope}/${resource.name}`;
    }

    async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
        return this.json<KubeObject>(`${await this.collectionPath(apiVersion, kind, namespace)}/${name}`);
    }

    async list(apiVersion: string, kind: string, namespace?: string): Promise<KubeObject[]> {
        const list = await this.json<{ items: KubeObject[] }>(await this.collectionPath(apiVersion, kind, namespace));
        return list?.items ?? [];
    }

    /** Every kind the server lists that can be listed, as apiVersion/kind pairs (for "nothing is left"). */
    async listableKinds(): Promise<{ apiVersion: string; kind: string; namespaced: boolean }[]> {
        const core = await this.json<{ versions: string[] }>("/api");
        const groups = await this.json<{ groups: { preferredVersion: { groupVersion: string } }[] }>("/apis");
        const versions = [
            ...(core?.versions ?? []),
            ...(groups?.groups ?? []).map((group) => group.preferredVersion.groupVersion),
        ];
        const kinds: { apiVersion: string; kind: string; namespaced: boolean }[] = [];
        for (const apiVersion of versions) {
            const list = await this.json<{ resources: (ApiResource & { verbs: string[] })[] }>(
                Kube.groupPath(apiVersion),
            );
            for (const resource of list?.resources ?? []) {
                if (!resource.name.includes("/") && resource.verbs.includes("list")) {
                    kinds.push({ apiVersion, kind: resource.kind, namespaced: resource.namespaced });
                }
            }
        }
        return kinds;
    }
}
