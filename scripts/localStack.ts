/**
 * A stack of this program made ready for the local cluster (npm run cluster): what the README's local
 * deployment does for the test stack, and for the prod stack its company services given test values
 * (they need not answer: no container runs), its secrets set with `--secret`, and its namespace made
 * beforehand as an OpenShift project is. Used by the pull-request preview against the local cluster and
 * by the engine tests.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { kubeRequest, type ClusterInfo } from "./cluster";
import { podSecurityLabels } from "../components/meta";

/** Test values of the secrets the prod stack needs; nothing ever connects with them. */
export const prodTestSecrets: Readonly<Record<string, string>> = {
    databasePassword: "local-test-database-password",
    keycloakDatabasePassword: "local-test-keycloak-database-password",
    adBindPassword: "local-test-ad-bind-password",
    s3AccessKeyId: "local-test-access-key",
    s3SecretAccessKey: "local-test-secret-key",
    elkPassword: "local-test-elk-password",
};

/** Runs `pulumi <args>` in the stack's project copy, with `input` on stdin; throws unless it exits 0. */
export type PulumiRunner = (args: readonly string[], input?: string) => void;

/** The namespace of a stack with `createNamespace: false`, made as the cluster team makes a project. */
export async function ensureNamespace(cluster: ClusterInfo, name: string): Promise<void> {
    const created = await kubeRequest(cluster, "POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: podSecurityLabels },
    });
    if (created.status !== 201 && created.status !== 409) {
        throw new Error(`creating namespace ${name}: ${created.status} ${created.body}`);
    }
}

/** The namespace a stack file names, when the stack does not create it itself. */
function namespaceMadeBeforehand(stackFile: string): string | undefined {
    const config = (parse(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
    // `pulumi config set` writes every value back as a string.
    return String(config["mattermost:createNamespace"]) === "false"
        ? String(config["mattermost:namespace"])
        : undefined;
}

/** @param dir the stack's project copy, holding `Pulumi.<stack>.yaml` */
export async function prepareLocalStack(
    stack: string,
    dir: string,
    cluster: ClusterInfo,
    pulumi: PulumiRunner,
): Promise<void> {
    pulumi(["stack", "select", "--create", stack]);
    pulumi(["config", "set", "kubeContext", cluster.context]);
    // No push VM here: the stack without push notifications.
    pulumi(["config", "set", "pushHost", ""]);
    const namespace = namespaceMadeBeforehand(path.join(dir, `Pulumi.${stack}.yaml`));
    if (namespace) {
        await ensureNamespace(cluster, namespace);
    }
    if (stack === "prod") {
        for (const [key, value] of Object.entries(prodTestSecrets)) {
            pulumi(["config", "set", "--secret", key], value);
        }
    }
}
