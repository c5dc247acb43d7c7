/**
 * The CronJob passes the per-run fraction, the shrink limit and the one-off override to the job only when
 * they are set, so the job's own defaults (scripts/deprovision.ts) are the only ones.
 */
import { Deprovisioning, type DeprovisioningArgs } from "../../components/deprovisioning";
import { ofType, recordResources, settled, type Registered } from "../helpers/mocks";

let registered: Registered[];

beforeAll(async () => {
    registered = await recordResources();
});

const args: DeprovisioningArgs = {
    namespace: "chat",
    schedule: "*/5 * * * *",
    image: "node:22",
    platform: "kubernetes",
    keycloakUrl: "http://keycloak:8080/auth",
    clientSecret: "kc-secret",
    mattermostUrl: "http://nginx:8080",
    mattermostToken: "mm-token",
    authService: "gitlab",
    allowList: [],
    dryRun: false,
    maxPerRun: 20,
};

async function environmentOf(name: string, extra: Partial<DeprovisioningArgs>): Promise<Record<string, string>> {
    new Deprovisioning(name, { ...args, ...extra });
    await settled();
    const [cronJob] = ofType(registered, "kubernetes:batch/v1:CronJob").filter((resource) => resource.name === name);
    const env = cronJob.inputs.spec.jobTemplate.spec.template.spec.containers[0].env as {
        name: string;
        value: string;
    }[];
    return Object.fromEntries(env.map((variable) => [variable.name, variable.value]));
}

describe("the deprovisioning CronJob", () => {
    it("leaves the fraction, the shrink limit and the override to the job's defaults when unset", async () => {
        const env = await environmentOf("deprovision-defaults", {});
        expect(env.MAX_PER_RUN).toBe("20");
        expect(env).not.toHaveProperty("MAX_FRACTION_PER_RUN");
        expect(env).not.toHaveProperty("MAX_DIRECTORY_SHRINK");
        expect(env).not.toHaveProperty("ACCEPT_DIRECTORY_SIZE");
    });

    it("passes them when set", async () => {
        const env = await environmentOf("deprovision-set", {
            maxFractionPerRun: 0.1,
            maxDirectoryShrink: 0.2,
            acceptDirectorySize: 850,
        });
        expect(env).toMatchObject({
            MAX_FRACTION_PER_RUN: "0.1",
            MAX_DIRECTORY_SHRINK: "0.2",
            ACCEPT_DIRECTORY_SIZE: "850",
        });
    });
});
