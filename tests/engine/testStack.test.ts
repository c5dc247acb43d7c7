/**
 * The test stack deployed for real: the README's commands, run as written, against the local Kubernetes
 * API (npm run cluster), then everything a user does next: read the outputs, change a setting, preview
 * without changes, refresh, destroy. Pods are simulated by kwok (no container runtime here), so a
 * Deployment is available and a Job complete as soon as the scheduler placed their pods.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ClusterInfo, up as clusterUp } from "../../scripts/cluster";
import { partOf } from "../../components/meta";
import { OutputContract, outputContract } from "../../config/outputs";
import { renderStack } from "../helpers/render";
import { compareWithRender, stateResources, urnName } from "./helpers/deployed";
import { Kube, KubeObject } from "./helpers/kube";
import { CliResult, Workspace, projectDir, workspace } from "./helpers/pulumiCli";
import { readmeBlock } from "./helpers/readme";

const stack = "test";
const namespace = "mattermost-test";

let cluster: ClusterInfo;
let kube: Kube;
let ws: Workspace;
let deploy: CliResult;

beforeAll(async () => {
    cluster = await clusterUp();
    kube = new Kube(cluster);
    ws = workspace({ stacks: [stack] });
    deploy = ws.bash(readmeBlock("local-deploy"), 900_000);
}, 1_200_000);

afterAll(() => ws?.cleanup());

function stackFile(): string {
    return path.join(ws.dir, `Pulumi.${stack}.yaml`);
}

it("deploys with the README's commands", () => {
    if (deploy.status !== 0) {
        throw new Error(`the README's deploy block exited ${deploy.status}:\n${deploy.output.slice(-6000)}`);
    }
    expect(deploy.output).toMatch(/Resources:\n\s+\+ \d+ created/);
    // An output exported as undefined (one whose feature is off) would warn at every preview.
    expect(deploy.output).not.toContain("will not show as a stack output");
});

it("creates every object of the offline render, and they agree field by field", async () => {
    const rendered = renderStack(stack, stackFile());
    const { missing, differing } = await compareWithRender(rendered, stateResources(ws, stack), kube);
    expect(missing).toEqual([]);
    expect(differing).toEqual({});
    expect(rendered.manifests.length).toBeGreaterThan(30);
});

it("has every Deployment available and the realm Job complete", async () => {
    const deployments = await kube.list("apps/v1", "Deployment", namespace);
    expect(deployments.length).toBeGreaterThanOrEqual(7);
    for (const deployment of deployments) {
        const conditions = (deployment.status as { conditions?: { type: string; status: string }[] }).conditions;
        expect({ name: deployment.metadata.name, conditions }).toEqual({
            name: deployment.metadata.name,
            conditions: expect.arrayContaining([expect.objectContaining({ type: "Available", status: "True" })]),
        });
    }
    const jobs = await kube.list("batch/v1", "Job", namespace);
    const realmJobs = jobs.filter((job) => job.metadata.name.startsWith("keycloak-realm"));
    expect(realmJobs).toHaveLength(1);
    expect((realmJobs[0]?.status as { succeeded?: number }).succeeded).toBe(1);
});

it("outputs what the contract says, secrets as secrets", () => {
    const shown = JSON.parse(ws.pulumiOk(["stack", "output", "--json", "--show-secrets"]).stdout) as Record<
        string,
        unknown
    >;
    const hidden = JSON.parse(ws.pulumiOk(["stack", "output", "--json"]).stdout) as Record<string, unknown>;
    const expected = (Object.entries(outputContract) as [string, OutputContract][]).filter(
        ([, contract]) => !contract.when || contract.when === "testUsers",
    );
    expect(Object.keys(shown).sort()).toEqual(expected.map(([name]) => name).sort());
    for (const [name, contract] of expected) {
        const value = shown[name];
        expect({ name, type: typeof value }).toEqual({ name, type: contract.type });
        expect({ name, hidden: hidden[name] === "[secret]" }).toEqual({ name, hidden: contract.secret });
    }
});

it("is read by the consumer example through a real StackReference", () => {
    const consumer = workspace({ stacks: [] });
    try {
        const dir = path.join(consumer.dir, "examples", "consumer");
        // The consumer reads the chat stack from the same backend: the one the README's commands chose.
        const env = { ...consumer.env, PULUMI_BACKEND_URL: ws.env.PULUMI_BACKEND_URL };
        const run = (args: string[]) => consumerCli(dir, env, args);
        run(["stack", "init", "consumer"]);
        run(["config", "set", "chatStack", `organization/mattermost/${stack}`]);
        run(["up", "--yes"]);
        const outputs = JSON.parse(run(["stack", "output", "--json", "--show-secrets"])) as Record<string, unknown>;
        const chat = JSON.parse(ws.pulumiOk(["stack", "output", "--json", "--show-secrets"]).stdout) as Record<
            string,
            unknown
        >;
        expect(outputs.chatUrl).toBe(chat.url);
        expect(outputs.services).toEqual(chat.services);
        expect(JSON.parse(run(["stack", "output", "--json"])).pushUrl).toBe(
            chat.pushUrl === undefined ? undefined : "[secret]",
        );
    } finally {
        consumer.cleanup();
    }
});

function consumerCli(dir: string, env: NodeJS.ProcessEnv, args: string[]): string {
    const result = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: dir, env, encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(
            `pulumi ${args.join(" ")} (consumer) exited ${result.status}:\n${result.stdout}${result.stderr}`,
        );
    }
    return result.stdout;
}

it("previews no change and refreshes without drift", () => {
    const preview = ws.pulumi(["preview", "--expect-no-changes"]);
    expect({ status: preview.status, output: preview.status === 0 ? "" : preview.output }).toEqual({
        status: 0,
        output: "",
    });
    const refresh = ws.pulumi(["refresh", "--yes", "--expect-no-changes"]);
    expect({ status: refresh.status, output: refresh.status === 0 ? "" : refresh.output }).toEqual({
        status: 0,
        output: "",
    });
});

interface PreviewStep {
    op: string;
    urn: string;
}

it("changes one Mattermost setting: the settings ConfigMap replaced, both Deployments updated, nothing else", async () => {
    const file = stackFile();
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"Chat (test)"', '"Chat (test, renamed)"'));
    const preview = JSON.parse(ws.pulumiOk(["preview", "--diff", "--json"]).stdout) as { steps: PreviewStep[] };
    // Pulumi.yaml refreshes first (options.refresh: always): each resource read back is a "refresh" step.
    const changed = preview.steps
        .filter((step) => step.op !== "same" && step.op !== "refresh")
        .map((step) => `${step.op} ${urnName(step.urn)}`)
        .sort();
    // A preview shows a replacement as one "replace" step (`up` carries it out as create, then delete).
    expect(changed).toEqual(["replace mattermost-settings", "update mattermost-1", "update mattermost-2"]);
    // The refresh is what renews a certificate in its window without anyone asking for it.
    expect(preview.steps.filter((step) => step.op === "refresh").map((step) => urnName(step.urn))).toContain(
        "mattermost-s3-server-certificate",
    );
    ws.pulumiOk(["up", "--yes"]);
    await expectBackupRolledOutFirst();
});

/** From the ReplicaSets and Pods the controllers made: the backup's new pod was Ready before the primary's new ReplicaSet existed. */
async function expectBackupRolledOutFirst(): Promise<void> {
    const newest = async (deployment: string) => {
        const sets = (await kube.list("apps/v1", "ReplicaSet", namespace)).filter((set) =>
            (set.metadata.ownerReferences as { name: string }[] | undefined)?.some(
                (owner) => owner.name === deployment,
            ),
        );
        return sets.sort((a, b) => creation(b) - creation(a))[0];
    };
    const backupSet = await newest("mattermost-2");
    const primarySet = await newest("mattermost-1");
    const backupPods = (await kube.list("v1", "Pod", namespace)).filter((pod) =>
        (pod.metadata.ownerReferences as { name: string }[] | undefined)?.some(
            (owner) => owner.name === backupSet.metadata.name,
        ),
    );
    expect(backupPods).toHaveLength(1);
    const ready = (
        backupPods[0]?.status as { conditions: { type: string; lastTransitionTime: string }[] }
    ).conditions.find((condition) => condition.type === "Ready");
    expect(ready).toBeDefined();
    expect(Date.parse(ready?.lastTransitionTime ?? "")).toBeLessThanOrEqual(creation(primarySet));
}

function creation(object: KubeObject): number {
    return Date.parse(String(object.metadata.creationTimestamp));
}

it("upgrades Mattermost: the new image's schema migration completes before the backup's new ReplicaSet exists", async () => {
    const file = stackFile();
    const [current, next] = ["mattermost-team-edition:10.11.10", "mattermost-team-edition:10.11.11"];
    expect(fs.readFileSync(file, "utf8")).toContain(current);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(current, next));
    ws.pulumiOk(["up", "--yes"]);
    const migrations = (await kube.list("batch/v1", "Job", namespace)).filter((job) =>
        job.metadata.name.startsWith("mattermost-schema-migration-"),
    );
    // The old Job replaced by the new one.
    expect(migrations).toHaveLength(1);
    const job = migrations[0];
    const spec = job.spec as { template: { spec: { containers: { image: string }[] } } };
    expect(spec.template.spec.containers[0]?.image).toBe(`mattermost/${next}`);
    const completed = Date.parse(String((job.status as { completionTime?: string }).completionTime));
    const backupSets = (await kube.list("apps/v1", "ReplicaSet", namespace)).filter((set) =>
        (set.metadata.ownerReferences as { name: string }[] | undefined)?.some(
            (owner) => owner.name === "mattermost-2",
        ),
    );
    const newest = backupSets.sort((a, b) => creation(b) - creation(a))[0];
    expect(creation(newest)).toBeGreaterThanOrEqual(completed);
    await expectBackupRolledOutFirst();
    const outputs = JSON.parse(ws.pulumiOk(["stack", "output", "--json"]).stdout) as Record<string, unknown>;
    expect(outputs.mattermostVersion).toBe("10.11.11");
});

/** The components that hold what must never rotate, by source file and the constant of their type token. */
const lastingHolders = [
    ["components/mattermostPair.ts", "mattermostPairType"],
    ["components/keycloak.ts", "keycloakType"],
    ["components/s3Store.ts", "s3StoreType"],
    ["components/pushProxyHost.ts", "pushProxyHostType"],
] as const;

/**
 * The refactor a developer makes in the program copy: each holder's type token renamed, and, with
 * `withAliases`, the old token given as an alias in the constructor, the way the README says.
 */
function renameHolders(withAliases: boolean): [oldType: string, newType: string][] {
    return lastingHolders.map(([file, constant]) => {
        const source = path.join(ws.dir, file);
        const text = fs.readFileSync(source, "utf8");
        const declaration = new RegExp(`export const ${constant} = "(mattermost:\\w+:\\w+)";`).exec(text);
        const call = `super(${constant}, name, {}, opts);`;
        if (!declaration || !text.includes(call)) {
            throw new Error(`${file} no longer declares ${constant} or calls ${call}; update this test`);
        }
        const oldType = declaration[1];
        const newType = oldType.replace(/:\w+:/, ":renamed:");
        const renamed = text
            .replace(declaration[0], `export const ${constant} = "${newType}";`)
            .replace(
                call,
                withAliases ? `super(${constant}, name, {}, { ...opts, aliases: [{ type: "${oldType}" }] });` : call,
            );
        fs.writeFileSync(source, renamed);
        return [oldType, newType];
    });
}

/** The values of the stack's random passwords and private keys, by Pulumi name, in plain text. */
function lastingValues(): Record<string, { urn: string; value: unknown }> {
    const exported = JSON.parse(ws.pulumiOk(["stack", "export", "--show-secrets"]).stdout) as {
        deployment: { resources: { urn: string; type: string; outputs?: Record<string, unknown> }[] };
    };
    const lasting = exported.deployment.resources.filter((resource) =>
        ["random:index/randomPassword:RandomPassword", "tls:index/privateKey:PrivateKey"].includes(resource.type),
    );
    return Object.fromEntries(
        lasting.map((resource) => [
            urnName(resource.urn),
            { urn: resource.urn, value: resource.outputs?.result ?? resource.outputs?.privateKeyPem },
        ]),
    );
}

async function secretData(): Promise<Record<string, unknown>> {
    const secrets = await kube.list("v1", "Secret", namespace);
    return Object.fromEntries(secrets.map((secret) => [secret.metadata.name, secret.data]));
}

it("keeps the at-rest key, the salt, the client secrets and the CA keys through a rename of their components", async () => {
    const before = lastingValues();
    const names = Object.keys(before);
    expect(names).toEqual(
        expect.arrayContaining([
            "mattermost-at-rest-encrypt-key",
            "mattermost-public-link-salt",
            "keycloak-client-secret",
            "mattermost-s3-ca-key",
        ]),
    );
    const secretsBefore = await secretData();
    const nonTrivial = (steps: PreviewStep[]) =>
        steps
            .filter((step) => step.op !== "same" && step.op !== "refresh")
            .map((step) => `${step.op} ${urnName(step.urn)}`);

    // Without an alias, the renamed components are new ones: every value they hold would be made anew.
    renameHolders(false);
    const unaliased = JSON.parse(ws.pulumiOk(["preview", "--json"]).stdout) as { steps: PreviewStep[] };
    expect(nonTrivial(unaliased.steps)).toEqual(expect.arrayContaining(["create mattermost-at-rest-encrypt-key"]));

    // With the old type as an alias, Pulumi takes the old resources for the new names: nothing changes.
    fs.cpSync(path.join(projectDir, "components"), path.join(ws.dir, "components"), { recursive: true });
    const renames = renameHolders(true);
    const renamedUrn = (urn: string) =>
        renames.reduce((result, [oldType, newType]) => result.replace(`${oldType}$`, `${newType}$`), urn);
    expect(renamedUrn(before["mattermost-at-rest-encrypt-key"]?.urn ?? "")).toContain("mattermost:renamed:");
    const aliased = JSON.parse(ws.pulumiOk(["preview", "--json"]).stdout) as { steps: PreviewStep[] };
    expect(nonTrivial(aliased.steps)).toEqual([]);
    ws.pulumiOk(["up", "--yes"]);
    const after = lastingValues();
    for (const name of names) {
        expect({ name, ...after[name] }).toEqual({
            name,
            value: before[name]?.value,
            urn: renamedUrn(before[name]?.urn ?? ""),
        });
    }
    expect(await secretData()).toEqual(secretsBefore);
});

it("destroys every object it made", async () => {
    ws.pulumiOk(["destroy", "--yes"], { timeoutMs: 900_000 });
    expect(await kube.get("v1", "Namespace", namespace)).toBeUndefined();
    const left: string[] = [];
    for (const { apiVersion, kind, namespaced } of await kube.listableKinds()) {
        if (namespaced) {
            continue;
        }
        for (const object of await kube.list(apiVersion, kind)) {
            const labels = (object.metadata.labels ?? {}) as Record<string, string>;
            if (labels["app.kubernetes.io/part-of"] === partOf) {
                left.push(`${kind} ${object.metadata.name}`);
            }
        }
    }
    expect(left).toEqual([]);
    expect(stateResources(ws, stack).filter((resource) => resource.type !== "pulumi:pulumi:Stack")).toEqual([]);
});
