import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";
import { mebibytes, securityExceptions } from "../../components/meta";
import { projectDir, renderBothStacks, renderStack, type Rendered } from "../helpers/render";

const stacks: Record<string, Rendered> = renderBothStacks();

interface Container {
    name: string;
    securityContext?: {
        allowPrivilegeEscalation?: boolean;
        capabilities?: { drop?: string[]; add?: string[] };
        privileged?: boolean;
        readOnlyRootFilesystem?: boolean;
        runAsNonRoot?: boolean;
        runAsUser?: number;
    };
    image?: string;
    resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}
interface PodSpec {
    automountServiceAccountToken?: boolean;
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    shareProcessNamespace?: boolean;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type?: string } };
    volumes?: { hostPath?: unknown; emptyDir?: { sizeLimit?: string } }[];
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
    // An unbounded emptyDir can fill the node's disk; with a limit the kubelet evicts the one pod instead.
    podRule(
        "emptyDirSizeLimit",
        (pod.volumes ?? []).every((volume) => volume.emptyDir === undefined || Boolean(volume.emptyDir.sizeLimit)),
    );
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

/**
 * The user each pinned image runs as by itself: its Dockerfile's USER, 0 where it has none. A name is
 * something the kubelet cannot check against runAsNonRoot, so such an image needs a numeric runAsUser.
 * - node: nodejs/docker-node 20/alpine3.22/Dockerfile, no USER (it makes a `node` user, 1000:1000);
 * - postgres: docker-library/postgres 16/bookworm/Dockerfile, no USER (the entrypoint drops to 999 itself);
 * - Keycloak: keycloak/keycloak quarkus/container/Dockerfile, `USER 1000`;
 * - Mattermost: mattermost/mattermost server/build/Dockerfile, `USER mattermost` (2000);
 * - nginx-unprivileged: nginx/docker-nginx-unprivileged stable/debian/Dockerfile, `USER $UID` (101);
 * - SeaweedFS: seaweedfs/seaweedfs docker/Dockerfile.go_build, USER added and removed between releases:
 *   taken as none;
 * - Filebeat: elastic/beats dev-tools/packaging/templates/docker/Dockerfile.tmpl, `USER filebeat` (1000).
 */
const imageUsers: Readonly<Record<string, number | string>> = {
    node: 0,
    postgres: 0,
    "quay.io/keycloak/keycloak": 1000,
    "mattermost/mattermost-team-edition": "mattermost",
    "mattermost/mattermost-enterprise-edition": "mattermost",
    "nginxinc/nginx-unprivileged": 101,
    "chrislusf/seaweedfs": 0,
    "docker.elastic.co/beats/filebeat": "filebeat",
};

/** Containers the kubelet would refuse to start on plain Kubernetes: runAsNonRoot with no uid it can verify. */
function unverifiableUsers(rendered: Rendered): string[] {
    return pods(rendered).flatMap(([workload, pod]) =>
        [...(pod.initContainers ?? []), ...pod.containers].flatMap((container) => {
            const uid = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
            const repository = (container.image ?? "").replace(/[:@].*$/, "");
            if (!(repository in imageUsers)) {
                return [`${workload}/${container.name}: ${container.image} is an image this test does not know`];
            }
            const own = imageUsers[repository];
            const verifiable = uid !== undefined ? uid > 0 : typeof own === "number" && own > 0;
            return verifiable ? [] : [`${workload}/${container.name}: runs as ${uid ?? own} (${container.image})`];
        }),
    );
}

describe("who each container runs as", () => {
    /** The prod stack's settings (log shipping, external stores) on plain Kubernetes. */
    let kubernetes: Rendered;
    beforeAll(() => {
        const document = yaml.parse(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        document.config["mattermost:platform"] = "kubernetes";
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pod-users-"));
        const file = path.join(dir, "Pulumi.prod-kubernetes.yaml");
        fs.writeFileSync(file, yaml.stringify(document));
        kubernetes = renderStack("prod", file);
        fs.rmSync(dir, { recursive: true, force: true });
    });
    afterAll(() => fs.rmSync(kubernetes.dir, { recursive: true, force: true }));

    it.each(["test", "prod on Kubernetes"])("in the %s stack, is a uid the kubelet can check is not root", (stack) => {
        expect(unverifiableUsers(stack === "test" ? stacks.test : kubernetes)).toEqual([]);
    });
});

describe("emptyDir size limits", () => {
    it("are written as the API server stores them, so previews show no change that is none", () => {
        expect([1024 ** 3, 1.5 * 1024 ** 3, 800 * 1024 ** 2 + 1, 8 * 1024 ** 4].map(mebibytes)).toEqual([
            "1Gi",
            "1536Mi",
            "801Mi",
            "8Ti",
        ]);
    });
});
