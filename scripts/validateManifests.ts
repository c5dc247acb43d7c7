/**
 * Validates every object of a rendered manifests.yaml against the Kubernetes schema (kubernetes-models)
 * and, for OpenShift Routes, which kubernetes-models does not cover, against the Route API's fields.
 * Prints one line per problem and exits 1 when there is any.
 *
 *   tsx scripts/validateManifests.ts out/test/manifests.yaml
 */
import * as fs from "node:fs";
import * as yaml from "yaml";
import { z } from "zod";

interface Manifest {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string };
}

interface ModelClass {
    new (data: unknown): { validate(): void };
}

// route.openshift.io/v1 Route, as far as the program uses it (openshift/api route/v1/types.go).
const routeSchema = z.strictObject({
    apiVersion: z.literal("route.openshift.io/v1"),
    kind: z.literal("Route"),
    metadata: z.object({ name: z.string().min(1), namespace: z.string().min(1) }).passthrough(),
    spec: z.strictObject({
        host: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/),
        path: z.string().optional(),
        to: z.strictObject({
            kind: z.literal("Service"),
            name: z.string().min(1),
            weight: z.number().int().min(0).max(256).optional(),
        }),
        port: z.strictObject({ targetPort: z.union([z.string().min(1), z.number().int()]) }).optional(),
        tls: z
            .strictObject({
                termination: z.enum(["edge", "passthrough", "reencrypt"]),
                insecureEdgeTerminationPolicy: z.enum(["Allow", "Redirect", "None", ""]).optional(),
                certificate: z.string().optional(),
                key: z.string().optional(),
                caCertificate: z.string().optional(),
                // A Secret of the Route's namespace (OpenShift 4.14 on), instead of certificate and key.
                externalCertificate: z.strictObject({ name: z.string().min(1) }).optional(),
            })
            .optional(),
        wildcardPolicy: z.enum(["None", "Subdomain"]).optional(),
    }),
});

export async function validateManifest(manifest: Manifest): Promise<string[]> {
    const where = `${manifest.kind ?? "?"}/${manifest.metadata?.name ?? "?"}`;
    if (manifest.apiVersion === "route.openshift.io/v1") {
        const parsed = routeSchema.safeParse(manifest);
        return parsed.success
            ? []
            : parsed.error.issues.map((issue) => `${where}: ${issue.path.join(".")}: ${issue.message}`);
    }
    if (!manifest.apiVersion || !manifest.kind) {
        return [`${where}: has no apiVersion or kind`];
    }
    const module = `kubernetes-models/${manifest.apiVersion}/${manifest.kind}`;
    let Model: ModelClass;
    try {
        Model = ((await import(module)) as Record<string, ModelClass>)[manifest.kind];
    } catch {
        return [`${where}: ${manifest.apiVersion} ${manifest.kind} is not a Kubernetes API kind`];
    }
    try {
        new Model(manifest).validate();
        return [];
    } catch (error) {
        return [`${where}: ${error instanceof Error ? error.message : String(error)}`];
    }
}

async function main(): Promise<void> {
    const files = process.argv.slice(2);
    const problems: string[] = [];
    let count = 0;
    for (const file of files) {
        for (const document of yaml.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
            count += 1;
            problems.push(
                ...(await validateManifest(document.toJSON() as Manifest)).map((problem) => `${file}: ${problem}`),
            );
        }
    }
    for (const problem of problems) {
        console.log(problem);
    }
    console.log(`${count} objects checked, ${problems.length} problems`);
    process.exit(problems.length > 0 ? 1 : 0);
}

if (require.main === module) {
    void main();
}
