/**
 * The secrets audit (issue 7): both stacks rendered with a distinctive value for every secret key, then
 * every output searched for those values and for the render's placeholders of generated secrets. They
 * may stand only in Secrets (and the files rendered from them), in secret stack outputs, and in the
 * inputs @pulumi/command keeps secret (the SSH connection); never in ConfigMaps, annotations, command
 * strings, files copied to the push VM or plain outputs.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";
import { configKeys } from "../../config/keys";
import { listFiles, projectDir } from "../helpers/render";

const secretKeys = Object.entries(configKeys)
    .filter(([, declaration]) => "secret" in declaration && declaration.secret)
    .map(([key]) => key);
const valueOf = (key: string) => `audit-${key}-7f3a9c`;
const leak = /audit-[A-Za-z]+-7f3a9c|<secret:/;

interface Audited {
    readonly manifests: {
        kind: string;
        metadata: { name: string; annotations?: unknown };
        stringData?: Record<string, string>;
        data?: Record<string, string>;
    }[];
    readonly resources: { type: string; name: string; inputs: Record<string, unknown> }[];
    readonly outputs: Record<string, unknown>;
    readonly files: Map<string, string>;
}

const audited: Record<string, Audited> = {};

beforeAll(() => {
    const valuesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "audit-")), "values.json");
    // A map of secrets gets its distinctive value under a name it takes: the SMTP password.
    const given = (key: string) =>
        configKeys[key as keyof typeof configKeys].type === "map"
            ? JSON.stringify({ "EmailSettings.SMTPPassword": valueOf(key) })
            : valueOf(key);
    // The prod stack licensed, so that the license is audited too; Team Edition (test) takes none.
    const licensedProd = path.join(path.dirname(valuesFile), "Pulumi.prod.yaml");
    const prod = yaml.parse(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    prod.config["mattermost:mattermostLicensed"] = true;
    fs.writeFileSync(licensedProd, yaml.stringify(prod));
    const stackFiles: Record<string, string[]> = { test: [], prod: [licensedProd] };
    for (const stack of ["test", "prod"]) {
        const keys = secretKeys.filter((key) => stack === "prod" || key !== "mattermostLicense");
        fs.writeFileSync(valuesFile, JSON.stringify(Object.fromEntries(keys.map((key) => [key, given(key)]))));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `audit-${stack}-`));
        const run = spawnSync(
            path.join(projectDir, "node_modules", ".bin", "tsx"),
            ["tests/helpers/renderWithSecrets.ts", stack, dir, valuesFile, ...stackFiles[stack]],
            { cwd: projectDir, encoding: "utf8" },
        );
        if (run.status !== 0) {
            throw new Error(`render of ${stack} failed: ${run.stderr}`);
        }
        const read = (file: string) => fs.readFileSync(path.join(dir, file), "utf8");
        audited[stack] = {
            manifests: yaml
                .parseAllDocuments(read("manifests.yaml"))
                .map((document) => document.toJSON() as Audited["manifests"][number]),
            resources: JSON.parse(read("resources.json")) as Audited["resources"],
            outputs: JSON.parse(read("outputs.json")) as Record<string, unknown>,
            files: new Map(listFiles(path.join(dir, "files")).map((file) => [file, read(path.join("files", file))])),
        };
        fs.rmSync(dir, { recursive: true, force: true });
    }
}, 120000);

describe.each(["test", "prod"])("the secrets audit of the %s stack", (stack) => {
    const rendered = () => audited[stack];

    it("finds secrets in Secrets, so the search would find them elsewhere too", () => {
        const secrets = JSON.stringify(rendered().manifests.filter((manifest) => manifest.kind === "Secret"));
        expect(secrets).toMatch(/<secret:random:/);
        if (stack === "prod") {
            for (const key of [
                "databasePassword",
                "keycloakDatabasePassword",
                "adBindPassword",
                "elkPassword",
                "s3SecretAccessKey",
                "mattermostSecretSettings",
                "mattermostLicense",
            ]) {
                expect(secrets).toContain(valueOf(key));
            }
        }
    });

    it("keeps them out of every other object and out of every annotation", () => {
        const leaking = rendered()
            .manifests.filter(
                (manifest) =>
                    (manifest.kind !== "Secret" && leak.test(JSON.stringify(manifest))) ||
                    leak.test(JSON.stringify(manifest.metadata.annotations ?? {})),
            )
            .map((manifest) => `${manifest.kind}/${manifest.metadata.name}`);
        expect(leaking).toEqual([]);
    });

    it("keeps them out of the plain stack outputs", () => {
        const plain = Object.entries(rendered().outputs).filter(
            ([, value]) => !(value !== null && typeof value === "object" && "secret" in value),
        );
        expect(plain.filter(([, value]) => leak.test(JSON.stringify(value))).map(([name]) => name)).toEqual([]);
    });

    it("keeps them out of the push VM's commands and copied files; its stdin and SSH key stay secret inputs", () => {
        const commands = rendered().resources.filter((resource) => resource.type.startsWith("command:"));
        expect(commands.length).toBeGreaterThan(0);
        for (const command of commands) {
            const { connection, stdin, ...rest } = command.inputs;
            expect([command.name, leak.test(JSON.stringify(rest))]).toEqual([command.name, false]);
            expect((connection as { privateKey?: string }).privateKey).toBe(valueOf("pushSshPrivateKey"));
            if (stdin !== undefined) {
                expect(stdin).toBe(`<secret:${command.name}.stdin>`);
            }
        }
        // The generated keys are inputs of the certificates they sign (secret in the state); no configured
        // secret is an input of anything but a Secret or the SSH connection.
        const others = rendered().resources.filter(
            (resource) => !resource.type.startsWith("command:") && !resource.type.startsWith("kubernetes:"),
        );
        expect(
            others
                .filter((resource) => /audit-[A-Za-z]+-7f3a9c/.test(JSON.stringify(resource.inputs)))
                .map((resource) => resource.name),
        ).toEqual([]);
    });

    it("writes them only into the files rendered from Secrets", () => {
        const secretEntries = new Set(
            rendered()
                .manifests.filter((manifest) => manifest.kind === "Secret")
                .flatMap((manifest) => Object.entries({ ...manifest.data, ...manifest.stringData }))
                .flatMap(([key, value]) => [value, `${key}=${value}`]),
        );
        const leaking = [...rendered().files].filter(
            ([, content]) =>
                leak.test(content) &&
                !secretEntries.has(content) &&
                !content
                    .split("\n")
                    .filter((line) => leak.test(line))
                    .every((line) => secretEntries.has(line)),
        );
        expect(leaking.map(([file]) => file)).toEqual([]);
    });
});
