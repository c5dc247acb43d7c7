import { renderBothStacks, type Rendered } from "../helpers/render";

type Manifest = Record<string, any>;

describe("the schema migration Job in the render", () => {
    const stacks = renderBothStacks();
    const job = (rendered: Rendered): Manifest =>
        rendered.manifests.find(
            (m: Manifest) => m.kind === "Job" && String(m.metadata.name).startsWith("mattermost-schema-migration-"),
        )!;
    const deployment = (rendered: Rendered, name: string): Manifest =>
        rendered.manifests.find((m: Manifest) => m.kind === "Deployment" && m.metadata.name === name)!;

    it.each(["test", "prod"] as const)("%s: runs `mattermost db migrate` with the pair's own image", (stack) => {
        const rendered = stacks[stack];
        const [migrate] = job(rendered).spec.template.spec.containers as Manifest[];
        const server = (deployment(rendered, "mattermost-1").spec.template.spec.containers as Manifest[])[0];
        expect(migrate?.command).toEqual(["/mattermost/bin/mattermost", "db", "migrate"]);
        expect(migrate?.image).toBe(server.image);
        expect(job(rendered).spec.template.spec.restartPolicy).toBe("Never");
    });

    it.each(["test", "prod"] as const)("%s: comes before both Deployments of the pair", (stack) => {
        const resources = stacks[stack].resources;
        const migration = resources.find(
            (r) => r.type === "kubernetes:batch/v1:Job" && r.name === "mattermost-schema-migration",
        );
        expect(migration).toBeDefined();
        for (const name of ["mattermost-1", "mattermost-2"]) {
            const member = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === name);
            expect([name, member?.dependencies.some((urn) => urn.endsWith("::mattermost-schema-migration"))]).toEqual([
                name,
                true,
            ]);
        }
    });

    it.each(["test", "prod"] as const)(
        "%s: reads the database and nothing else of the pair's settings and secrets",
        (stack) => {
            const rendered = stacks[stack];
            const [migrate] = job(rendered).spec.template.spec.containers as Manifest[];
            const secretName = migrate?.envFrom[0].secretRef.name as string;
            const secret = rendered.manifests.find(
                (m: Manifest) => m.kind === "Secret" && m.metadata.name === secretName,
            );
            expect(Object.keys(secret?.stringData ?? {}).sort()).toEqual(["MM_CONFIG", "MM_SQLSETTINGS_DATASOURCE"]);
            const names = (migrate?.env as { name: string }[]).map((entry) => entry.name);
            expect(names.filter((name) => !name.startsWith("MM_SQLSETTINGS_") && name !== "SSL_CERT_DIR")).toEqual([]);
        },
    );

    it("records the release in the stack output", () => {
        expect(stacks.test.outputs.mattermostVersion).toBe("10.11.10");
        expect(stacks.prod.outputs.mattermostVersion).toBe("11.6.1");
    });
});
