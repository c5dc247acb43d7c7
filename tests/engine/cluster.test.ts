/**
 * The local test cluster of `npm run cluster` (scripts/cluster.ts): it comes up on loopback only, runs
 * workloads to completion on its kwok nodes, gives Ingresses a load balancer's address, enforces PodSecurity
 * by namespace labels, serves the OpenShift CRDs, and `down` stops exactly its processes. Its own state
 * directory, so that a cluster a developer has up is left alone.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { down, kubeRequest, up, type ClusterInfo } from "../../scripts/cluster";

const previousDir = process.env.MM_CLUSTER_DIR;
let parent: string;
let dir: string;
let info: ClusterInfo;

interface Started {
    name: string;
    pid: number;
}

function startedProcesses(): Started[] {
    return JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8")).processes;
}

beforeAll(async () => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-test-"));
    dir = path.join(parent, "cluster");
    process.env.MM_CLUSTER_DIR = dir;
    info = await up();
}, 180000);

afterAll(async () => {
    await down();
    fs.rmSync(parent, { recursive: true, force: true });
    if (previousDir === undefined) {
        delete process.env.MM_CLUSTER_DIR;
    } else {
        process.env.MM_CLUSTER_DIR = previousDir;
    }
}, 60000);

async function request(method: string, urlPath: string, body?: unknown) {
    const response = await kubeRequest(info, method, urlPath, body);
    return { status: response.status, json: response.body ? JSON.parse(response.body) : undefined };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
        const value = await probe();
        if (value !== undefined) {
            return value;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`timed out waiting for ${what}`);
}

const restricted = {
    runAsNonRoot: true,
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

function podTemplate(labels: Record<string, string>, restartPolicy: string) {
    return {
        metadata: { labels },
        spec: {
            restartPolicy,
            containers: [{ name: "main", image: "registry.invalid/app:1", securityContext: restricted }],
        },
    };
}

it("gives a kubeconfig for its loopback API server", () => {
    expect(info.context).toBe("mattermost-cluster");
    expect(fs.readFileSync(info.kubeconfig, "utf8")).toContain(info.server);
    expect(info.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
});

it("reports the release version, which clients read", async () => {
    const { json } = await request("GET", "/version");
    expect(json).toMatchObject({ gitVersion: "v1.34.4", major: "1", minor: "34" });
});

it("listens on 127.0.0.1 only", () => {
    // TCP and UDP: the columns are Netid, State, Recv-Q, Send-Q, Local Address:Port, Peer, Process.
    const listeners = execFileSync("ss", ["-ltunpH"], { encoding: "utf8" }).split("\n");
    const addresses = startedProcesses().flatMap(({ name, pid }) =>
        listeners.filter((line) => line.includes(`pid=${pid},`)).map((line) => `${name} ${line.split(/\s+/)[4]}`),
    );
    expect(addresses).toContain(`kube-apiserver ${new URL(info.server).host}`);
    expect(addresses.filter((address) => !address.includes(" 127.0.0.1:"))).toEqual([]);
});

it("has three Ready, untainted fake nodes in distinct zones", async () => {
    const { json } = await request("GET", "/api/v1/nodes");
    const zones = json.items.map((node: any) => node.metadata.labels["topology.kubernetes.io/zone"]);
    expect(new Set(zones).size).toBe(3);
    for (const node of json.items) {
        expect(node.spec.taints ?? []).toEqual([]);
        expect(node.status.allocatable).toMatchObject({ cpu: "32", memory: "256Gi" });
    }
});

describe("in a namespace labelled for the restricted Pod Security level", () => {
    const ns = "workloads";

    beforeAll(async () => {
        const labels = { "pod-security.kubernetes.io/enforce": "restricted" };
        const created = await request("POST", "/api/v1/namespaces", { metadata: { name: ns, labels } });
        expect(created.status).toBe(201);
    });

    it("makes a Deployment available, its pods on the fake nodes with IPs", async () => {
        const deployment = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web" },
            spec: {
                replicas: 3,
                selector: { matchLabels: { app: "web" } },
                template: podTemplate({ app: "web" }, "Always"),
            },
        };
        expect((await request("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, deployment)).status).toBe(201);
        await eventually("the Deployment to be available", async () => {
            const { json } = await request("GET", `/apis/apps/v1/namespaces/${ns}/deployments/web`);
            return json.status?.availableReplicas === 3 ? json : undefined;
        });
        const { json: pods } = await request("GET", `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb`);
        expect(pods.items.every((pod: any) => pod.spec.nodeName.startsWith("kwok-node-"))).toBe(true);
        expect(pods.items.every((pod: any) => Boolean(pod.status.podIP))).toBe(true);
    });

    it("completes a Job", async () => {
        const job = {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "once" },
            spec: { template: podTemplate({ app: "once" }, "Never") },
        };
        expect((await request("POST", `/apis/batch/v1/namespaces/${ns}/jobs`, job)).status).toBe(201);
        const done = await eventually("the Job to complete", async () => {
            const { json } = await request("GET", `/apis/batch/v1/namespaces/${ns}/jobs/once`);
            const complete = json.status?.conditions?.some((c: any) => c.type === "Complete" && c.status === "True");
            return complete ? json : undefined;
        });
        expect(done.status.succeeded).toBe(1);
    });

    // No ingress controller runs here: kwok plays it (as it plays the kubelets), so that the Pulumi provider's
    // await of an Ingress, which waits for its load balancer's address, completes.
    it("gives an Ingress of any class, or none, a load balancer address", async () => {
        const backend = { service: { name: "web", port: { number: 80 } } };
        const ingresses = [
            { metadata: { name: "classless" }, spec: { defaultBackend: backend } },
            { metadata: { name: "nginx" }, spec: { ingressClassName: "nginx", defaultBackend: backend } },
        ];
        for (const ingress of ingresses) {
            const body = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", ...ingress };
            const created = await request("POST", `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, body);
            expect(created.status).toBe(201);
        }
        for (const { metadata } of ingresses) {
            const status = await eventually(
                `the load balancer of Ingress ${metadata.name}`,
                async () => {
                    const url = `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${metadata.name}`;
                    const { json } = await request("GET", url);
                    return json.status?.loadBalancer?.ingress?.length ? json.status : undefined;
                },
                5000,
            );
            expect(status.loadBalancer.ingress).toEqual([{ ip: "127.0.0.1" }]);
        }
    });

    it("refuses a privileged pod", async () => {
        const pod = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "privileged" },
            spec: {
                containers: [{ name: "main", image: "registry.invalid/app:1", securityContext: { privileged: true } }],
            },
        };
        const response = await request("POST", `/api/v1/namespaces/${ns}/pods`, pod);
        expect(response.status).toBe(403);
        expect(response.json.message).toContain('violates PodSecurity "restricted:latest"');
    });
});

it("serves the OpenShift Route CRD and validates against its schema", async () => {
    const route = (host: unknown) => ({
        apiVersion: "route.openshift.io/v1",
        kind: "Route",
        metadata: { name: "chat" },
        spec: { host, to: { kind: "Service", name: "mattermost" } },
    });
    expect(
        (await request("POST", "/apis/route.openshift.io/v1/namespaces/default/routes", route("chat.example.com")))
            .status,
    ).toBe(201);
    const invalid = await request("POST", "/apis/route.openshift.io/v1/namespaces/default/routes", route(42));
    expect(invalid.status).toBe(422);
    const scc = await request("GET", "/apis/security.openshift.io/v1/securitycontextconstraints");
    expect(scc.status).toBe(200);
});

it("reuses the cluster that is up rather than starting another", async () => {
    const before = startedProcesses();
    expect(await up()).toEqual(info);
    expect(startedProcesses()).toEqual(before);
});

it("stops exactly its processes on down, and then has nothing to stop", async () => {
    const pids = startedProcesses().map((started) => started.pid);
    await down();
    expect(pids.filter((pid) => fs.existsSync(`/proc/${pid}/exe`))).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    await down();
});
