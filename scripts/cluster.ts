/**
 * `npm run cluster -- up | down`: a local Kubernetes API for the tests, on 127.0.0.1 only. A real etcd,
 * kube-apiserver, kube-controller-manager and kube-scheduler (built from their published Go modules, see
 * scripts/toolchain/cluster.ts), with kwok playing the kubelets of three fake Nodes, so that Deployments
 * become available and Jobs complete without containers, and the ingress controller, so that Ingresses get
 * a load balancer's address. OpenShift's own Route and SecurityContextConstraints CRDs are installed where
 * the checkout has them (the project's shared/crds/ beside it, as CI's has), so that the prod stack's Route
 * is validated against OpenShift's schema; without them it runs without.
 *
 * `up` prints, as its last stdout line, `{"kubeconfig": ..., "context": ...}` (progress goes to stderr);
 * when a cluster is already up and healthy it prints the same line again and starts nothing. `down` stops
 * exactly the processes `up` started (by the pids it recorded, checked against their executables) and
 * removes the state; with nothing up it does nothing.
 *
 * The state (certificates, kubeconfigs, etcd's data, logs, and state.json with the pids and ports) lives
 * in $MM_CLUSTER_DIR, by default $XDG_RUNTIME_DIR/mattermost-cluster, else /tmp/mattermost-cluster (the
 * os.tmpdir()): a runtime directory, since the cluster does not outlive the machine's uptime anyway.
 */
import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { binary } from "./toolchain/cluster";

const contextName = "mattermost-cluster";
/** OpenShift's CRDs, as data kept beside the repository, not in it; `$MM_OPENSHIFT_CRDS` names another place. */
const crdDir = process.env.MM_OPENSHIFT_CRDS ?? path.resolve(__dirname, "..", "..", "shared", "crds");
const serviceRange = "10.96.0.0/16";
/** The first address of the service range: the `kubernetes` Service, which the serving cert names. */
const serviceIp = "10.96.0.1";
/** kwok manages only the Nodes with this annotation, i.e. the ones `up` creates. */
const fakeNodeAnnotation = ["kwok.x-k8s.io/node", "fake"] as const;
const zones = ["a", "b", "c"];

export interface ClusterInfo {
    readonly kubeconfig: string;
    readonly context: string;
    /** The API server's URL, `https://127.0.0.1:<port>`. */
    readonly server: string;
    /** The state directory, whose pki/ holds the admin client certificate. */
    readonly dir: string;
}

const portNames = ["etcdClient", "etcdPeer", "apiserver", "controllerManager", "scheduler"] as const;
type Ports = Readonly<Record<(typeof portNames)[number], number>>;

interface Started {
    readonly name: string;
    readonly pid: number;
    /** The executable, so that `down` never signals a pid that was reused by another program. */
    readonly binary: string;
}

interface State extends ClusterInfo {
    readonly ports: Ports;
    readonly processes: Started[];
}

interface Binaries {
    readonly etcd: string;
    readonly apiserver: string;
    readonly controllerManager: string;
    readonly scheduler: string;
    readonly kwok: string;
}

function log(message: string): void {
    process.stderr.write(`cluster: ${message}\n`);
}

export function stateDir(): string {
    return process.env.MM_CLUSTER_DIR ?? path.join(process.env.XDG_RUNTIME_DIR ?? os.tmpdir(), "mattermost-cluster");
}

const stateFile = (dir: string) => path.join(dir, "state.json");
const pki = (dir: string, file: string) => path.join(dir, "pki", file);

function readState(dir: string): State | undefined {
    return fs.existsSync(stateFile(dir)) ? (JSON.parse(fs.readFileSync(stateFile(dir), "utf8")) as State) : undefined;
}

/** Written after every start, so that `down` can stop a half-started cluster whose `up` was killed. */
function writeState(state: State): void {
    fs.writeFileSync(stateFile(state.dir), `${JSON.stringify(state, null, 4)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Processes

/** Alive and still our program: a reused pid runs another executable; a zombie has none. */
function isRunning(started: Started): boolean {
    try {
        return fs.readlinkSync(`/proc/${started.pid}/exe`) === started.binary;
    } catch {
        return false;
    }
}

function logFile(dir: string, name: string): string {
    return path.join(dir, "logs", `${name}.log`);
}

function logTail(dir: string, name: string, lines = 15): string {
    const file = logFile(dir, name);
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Detached into its own session with its output in logs/, so it outlives `up` and no terminal stops it. */
function start(dir: string, name: string, file: string, args: string[]): Started {
    const out = fs.openSync(logFile(dir, name), "a");
    try {
        const child = spawn(file, args, { detached: true, stdio: ["ignore", out, out] });
        child.unref();
        if (child.pid === undefined) {
            throw new Error(`${name} did not start (${file})`);
        }
        log(`started ${name} (pid ${child.pid})`);
        return { name, pid: child.pid, binary: file };
    } finally {
        fs.closeSync(out);
    }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stop(started: Started): Promise<void> {
    for (const [signal, graceMs] of [
        ["SIGTERM", 15000],
        ["SIGKILL", 5000],
    ] as const) {
        if (!isRunning(started)) {
            return;
        }
        try {
            process.kill(started.pid, signal);
        } catch {
            // It exited between the check and the signal.
        }
        for (const deadline = Date.now() + graceMs; isRunning(started) && Date.now() < deadline;) {
            await sleep(100);
        }
    }
    if (isRunning(started)) {
        throw new Error(`${started.name} (pid ${started.pid}) survived SIGKILL`);
    }
}

/** In the reverse order of their start: the clients of the API server before it, etcd last. */
async function stopAll(processes: readonly Started[]): Promise<void> {
    for (const started of [...processes].reverse()) {
        await stop(started);
    }
}

/** A listener on a free loopback port, held until every port is picked so that none is picked twice. */
function holdFreePort(): Promise<net.Server> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server));
    });
}

/** Closed again before the components start; each binds its port a moment later. */
async function allocatePorts(): Promise<Ports> {
    const servers = await Promise.all(portNames.map(() => holdFreePort()));
    const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    return Object.fromEntries(portNames.map((name, index) => [name, ports[index]])) as Ports;
}

// ---------------------------------------------------------------------------------------------------
// Certificates and kubeconfigs

function openssl(args: string[]): void {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

const newP256Key = (keyPath: string) => [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyPath,
];

function makeCa(dir: string, ca: string): void {
    openssl([
        ...["req", "-x509", ...newP256Key(pki(dir, `${ca}.key`)), "-out", pki(dir, `${ca}.crt`)],
        ...["-days", "365", "-subj", `/CN=mattermost-cluster-${ca}`],
        ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ]);
}

/** A certificate signed by `ca`; `subject` like `/CN=x/O=y` (the apiserver reads O as the groups). */
function issue(dir: string, ca: string, name: string, subject: string, extensions: string[]): void {
    const [key, csr, crt, ext] = ["key", "csr", "crt", "ext"].map((suffix) => pki(dir, `${name}.${suffix}`));
    fs.writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n${extensions.join("\n")}\n`);
    openssl(["req", ...newP256Key(key), "-out", csr, "-subj", subject]);
    openssl([
        ...["x509", "-req", "-in", csr, "-CA", pki(dir, `${ca}.crt`), "-CAkey", pki(dir, `${ca}.key`)],
        ...["-CAcreateserial", "-days", "365", "-extfile", ext, "-out", crt],
    ]);
}

/** The identities: the admin and kwok act as cluster-admins; the components get their built-in roles. */
const clientIdentities = {
    admin: "/CN=mattermost-admin/O=system:masters",
    kwok: "/CN=kwok/O=system:masters",
    "kube-controller-manager": "/CN=system:kube-controller-manager",
    "kube-scheduler": "/CN=system:kube-scheduler",
};
type Client = keyof typeof clientIdentities;

function makePki(dir: string): void {
    fs.mkdirSync(path.join(dir, "pki"), { mode: 0o700 });
    makeCa(dir, "ca");
    const names = ["IP:127.0.0.1", `IP:${serviceIp}`, "DNS:localhost", "DNS:kubernetes"];
    const serviceNames = ["default", "default.svc", "default.svc.cluster.local"].map((n) => `DNS:kubernetes.${n}`);
    issue(dir, "ca", "serving", "/CN=kube-apiserver", [
        "extendedKeyUsage=serverAuth",
        `subjectAltName=${[...names, ...serviceNames].join(",")}`,
    ]);
    for (const [client, subject] of Object.entries(clientIdentities)) {
        issue(dir, "ca", client, subject, ["extendedKeyUsage=clientAuth"]);
    }
    // The aggregation layer's: the apiserver proxies to extension API servers with this client certificate,
    // and they (the controller manager and the scheduler too, for their own endpoints) trust the user it
    // names in headers only from certificates of this separate CA.
    makeCa(dir, "front-proxy-ca");
    issue(dir, "front-proxy-ca", "front-proxy-client", "/CN=front-proxy-client", ["extendedKeyUsage=clientAuth"]);
    // The key that signs service account tokens (the apiserver) and legacy token Secrets (the controller).
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pki(dir, "sa.key")]);
    openssl(["pkey", "-in", pki(dir, "sa.key"), "-pubout", "-out", pki(dir, "sa.pub")]);
}

const base64File = (file: string) => fs.readFileSync(file).toString("base64");

/** Self-contained (certificates inline), so that it can be copied or read by any client. */
function writeKubeconfig(dir: string, client: Client, server: string): string {
    const file = path.join(dir, client === "admin" ? "kubeconfig" : `${client}.kubeconfig`);
    const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            { name: contextName, cluster: { server, "certificate-authority-data": base64File(pki(dir, "ca.crt")) } },
        ],
        users: [
            {
                name: client,
                user: {
                    "client-certificate-data": base64File(pki(dir, `${client}.crt`)),
                    "client-key-data": base64File(pki(dir, `${client}.key`)),
                },
            },
        ],
        contexts: [{ name: contextName, context: { cluster: contextName, user: client } }],
        "current-context": contextName,
    };
    fs.writeFileSync(file, stringify(config), { mode: 0o600 });
    return file;
}

// ---------------------------------------------------------------------------------------------------
// The API, over node's https with the admin certificate (the repository has no Kubernetes client)

export interface Response {
    readonly status: number;
    readonly body: string;
}

/** One request as the cluster's admin; `body` is sent as JSON unless `contentType` says otherwise. */
export function kubeRequest(
    info: ClusterInfo,
    method: string,
    urlPath: string,
    body?: unknown,
    contentType = "application/json",
): Promise<Response> {
    const data = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    return httpsRequest(`${info.server}${urlPath}`, method, data, contentType, {
        ca: fs.readFileSync(pki(info.dir, "ca.crt")),
        cert: fs.readFileSync(pki(info.dir, "admin.crt")),
        key: fs.readFileSync(pki(info.dir, "admin.key")),
    });
}

function httpsRequest(
    url: string,
    method: string,
    data: string | undefined,
    contentType: string,
    tls: https.RequestOptions,
): Promise<Response> {
    return new Promise((resolve, reject) => {
        const headers = data === undefined ? {} : { "content-type": contentType };
        const request = https.request(url, { ...tls, method, headers, timeout: 10000 }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () =>
                resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
            );
        });
        request.on("timeout", () => request.destroy(new Error(`${method} ${url} timed out`)));
        request.on("error", reject);
        request.end(data);
    });
}

/** GET as the admin; undefined unless 200 (or unreachable), for polling. */
async function getJson<T>(info: ClusterInfo, urlPath: string): Promise<T | undefined> {
    try {
        const response = await kubeRequest(info, "GET", urlPath);
        return response.status === 200 ? (JSON.parse(response.body) as T) : undefined;
    } catch {
        return undefined;
    }
}

/** Server-side apply: creates or updates, so that it cannot fail on an object left over. */
async function apply(info: ClusterInfo, urlPath: string, object: unknown): Promise<void> {
    const query = "fieldManager=mattermost-cluster&force=true";
    const response = await kubeRequest(info, "PATCH", `${urlPath}?${query}`, object, "application/apply-patch+yaml");
    if (response.status !== 200 && response.status !== 201) {
        throw new Error(`applying ${urlPath}: HTTP ${response.status}: ${response.body}`);
    }
}

// ---------------------------------------------------------------------------------------------------
// Waiting

/** Polls `ready` until it holds, failing at once (with its log) if one of `processes` has died. */
async function waitFor(
    what: string,
    ready: () => Promise<boolean>,
    dir: string,
    processes: readonly Started[],
    timeoutMs = 120000,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
        const dead = processes.find((started) => !isRunning(started));
        if (dead) {
            throw new Error(`${dead.name} exited while waiting for ${what}:\n${logTail(dir, dead.name)}`);
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
        }
        await sleep(250);
    }
    log(`${what}: ready`);
}

interface Condition {
    type: string;
    status: string;
}
interface KubeObject {
    metadata: { name: string };
    spec?: { taints?: unknown[] };
    status?: { conditions?: Condition[] };
}

const hasCondition = (conditions: Condition[] | undefined, type: string) =>
    conditions?.some((c) => c.type === type && c.status === "True") ?? false;

/** /healthz of a component serving with our certificate (open to anyone: `--authorization-always-allow-paths`). */
async function healthy(port: number, dir: string): Promise<boolean> {
    try {
        const response = await httpsRequest(`https://127.0.0.1:${port}/healthz`, "GET", undefined, "", {
            ca: fs.readFileSync(pki(dir, "ca.crt")),
        });
        return response.status === 200;
    } catch {
        return false;
    }
}

async function etcdHealthy(port: number): Promise<boolean> {
    try {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        return response.ok && ((await response.json()) as { health?: string }).health === "true";
    } catch {
        return false;
    }
}

async function apiserverReady(info: ClusterInfo): Promise<boolean> {
    try {
        return (await kubeRequest(info, "GET", "/readyz")).status === 200;
    } catch {
        return false;
    }
}

// ---------------------------------------------------------------------------------------------------
// The components

function etcdArgs(dir: string, ports: Ports): string[] {
    const client = `http://127.0.0.1:${ports.etcdClient}`;
    const peer = `http://127.0.0.1:${ports.etcdPeer}`;
    return [
        `--name=${contextName}`,
        `--data-dir=${path.join(dir, "etcd")}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=${contextName}=${peer}`,
        "--initial-cluster-state=new",
        // Throw-away data: speed over durability.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ];
}

function apiserverArgs(dir: string, ports: Ports): string[] {
    return [
        `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${ports.apiserver}`,
        "--advertise-address=127.0.0.1",
        // The `kubernetes` Service would point at 127.0.0.1, which an Endpoints object may not hold, and no
        // pod runs to reach it anyway.
        "--endpoint-reconciler-type=none",
        `--tls-cert-file=${pki(dir, "serving.crt")}`,
        `--tls-private-key-file=${pki(dir, "serving.key")}`,
        `--client-ca-file=${pki(dir, "ca.crt")}`,
        `--requestheader-client-ca-file=${pki(dir, "front-proxy-ca.crt")}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--proxy-client-cert-file=${pki(dir, "front-proxy-client.crt")}`,
        `--proxy-client-key-file=${pki(dir, "front-proxy-client.key")}`,
        `--service-cluster-ip-range=${serviceRange}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${pki(dir, "sa.pub")}`,
        `--service-account-signing-key-file=${pki(dir, "sa.key")}`,
        "--authorization-mode=Node,RBAC",
        // Added to the default plugins. With no admission configuration, PodSecurity's cluster-wide default
        // is `privileged`: the namespaces' pod-security.kubernetes.io labels decide, as on a real cluster.
        "--enable-admission-plugins=NodeRestriction,PodSecurity",
        "--allow-privileged=true",
        "--profiling=false",
    ];
}

/** What the controller manager and the scheduler share: a loopback-only /healthz with our certificate. */
function componentArgs(dir: string, client: Client, port: number): string[] {
    const kubeconfig = path.join(dir, `${client}.kubeconfig`);
    return [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${port}`,
        `--tls-cert-file=${pki(dir, "serving.crt")}`,
        `--tls-private-key-file=${pki(dir, "serving.key")}`,
        // A single instance: leader election would only delay its start.
        "--leader-elect=false",
    ];
}

function controllerManagerArgs(dir: string, ports: Ports): string[] {
    return [
        ...componentArgs(dir, "kube-controller-manager", ports.controllerManager),
        // Every controller that is on by default, and the token ones that are not.
        "--controllers=*,bootstrap-signer-controller,token-cleaner-controller",
        // Each controller as its own service account, so that RBAC treats them as on a real cluster.
        "--use-service-account-credentials=true",
        `--service-account-private-key-file=${pki(dir, "sa.key")}`,
        `--root-ca-file=${pki(dir, "ca.crt")}`,
        `--cluster-signing-cert-file=${pki(dir, "ca.crt")}`,
        `--cluster-signing-key-file=${pki(dir, "ca.key")}`,
        `--cluster-name=${contextName}`,
        // Its default is under /usr/libexec, which it would create on the host.
        `--flex-volume-plugin-dir=${path.join(dir, "flexvolume")}`,
    ];
}

/**
 * No ingress controller runs here (there is no container runtime to run one), yet the Pulumi provider's
 * await logic for an Ingress waits until `.status.loadBalancer.ingress` is set, as an ingress controller
 * does on a real cluster: without it `pulumi up` fails on the Ingress after 10 minutes. So kwok plays the
 * ingress controller as it plays the kubelets, with a Stage that gives every Ingress, of any class or
 * none, the loopback address as its load balancer's as soon as it is created.
 */
const ingressStage = {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "Stage",
    metadata: { name: "ingress-load-balancer" },
    spec: {
        // A group/version: kwok parses it with schema.ParseGroupVersion (as `v1` for Pods and Nodes).
        resourceRef: { apiGroup: "networking.k8s.io/v1", kind: "Ingress" },
        selector: {
            matchExpressions: [
                { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
                { key: ".status.loadBalancer.ingress", operator: "DoesNotExist" },
            ],
        },
        next: { statusTemplate: stringify({ loadBalancer: { ingress: [{ ip: "127.0.0.1" }] } }) },
    },
};

/**
 * kwok's `--config`: our Stages only. kwok v0.7.0 groups the Stages of its config by resource and falls
 * back to its built-in ones (kustomize/stage/node/fast with the heartbeat, kustomize/stage/pod/fast) for
 * Nodes and Pods only when the config has none for them, so these keep making pods Ready, completing the
 * pods of Jobs and finishing deletions. A Stage for another resource needs no flag in that version (not
 * `--enable-crds`, which would read Stages from the API instead): kwok watches that resource itself.
 */
const kwokConfig = (dir: string) => path.join(dir, "kwok.yaml");

function kwokArgs(dir: string): string[] {
    return [
        `--kubeconfig=${path.join(dir, "kwok.kubeconfig")}`,
        `--config=${kwokConfig(dir)}`,
        "--manage-all-nodes=false",
        `--manage-nodes-with-annotation-selector=${fakeNodeAnnotation.join("=")}`,
        // With a lease duration kwok renews the Nodes' Leases and picks its frequent status heartbeat, so the
        // node lifecycle controller never finds the Nodes unresponsive and evicts their pods.
        "--node-lease-duration-seconds=40",
        // The pods' (fake) IPs; room for many more pods than the default /24.
        "--cidr=10.244.0.0/16",
        // No --node-port nor --server-address: kwok then serves nothing (it would listen on 0.0.0.0).
    ];
}

/** A fake Node kwok manages, big enough for any test. */
function fakeNode(index: number): { name: string; node: unknown; status: unknown } {
    const name = `kwok-node-${zones[index]}`;
    const resources = { cpu: "32", memory: "256Gi", pods: "250", "ephemeral-storage": "1Ti" };
    const node = {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
            name,
            annotations: { [fakeNodeAnnotation[0]]: fakeNodeAnnotation[1], "node.alpha.kubernetes.io/ttl": "0" },
            labels: {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/region": "local",
                "topology.kubernetes.io/zone": `zone-${zones[index]}`,
                type: "kwok",
            },
        },
    };
    const addresses = [
        { type: "InternalIP", address: `10.0.0.${index + 10}` },
        { type: "Hostname", address: name },
    ];
    const status = {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name },
        status: { capacity: resources, allocatable: resources, addresses },
    };
    return { name, node, status };
}

// ---------------------------------------------------------------------------------------------------
// up and down

function resolveBinaries(): Binaries {
    return {
        etcd: binary("etcd", "etcd"),
        apiserver: binary("kubernetes", "kube-apiserver"),
        controllerManager: binary("kubernetes", "kube-controller-manager"),
        scheduler: binary("kubernetes", "kube-scheduler"),
        kwok: binary("kwok", "kwok"),
    };
}

/** A healthy cluster's info, or undefined when none is recorded; throws on a half-dead one. */
async function existing(dir: string): Promise<ClusterInfo | undefined> {
    const state = readState(dir);
    if (!state) {
        return undefined;
    }
    const dead = state.processes.filter((started) => !isRunning(started)).map((started) => started.name);
    if (dead.length === 0 && (await apiserverReady(state))) {
        const { kubeconfig, context, server } = state;
        return { kubeconfig, context, server, dir };
    }
    const why = dead.length > 0 ? `${dead.join(", ")} not running` : "the API server is not ready";
    throw new Error(`the cluster in ${dir} is broken (${why}): run \`npm run cluster -- down\` first`);
}

export async function up(): Promise<ClusterInfo> {
    const dir = stateDir();
    const running = await existing(dir);
    if (running) {
        log(`already up in ${dir}`);
        return running;
    }
    const binaries = resolveBinaries();
    const crds = readCrds();
    // Only logs of a failed `up` can be left here (state.json is gone, see below).
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, "logs"), { recursive: true, mode: 0o700 });
    const ports = await allocatePorts();
    makePki(dir);
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const kubeconfig = writeKubeconfig(dir, "admin", server);
    for (const client of ["kwok", "kube-controller-manager", "kube-scheduler"] as const) {
        writeKubeconfig(dir, client, server);
    }
    const state: State = { kubeconfig, context: contextName, server, dir, ports, processes: [] };
    try {
        await startAll(state, binaries, crds);
    } catch (error) {
        await stopAll(state.processes);
        fs.rmSync(stateFile(dir));
        const why = error instanceof Error ? error.message : String(error);
        throw new Error(`cluster did not come up (logs in ${path.join(dir, "logs")}): ${why}`);
    }
    return { kubeconfig, context: contextName, server, dir };
}

async function startAll(state: State, binaries: Binaries, crds: readonly Crd[]): Promise<void> {
    const { dir, ports, processes } = state;
    const launch = (name: string, file: string, args: string[]) => {
        processes.push(start(dir, name, file, args));
        writeState(state);
    };
    writeState(state);
    launch("etcd", binaries.etcd, etcdArgs(dir, ports));
    await waitFor("etcd", () => etcdHealthy(ports.etcdClient), dir, processes);
    launch("kube-apiserver", binaries.apiserver, apiserverArgs(dir, ports));
    await waitFor("kube-apiserver /readyz", () => apiserverReady(state), dir, processes);
    launch("kube-controller-manager", binaries.controllerManager, controllerManagerArgs(dir, ports));
    launch("kube-scheduler", binaries.scheduler, componentArgs(dir, "kube-scheduler", ports.scheduler));
    fs.writeFileSync(kwokConfig(dir), stringify(ingressStage));
    launch("kwok", binaries.kwok, kwokArgs(dir));
    await createNodes(state);
    await installCrds(state, crds);
    await waitUntilUsable(state, crds);
}

async function createNodes(info: ClusterInfo): Promise<void> {
    for (const index of zones.keys()) {
        const { name, node, status } = fakeNode(index);
        await apply(info, `/api/v1/nodes/${name}`, node);
        // A kubelet reports its capacity in the status, which is only written through its subresource.
        await apply(info, `/api/v1/nodes/${name}/status`, status);
    }
    log(`created ${zones.length} fake nodes`);
}

interface Crd {
    readonly metadata: { readonly name: string };
}

function readCrds(): Crd[] {
    if (!fs.existsSync(crdDir)) {
        log(`no OpenShift CRDs at ${crdDir}: Routes and SecurityContextConstraints cannot be created`);
        return [];
    }
    return fs
        .readdirSync(crdDir)
        .filter((file) => file.endsWith(".crd.yaml"))
        .map((file) => parse(fs.readFileSync(path.join(crdDir, file), "utf8")) as Crd);
}

async function installCrds(info: ClusterInfo, crds: readonly Crd[]): Promise<void> {
    for (const crd of crds) {
        await apply(info, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd);
    }
    log(`applied the CRDs of ${crdDir}`);
}

async function nodesReady(info: ClusterInfo): Promise<boolean> {
    const selector = encodeURIComponent("type=kwok");
    const nodes = await getJson<{ items: KubeObject[] }>(info, `/api/v1/nodes?labelSelector=${selector}`);
    // Untainted too: the node lifecycle controller lifts the not-ready taint only after Ready.
    const usable = nodes?.items.filter((n) => hasCondition(n.status?.conditions, "Ready") && !n.spec?.taints?.length);
    return usable?.length === zones.length;
}

async function crdsEstablished(info: ClusterInfo, names: string[]): Promise<boolean> {
    for (const name of names) {
        const crd = await getJson<KubeObject>(info, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
        if (!hasCondition(crd?.status?.conditions, "Established")) {
            return false;
        }
    }
    return true;
}

async function waitUntilUsable(state: State, crds: readonly Crd[]): Promise<void> {
    const { dir, ports, processes } = state;
    await waitFor("kube-controller-manager /healthz", () => healthy(ports.controllerManager, dir), dir, processes);
    await waitFor("kube-scheduler /healthz", () => healthy(ports.scheduler, dir), dir, processes);
    await waitFor("fake nodes Ready", () => nodesReady(state), dir, processes);
    const names = crds.map((crd) => crd.metadata.name);
    await waitFor("CRDs Established", () => crdsEstablished(state, names), dir, processes);
    const defaultAccount = async () =>
        (await getJson(state, "/api/v1/namespaces/default/serviceaccounts/default")) !== undefined;
    await waitFor("the default ServiceAccount", defaultAccount, dir, processes);
}

export async function down(): Promise<void> {
    const dir = stateDir();
    const state = readState(dir);
    if (state) {
        await stopAll(state.processes);
        log(`stopped ${state.processes.map((started) => started.name).join(", ")}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
}

async function main(command: string | undefined): Promise<void> {
    if (command === "up") {
        const { kubeconfig, context } = await up();
        process.stdout.write(`${JSON.stringify({ kubeconfig, context })}\n`);
    } else if (command === "down") {
        await down();
    } else {
        throw new Error("usage: npm run cluster -- up | down");
    }
}

if (require.main === module) {
    main(process.argv[2]).catch((error: unknown) => {
        log(error instanceof Error ? error.message : String(error));
        process.exit(1);
    });
}
