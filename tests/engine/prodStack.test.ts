/**
 * The prod stack deployed for real to the local cluster: its company services (PostgreSQL, S3, AD, ELK)
 * given test values that need not answer, since no container runs (kwok reports the pods running); the
 * namespace made beforehand, as an OpenShift project is (createNamespace false); its Route checked by
 * OpenShift's own CRD schema. The secrets are set with `pulumi config set --secret`, as the README says
 * (scripts/localStack.ts, which the pull-request preview against the local cluster uses too).
 */
import { ClusterInfo, up as clusterUp } from "../../scripts/cluster";
import { prepareLocalStack, prodTestSecrets } from "../../scripts/localStack";
import { renderStack } from "../helpers/render";
import { compareWithRender, stateResources, urnName } from "./helpers/deployed";
import { Kube } from "./helpers/kube";
import { Workspace, workspace } from "./helpers/pulumiCli";
import * as fs from "node:fs";
import * as path from "node:path";

const stack = "prod";
const smtpPassword = "smtp-password-of-the-engine-test";
const namespace = "mattermost";

let cluster: ClusterInfo;
let kube: Kube;
let ws: Workspace;

beforeAll(async () => {
    cluster = await clusterUp();
    kube = new Kube(cluster);
    // The kubernetes provider in strict mode takes the cluster from KUBECONFIG and kubeContext only.
    ws = workspace({ stacks: [stack], extraEnv: { KUBECONFIG: cluster.kubeconfig } });
    await prepareLocalStack(stack, ws.dir, cluster, (args, input) => void ws.pulumiOk(args, { input }));
    // Day-two keys, set with the commands the README gives: maps whose names hold dots and slashes, one of
    // them of secrets, and the Route's own certificate.
    ws.pulumiOk([
        "config",
        "set",
        "--secret",
        "--path",
        `mattermostSecretSettings["EmailSettings.SMTPPassword"]`,
        smtpPassword,
    ]);
    ws.pulumiOk(["config", "set", "--path", `edgeAnnotations["cert-manager.io/cluster-issuer"]`, "company-ca"]);
    ws.pulumiOk(["config", "set", "ingressTlsSecretName", "chat-tls"]);
}, 300_000);

afterAll(() => ws?.cleanup());

it("deploys", () => {
    const up = ws.pulumi(["up", "--yes"], { timeoutMs: 900_000 });
    if (up.status !== 0) {
        throw new Error(`pulumi up of the prod stack exited ${up.status}:\n${up.output.slice(-6000)}`);
    }
    for (const value of [...Object.values(prodTestSecrets), smtpPassword]) {
        expect(up.output).not.toContain(value);
    }
});

it("takes the day-two keys as the CLI wrote them: the secret setting, the annotation, the Route's certificate", async () => {
    expect(fs.readFileSync(path.join(ws.dir, `Pulumi.${stack}.yaml`), "utf8")).not.toContain(smtpPassword);
    const secrets = await kube.list("v1", "Secret", namespace);
    const pairSecret = secrets.find((secret) => String(secret.metadata.name).startsWith("mattermost-secrets"));
    const data = pairSecret?.data as Record<string, string>;
    expect(Buffer.from(data.MM_EMAILSETTINGS_SMTPPASSWORD ?? "", "base64").toString()).toBe(smtpPassword);
    const [route] = await kube.list("route.openshift.io/v1", "Route", namespace);
    expect(route?.metadata.annotations).toMatchObject({ "cert-manager.io/cluster-issuer": "company-ca" });
    expect((route?.spec as { tls: unknown }).tls).toMatchObject({ externalCertificate: { name: "chat-tls" } });
    const binding = await kube.get(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "mattermost-router-certificate",
        namespace,
    );
    expect(binding?.subjects).toEqual([{ kind: "ServiceAccount", name: "router", namespace: "openshift-ingress" }]);
});

it("creates every object of the offline render, the Route accepted by OpenShift's schema", async () => {
    const rendered = renderStack(stack, path.join(ws.dir, `Pulumi.${stack}.yaml`));
    const { missing, differing } = await compareWithRender(rendered, stateResources(ws, stack), kube);
    expect(missing).toEqual([]);
    expect(differing).toEqual({});
    const routes = await kube.list("route.openshift.io/v1", "Route", namespace);
    expect(routes.map((route) => route.metadata.name)).toEqual(["mattermost"]);
});

it("previews no change", () => {
    const preview = ws.pulumi(["preview", "--expect-no-changes"]);
    expect({ status: preview.status, output: preview.status === 0 ? "" : preview.output }).toEqual({
        status: 0,
        output: "",
    });
});

it("refreshes without drift, and applies a changed setting", () => {
    const refresh = ws.pulumi(["refresh", "--yes", "--expect-no-changes"]);
    expect({ status: refresh.status, output: refresh.status === 0 ? "" : refresh.output }).toEqual({
        status: 0,
        output: "",
    });
    const file = path.join(ws.dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(
        file,
        fs.readFileSync(file, "utf8").replace('TeamSettings.SiteName="Chat"', 'TeamSettings.SiteName="Chat (renamed)"'),
    );
    const up = ws.pulumi(["up", "--yes"], { timeoutMs: 900_000 });
    expect({ status: up.status, output: up.status === 0 ? "" : up.output.slice(-4000) }).toEqual({
        status: 0,
        output: "",
    });
    expect(up.output).toMatch(/~ \d+ updated/);
});

it("refuses a downgrade at preview and at up, from the release in its own state, the cluster untouched", async () => {
    const file = path.join(ws.dir, `Pulumi.${stack}.yaml`);
    const deployed = fs.readFileSync(file, "utf8");
    const [current, older] = ["mattermost-enterprise-edition:11.6.1", "mattermost-enterprise-edition:11.4.4"];
    expect(deployed).toContain(current);
    const images = async () =>
        (await kube.list("apps/v1", "Deployment", namespace)).map((deployment) => {
            const spec = deployment.spec as { template: { spec: { containers: { image: string }[] } } };
            return `${deployment.metadata.name} ${spec.template.spec.containers[0]?.image}`;
        });
    const before = await images();
    const refusal =
        "mattermost:mattermostImage: 11.6.1 to 11.4.4 is a downgrade, and Mattermost never migrates a database back";
    fs.writeFileSync(file, deployed.replace(current, older));
    const attempts = [["preview"], ["up", "--yes", "--skip-preview"]].map((command) => {
        const result = ws.pulumi(command, { timeoutMs: 900_000 });
        return { command, failed: result.status !== 0, refused: result.output.includes(refusal) || result.output };
    });
    // Back on the deployed release before anything is asserted, so that a failure leaves the next tests a sound stack.
    fs.writeFileSync(file, deployed);
    expect(attempts).toEqual(attempts.map(({ command }) => ({ command, failed: true, refused: true })));
    expect(await images()).toEqual(before);
    // No change, and no drift for a refresh to report: the record is state, nothing outside it.
    for (const command of [
        ["preview", "--expect-no-changes"],
        ["refresh", "--yes", "--expect-no-changes"],
    ]) {
        const result = ws.pulumi(command);
        expect({ command, status: result.status, output: result.status === 0 ? "" : result.output }).toEqual({
            command,
            status: 0,
            output: "",
        });
    }
});

it("keeps what must not rotate: protected in the state, a replace of the at-rest key refused", () => {
    const rendered = renderStack(stack, path.join(ws.dir, `Pulumi.${stack}.yaml`));
    const lastingInRender = rendered.resources.filter((resource) => resource.protect).map((resource) => resource.name);
    const protectedInState = stateResources(ws, stack).filter((resource) => resource.protect);
    expect(protectedInState.map((resource) => urnName(resource.urn)).sort()).toEqual(lastingInRender.sort());
    expect(lastingInRender).toEqual(expect.arrayContaining(["mattermost-at-rest-encrypt-key"]));
    const atRestKey = protectedInState.find((resource) => urnName(resource.urn) === "mattermost-at-rest-encrypt-key")!;
    // What a rename without an alias or a changed input would lead to: a new key in place of the old.
    const replace = ws.pulumi(["preview", "--replace", atRestKey.urn]);
    expect(replace.status).not.toBe(0);
    expect(replace.output).toMatch(/protect/i);
});

it("destroys every object it made once unprotected, and leaves the namespace it did not make", async () => {
    const refused = ws.pulumi(["destroy", "--yes"], { timeoutMs: 900_000 });
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/protect/i);
    ws.pulumiOk(["state", "unprotect", "--all", "--yes"]);
    ws.pulumiOk(["destroy", "--yes"], { timeoutMs: 900_000 });
    expect(await kube.get("v1", "Namespace", namespace)).toBeDefined();
    for (const kind of ["Deployment", "Service", "ConfigMap", "Secret", "NetworkPolicy"]) {
        const apiVersion = kind === "Deployment" ? "apps/v1" : kind === "NetworkPolicy" ? "networking.k8s.io/v1" : "v1";
        const left = (await kube.list(apiVersion, kind, namespace)).filter(
            (object) =>
                (object.metadata.labels as Record<string, string> | undefined)?.["app.kubernetes.io/managed-by"] ===
                "pulumi",
        );
        expect({ kind, left: left.map((object) => object.metadata.name) }).toEqual({ kind, left: [] });
    }
    expect(stateResources(ws, stack).filter((resource) => resource.type !== "pulumi:pulumi:Stack")).toEqual([]);
});
