import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";
import { RenderConfigError, renderStack as renderInProcess } from "../../scripts/offlineRender";
import { validateManifest } from "../../scripts/validateManifests";
import { listFiles, projectDir, renderBothStacks, renderStack, renderVariant, type Rendered } from "../helpers/render";

const stacks: Record<string, Rendered> = renderBothStacks();

function kinds(rendered: Rendered): string[] {
    return rendered.manifests.map(
        (manifest) => `${String(manifest.kind)}/${String((manifest.metadata as { name: string }).name)}`,
    );
}

describe.each(["test", "prod"])("offline render of the %s stack", (stack) => {
    const rendered = () => stacks[stack];

    it("writes the four outputs", () => {
        const files = listFiles(rendered().dir);
        expect(files).toEqual(
            expect.arrayContaining([
                "manifests.yaml",
                "resources.json",
                "outputs.json",
                path.join("files", "nginx", "nginx.conf"),
            ]),
        );
    });

    it("is byte-identical when run again", () => {
        const again = renderStack(stack);
        try {
            const files = listFiles(rendered().dir);
            expect(listFiles(again.dir)).toEqual(files);
            for (const file of files) {
                expect(again.file(file)).toBe(rendered().file(file));
            }
        } finally {
            fs.rmSync(again.dir, { recursive: true, force: true });
        }
    }, 60000);

    it("has no PersistentVolumeClaim and no PVC-backed volume", () => {
        const text = rendered().file("manifests.yaml");
        expect(text).not.toMatch(/PersistentVolumeClaim|persistentVolumeClaim|volumeClaimTemplates/);
    });

    it("keeps every secret placeholder inside a Secret, and nowhere else", () => {
        const leaking = rendered()
            .manifests.filter((manifest) => manifest.kind !== "Secret" && /<secret:/.test(JSON.stringify(manifest)))
            .map((manifest) => kinds({ ...rendered(), manifests: [manifest] })[0]);
        expect(leaking).toEqual([]);
        const secrets = rendered().manifests.filter((manifest) => manifest.kind === "Secret");
        expect(secrets.length).toBeGreaterThan(0);
        expect(JSON.stringify(secrets)).toMatch(/<secret:/);
        // In the outputs, a placeholder may only stand inside a secret output.
        const outputs = JSON.parse(rendered().file("outputs.json")) as Record<string, unknown>;
        const plain = Object.values(outputs).filter(
            (value) => !(value !== null && typeof value === "object" && "secret" in value),
        );
        expect(JSON.stringify(plain)).not.toMatch(/<secret:/);
        expect(outputs.keycloakAdminPassword).toEqual({ secret: "<secret:random:keycloak-admin-password>" });
    });

    it("shows the push VM's steps, its secrets only as placeholders on stdin and in the connection", () => {
        const vmFiles = listFiles(rendered().dir).filter((file) => file.startsWith(path.join("files", "push-host")));
        expect(vmFiles).toEqual(
            expect.arrayContaining([
                path.join("files", "push-host", "staged", "provision.sh"),
                path.join("files", "push-host", "staged", "firewall.nft"),
                path.join("files", "push-host", "commands", "push-host-provision.create.sh"),
                path.join("files", "push-host", "commands", "push-host-provision.delete.sh"),
            ]),
        );
        for (const file of vmFiles) {
            expect([file, rendered().file(file)]).not.toEqual([file, expect.stringMatching(/<secret:/)]);
        }
        const resources = JSON.parse(rendered().file("resources.json")) as {
            type: string;
            name: string;
            inputs: { stdin?: string; connection?: { privateKey?: string } };
        }[];
        const commands = resources.filter((resource) => resource.type.startsWith("command:remote:"));
        expect(commands.length).toBeGreaterThan(5);
        for (const command of commands) {
            expect(command.inputs.connection?.privateKey).toBe("<secret:pushSshPrivateKey>");
        }
        const provision = commands.find((command) => command.name === "push-host-provision");
        expect(provision?.inputs.stdin).toBe("<secret:push-host-provision.stdin>");
    });

    it("passes the Kubernetes schema for every object", () => {
        const run = spawnSync(
            path.join(projectDir, "node_modules", ".bin", "tsx"),
            ["scripts/validateManifests.ts", path.join(rendered().dir, "manifests.yaml")],
            {
                cwd: projectDir,
                encoding: "utf8",
            },
        );
        expect(run.stdout).toBe(`${rendered().manifests.length} objects checked, 0 problems\n`);
        expect(run.status).toBe(0);
    });

    it("gives nginx exactly the rendered nginx.conf", () => {
        const configMap = rendered().manifests.find(
            (manifest) =>
                manifest.kind === "ConfigMap" &&
                (manifest.data as Record<string, string> | undefined)?.["nginx.conf"] !== undefined,
        ) as { data: Record<string, string>; metadata: { name: string } };
        expect(configMap.data["nginx.conf"]).toBe(rendered().file(path.join("files", "nginx", "nginx.conf")));
        const nginx = rendered().manifests.find(
            (manifest) => manifest.kind === "Deployment" && (manifest.metadata as { name: string }).name === "nginx",
        );
        expect(JSON.stringify(nginx)).toContain(`"configMap":{"name":"${configMap.metadata.name}"}`);
    });
});

describe("stack shapes", () => {
    it("exposes the test stack through an Ingress and prod through an OpenShift Route", () => {
        expect(kinds(stacks.test)).toContain("Ingress/mattermost");
        expect(kinds(stacks.test)).not.toContain("Route/mattermost");
        expect(kinds(stacks.prod)).toContain("Route/mattermost");
        expect(kinds(stacks.prod)).not.toContain("Ingress/mattermost");
    });

    it("runs the in-cluster S3 store only in the test stack, with its CA and the push front's in the trust bundle", () => {
        const test = stacks.test;
        expect(kinds(test)).toContain("Deployment/mattermost-s3");
        expect(kinds(stacks.prod)).not.toContain("Deployment/mattermost-s3");
        expect(test.file(path.join("files", "trust-bundle", "ca-bundle.pem"))).toBe(
            "<certificate:mattermost-s3-ca>\n<certificate:push-host-ca>\n",
        );
        expect(test.file(path.join("files", "mattermost", "mattermost-settings.env"))).toContain(
            "MM_FILESETTINGS_AMAZONS3ENDPOINT=mattermost-s3.mattermost-test.svc.cluster.local:8333\nMM_FILESETTINGS_AMAZONS3PATHPREFIX=\nMM_FILESETTINGS_AMAZONS3REGION=\nMM_FILESETTINGS_AMAZONS3SIGNV2=false\nMM_FILESETTINGS_AMAZONS3SSL=true\n",
        );
    });

    it("trusts the company CA and the push front's CA in prod, and keeps the S3 keys out of plain settings", () => {
        const prod = stacks.prod;
        const bundle = prod.file(path.join("files", "trust-bundle", "ca-bundle.pem"));
        const company = (
            yaml.parse(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")) as {
                config: Record<string, string>;
            }
        ).config["mattermost:companyCaCertificates"];
        expect(bundle).toBe(`${company}<certificate:push-host-ca>\n`);
        expect(prod.file(path.join("files", "mattermost", "mattermost-settings.env"))).not.toMatch(/ACCESSKEY/);
        expect(prod.file(path.join("files", "mattermost", "mattermost-settings.env"))).toContain(
            "MM_FILESETTINGS_AMAZONS3ENDPOINT=s3.example.com\n",
        );
    });

    it("protects in prod, and only there, what must never rotate by accident", () => {
        const protectedIn = (stack: "test" | "prod") =>
            stacks[stack].resources
                .filter((resource) => resource.protect)
                .map((resource) => resource.name)
                .sort();
        expect(protectedIn("prod")).toEqual([
            "keycloak-client-secret",
            "keycloak-deprovision-client-secret",
            "mattermost-at-rest-encrypt-key",
            "mattermost-public-link-salt",
            "push-host-ca-key",
            "push-host-prefix",
        ]);
        expect(protectedIn("test")).toEqual([]);
    });

    it("runs an in-cluster PostgreSQL only in the test stack", () => {
        expect(kinds(stacks.test)).toContain("Deployment/mattermost-postgres");
        expect(kinds(stacks.prod)).not.toContain("Deployment/mattermost-postgres");
    });

    it("lists prod's unset secret instead of failing, and puts its placeholder where the password goes", () => {
        const prod = stacks.prod;
        expect(prod.log).toContain(
            "Secrets not set in Pulumi.prod.yaml (placeholders used; pulumi up will refuse): pushSshPrivateKey, pushAppleAuthKey, pushFirebaseServiceAccount, elkPassword, keycloakDatabasePassword, adBindPassword, databasePassword",
        );
        expect(prod.log).toContain(
            "Values not set in Pulumi.prod.yaml (rendered empty; pulumi up will refuse): pushProxyTarballSha256",
        );
        expect(prod.file(path.join("files", "mattermost", "mattermost-secrets.env"))).toContain(
            "MM_SQLSETTINGS_DATASOURCE=postgres://mattermost:<secret:databasePassword>@postgres.db.example.com:5432/mattermost?connect_timeout=10&sslmode=verify-full\n",
        );
    });

    it("prints the configuration's warnings: end of support in test, Entry limits in prod", () => {
        expect(stacks.test.log).toContain("past end of support since 2026-08-15");
        expect(stacks.prod.log).toContain("runs as Mattermost Entry");
    });

    it("exports the stack outputs, the passwords as secrets", () => {
        expect(stacks.prod.outputs).toEqual({
            adminTokenCommands: expect.stringMatching(
                /^kubectl -n mattermost exec deploy\/mattermost-1 -c mattermost -- mmctl --local user create /,
            ),
            keycloakAdminPassword: { secret: "<secret:random:keycloak-admin-password>" },
            keycloakIssuer: "https://chat.example.com/auth/realms/mattermost",
            keycloakDiscoveryUrl: "https://chat.example.com/auth/realms/mattermost/.well-known/openid-configuration",
            mattermostEdition: "enterprise",
            mattermostVersion: "11.6.1",
            namespaceName: "mattermost",
            pushCaCertificate: "<certificate:push-host-ca>",
            pushHost: "push.example.com",
            pushUrl: { secret: "https://push.example.com/<secret:random:push-host-prefix>" },
            services: {
                keycloak: "keycloak",
                mattermostBackup: "mattermost-2",
                mattermostPrimary: "mattermost-1",
                nginx: "nginx",
            },
            trustBundlePem: expect.stringContaining("<certificate:push-host-ca>"),
            url: "https://chat.example.com",
        });
        expect(stacks.test.outputs.testUserPassword).toEqual({
            secret: "<secret:random:keycloak-test-user-password>",
        });
    });
});

describe("rollouts", () => {
    function podTemplate(rendered: Rendered, name: string): string {
        const found = rendered.manifests.find(
            (manifest) => manifest.kind === "Deployment" && (manifest.metadata as { name: string }).name === name,
        ) as { spec: { template: unknown } };
        return JSON.stringify(found.spec.template);
    }

    it.each<[string, (config: Record<string, unknown>) => void]>([
        [
            "a setting (ConfigMap)",
            (config) => {
                config["mattermost:mattermostSettings"] = ['TeamSettings.SiteName="Renamed"'];
            },
        ],
        [
            "the database (Secret)",
            (config) => {
                config["mattermost:databaseName"] = "chat";
            },
        ],
        [
            "a secret setting (Secret)",
            (config) => {
                config["mattermost:mattermostSecretSettings"] = { "EmailSettings.SMTPPassword": { secure: "v1:x" } };
            },
        ],
        [
            "a trusted CA (trust bundle)",
            (config) => {
                const prod = yaml.parse(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")) as {
                    config: Record<string, unknown>;
                };
                config["mattermost:companyCaCertificates"] = prod.config["mattermost:companyCaCertificates"];
            },
        ],
    ])(
        "changes both pod templates when %s changes",
        (_what, edit) => {
            const base = stacks.test;
            const changed = renderVariant("test", edit);
            try {
                for (const name of ["mattermost-1", "mattermost-2"]) {
                    expect(podTemplate(changed, name)).not.toBe(podTemplate(base, name));
                }
                expect(podTemplate(changed, "nginx")).toBe(podTemplate(base, "nginx"));
            } finally {
                fs.rmSync(changed.dir, { recursive: true, force: true });
            }
        },
        60000,
    );

    it("updates the backup, and waits for it, before the primary", () => {
        const deployments = stacks.test.resources.filter(
            (resource) => resource.type === "kubernetes:apps/v1:Deployment",
        );
        const urn = (name: string) =>
            `urn:pulumi:test::mattermost::mattermost:k8s:MattermostPair$kubernetes:apps/v1:Deployment::${name}`;
        const primary = deployments.find((resource) => resource.name === "mattermost-1");
        const backup = deployments.find((resource) => resource.name === "mattermost-2");
        expect(primary?.dependencies).toContain(urn("mattermost-2"));
        expect(backup?.dependencies).not.toContain(urn("mattermost-1"));
    });
});

describe("the image a stack bakes plugins into", () => {
    it("is rendered for review beside the manifests, and not at all without plugins", () => {
        const plugin = {
            id: "jitsi",
            version: "2.1.0",
            url: "https://plugins.releases.mattermost.com/release/mattermost-plugin-jitsi-v2.1.0-linux-amd64.tar.gz",
            sha256: "a".repeat(64),
            signatureSha256: "b".repeat(64),
        };
        const rendered = renderVariant("test", (config) => {
            config["mattermost:mattermostPlugins"] = [plugin];
        });
        try {
            const dockerfile = rendered.file("files/mattermost-image/Dockerfile");
            expect(dockerfile).toContain("\nFROM mattermost/mattermost-team-edition:10.11.10\n");
            expect(dockerfile).toContain("\nCOPY prepackaged_plugins/ /mattermost/prepackaged_plugins/\n");
            const inputs = JSON.parse(rendered.file("files/mattermost-image/inputs.json")) as {
                tag: string;
                plugins: { signatureUrl: string; sha256: string }[];
            };
            expect(inputs.tag).toMatch(/^10\.11\.10-[0-9a-f]{12}$/);
            expect(inputs.plugins).toEqual([{ ...plugin, signatureUrl: `${plugin.url}.sig` }]);
            expect(rendered.file("files/mattermost/mattermost-settings.env")).toContain('"jitsi":{"Enable":true}');
            // Without the built image, pulumi up would refuse; the render says so and goes on.
            expect(rendered.log).toMatch(/Values not set .*customMattermostImage/);
        } finally {
            fs.rmSync(rendered.dir, { recursive: true, force: true });
        }
        for (const stack of ["test", "prod"]) {
            expect(listFiles(stacks[stack].dir).filter((file) => file.includes("mattermost-image"))).toEqual([]);
        }
    }, 60000);
});

describe("the edge's annotations and certificate", () => {
    const edgeOf = (rendered: Rendered, kind: string) =>
        rendered.manifests.find((m) => m.kind === kind) as {
            metadata: { annotations: Record<string, string> };
            spec: Record<string, any>;
        };

    it("puts the stack's annotations on the Ingress beside the program's", () => {
        const changed = renderVariant("test", (config) => {
            config["mattermost:edgeAnnotations"] = { "cert-manager.io/cluster-issuer": "letsencrypt" };
        });
        try {
            expect(edgeOf(changed, "Ingress").metadata.annotations).toEqual({
                ...edgeOf(stacks.test, "Ingress").metadata.annotations,
                "cert-manager.io/cluster-issuer": "letsencrypt",
            });
        } finally {
            fs.rmSync(changed.dir, { recursive: true, force: true });
        }
    }, 60000);

    it("gives the Route its own certificate from a Secret the router alone may read, valid for the Route API", async () => {
        const changed = renderVariant("prod", (config) => {
            config["mattermost:ingressTlsSecretName"] = "chat-tls";
            config["mattermost:edgeAnnotations"] = { "cert-manager.io/cluster-issuer": "company-ca" };
        });
        try {
            const route = edgeOf(changed, "Route");
            expect(route.spec.tls).toEqual({
                termination: "edge",
                insecureEdgeTerminationPolicy: "Redirect",
                externalCertificate: { name: "chat-tls" },
            });
            expect(route.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe("company-ca");
            const role = changed.manifests.find((m) => m.kind === "Role") as { rules: unknown };
            expect(role.rules).toEqual([
                {
                    apiGroups: [""],
                    resources: ["secrets"],
                    resourceNames: ["chat-tls"],
                    verbs: ["get", "list", "watch"],
                },
            ]);
            const binding = changed.manifests.find(
                (m) => m.kind === "RoleBinding" && (m.roleRef as { kind: string }).kind === "Role",
            ) as {
                subjects: unknown;
            };
            expect(binding.subjects).toEqual([
                { kind: "ServiceAccount", name: "router", namespace: "openshift-ingress" },
            ]);
            expect(await validateManifest(route as never)).toEqual([]);
            // Without the key, the router's default certificate, and no access to any Secret.
            expect(edgeOf(stacks.prod, "Route").spec.tls).not.toHaveProperty("externalCertificate");
            expect(stacks.prod.manifests.filter((m) => m.kind === "Role")).toEqual([]);
        } finally {
            fs.rmSync(changed.dir, { recursive: true, force: true });
        }
    }, 60000);
});

describe("secret Mattermost settings", () => {
    it("reach the pair from its Secret, by the name Mattermost reads, and no ConfigMap", () => {
        const changed = renderVariant("test", (config) => {
            config["mattermost:mattermostSettings"] = ["EmailSettings.EnableSMTPAuth=true"];
            config["mattermost:mattermostSecretSettings"] = {
                "EmailSettings.SMTPPassword": { secure: "v1:x" },
                "ElasticsearchSettings.Password": { secure: "v1:y" },
            };
        });
        try {
            const pairSecret = changed.manifests.find(
                (m) =>
                    m.kind === "Secret" &&
                    String((m.metadata as { name: string }).name).startsWith("mattermost-secrets"),
            ) as { stringData: Record<string, string> };
            expect(pairSecret.stringData).toMatchObject({
                MM_EMAILSETTINGS_SMTPPASSWORD: "<secret:mattermostSecretSettings.EmailSettings.SMTPPassword>",
                MM_ELASTICSEARCHSETTINGS_PASSWORD: "<secret:mattermostSecretSettings.ElasticsearchSettings.Password>",
            });
            const configMaps = JSON.stringify(changed.manifests.filter((m) => m.kind === "ConfigMap"));
            expect(configMaps).toContain("MM_EMAILSETTINGS_ENABLESMTPAUTH");
            expect(configMaps).not.toContain("SMTPPASSWORD");
            expect(configMaps).not.toContain("mattermostSecretSettings");
        } finally {
            fs.rmSync(changed.dir, { recursive: true, force: true });
        }
    }, 60000);

    it("refuse a value written in plain text beside encrypted ones", () => {
        expect(() =>
            renderVariant("test", (config) => {
                config["mattermost:mattermostSecretSettings"] = {
                    "EmailSettings.SMTPPassword": { secure: "v1:x" },
                    "ElasticsearchSettings.Password": "hunter2",
                };
            }),
        ).toThrow(
            `mattermost:mattermostSecretSettings: "ElasticsearchSettings.Password" is stored in plain text beside encrypted values. Set it encrypted: pulumi config set --secret --path 'mattermostSecretSettings["ElasticsearchSettings.Password"]' <value>`,
        );
    }, 60000);
});

describe("render refuses bad configuration", () => {
    /** Renders a throw-away stack file in-process; returns the render and where it would have written. */
    function renderStackFile(text: string): { render: Promise<unknown>; outDir: string } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-broken-"));
        const stackFile = path.join(dir, "Pulumi.broken.yaml");
        fs.writeFileSync(stackFile, text);
        const outDir = path.join(dir, "out");
        return { render: renderInProcess({ projectDir, stack: "broken", stackFile, outDir }), outDir };
    }

    it("fails with the same messages as pulumi up, before running the program", async () => {
        const { render, outDir } = renderStackFile(
            "config:\n  mattermost:hostname: chat.example.com\n  mattermost:platform: gke\n  mattermost:acceptTagOnlyImages: true\n",
        );
        await expect(render).rejects.toThrow(
            new RenderConfigError(
                'The stack configuration has 8 problem(s):\n  - mattermost:platform: "gke" is not allowed. Use "kubernetes" or "openshift".\n' +
                    "  - mattermost:s3Endpoint: is required with s3Mode external. Set it to the S3 service's host[:port]: pulumi config set s3Endpoint <host>.\n" +
                    "  - mattermost:keycloakDatabaseHost: is required with keycloakDatabaseMode external (databaseHost, its fallback, is empty too). Set it: pulumi config set keycloakDatabaseHost <host>.\n" +
                    "  - mattermost:adUrls: is empty in a production stack, so nobody could log in. Set the domain controllers: pulumi config set --path 'adUrls[0]' ldaps://dc1.corp.example.com:636.\n" +
                    "  - mattermost:databaseHost: is required with databaseMode external. Set it to the PostgreSQL host name: pulumi config set databaseHost <host>.\n" +
                    "  - mattermost:publicEndpointCidrs: is empty, but with networkPolicies true (deny by default) Mattermost reaches Keycloak at the chat's public URL only at the addresses listed here. Set them: pulumi config set --path 'publicEndpointCidrs[0]' 10.0.0.10/32, or set networkPolicies false.\n" +
                    "  - mattermost:databaseCidrs: is empty, but with networkPolicies true (deny by default) Mattermost and Keycloak reach the external PostgreSQL only at the addresses listed here. Set them: pulumi config set --path 'databaseCidrs[0]' 10.50.0.0/24, or set networkPolicies false.\n" +
                    "  - mattermost:s3Cidrs: is empty, but with networkPolicies true (deny by default) Mattermost reaches the external S3 service only at the addresses listed here. Set them: pulumi config set --path 's3Cidrs[0]' 10.51.0.0/24, or set networkPolicies false.",
            ),
        );
        expect(fs.existsSync(outDir)).toBe(false);
    });

    it("refuses a secret written in plain text into the stack file", async () => {
        const { render } = renderStackFile(
            "config:\n  mattermost:hostname: chat.example.com\n  mattermost:databaseHost: db.example.com\n  mattermost:s3Endpoint: s3.example.com\n  mattermost:adUrls: [ldaps://dc.example.com]\n  mattermost:adBindDn: CN=kc\n  mattermost:adUsersDn: OU=Staff\n  mattermost:databasePassword: hunter2\n",
        );
        await expect(render).rejects.toThrow(
            "mattermost:databasePassword: is stored in plain text in the stack file. Remove it and set it with: pulumi config set --secret databasePassword.",
        );
    });
});

describe("the render's command line", () => {
    const tsx = path.join(projectDir, "node_modules", ".bin", "tsx");
    const render = (...args: string[]) =>
        spawnSync(tsx, ["scripts/render.ts", ...args], { cwd: projectDir, encoding: "utf8" });

    it("answers a mistyped flag with its usage, not a stack trace", () => {
        const result = render("--stak", "test");
        expect(result.status).toBe(1);
        // Node's own words for the flag, then the usage; no stack frame.
        expect(result.stderr.trim()).toMatch(
            /^Unknown option '--stak'\..*Usage: npm run render -- --stack <name> \[--out <dir>\] \[--stack-file <file>\]$/,
        );
        expect(result.stderr).not.toMatch(/^\s+at /m);
    });

    it("names the stack file it read in what it says is missing", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-stack-file-"));
        const stackFile = path.join(dir, "proposed.yaml");
        fs.copyFileSync(path.join(projectDir, "Pulumi.test.yaml"), stackFile);
        try {
            const result = render("--stack", "test", "--stack-file", stackFile, "--out", path.join(dir, "out"));
            expect(result.status).toBe(0);
            expect(result.stderr).toContain(`Secrets not set in ${stackFile} (placeholders used`);
            expect(result.stderr).not.toContain("Pulumi.test.yaml");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }, 60000);
});

describe("the render's output directory", () => {
    it("refuses a stack name that is a path, before anything is written or removed", () => {
        const outside = fs.mkdtempSync(path.join(os.tmpdir(), "render-outside-"));
        fs.writeFileSync(path.join(outside, "keep.txt"), "a file of someone else's");
        const tsx = path.join(projectDir, "node_modules", ".bin", "tsx");
        const result = spawnSync(tsx, ["scripts/render.ts", "--stack", "../..", "--out", outside], {
            cwd: projectDir,
            encoding: "utf8",
        });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(
            "--stack ../..: a stack name is letters, digits, '-', '_' and '.', e.g. test or prod.",
        );
        expect(fs.readFileSync(path.join(outside, "keep.txt"), "utf8")).toBe("a file of someone else's");
    });

    it("never removes a directory that holds anything but an earlier render", async () => {
        const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "render-foreign-"));
        fs.writeFileSync(path.join(outDir, "notes.md"), "mine");
        await expect(renderInProcess({ projectDir, stack: "test", outDir })).rejects.toThrow(
            new RenderConfigError(
                `--out ${outDir} holds notes.md, which no render wrote, and a render replaces its directory: name a new or empty directory, or an earlier render's.`,
            ),
        );
        expect(fs.readdirSync(outDir)).toEqual(["notes.md"]);
    });

    it("writes into a directory it was given and keeps that directory, not a new one in its place", async () => {
        const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "render-given-"));
        fs.chmodSync(outDir, 0o750);
        const before = fs.statSync(outDir);
        await renderInProcess({ projectDir, stack: "test", outDir });
        await renderInProcess({ projectDir, stack: "test", outDir });
        const after = fs.statSync(outDir);
        expect([after.ino, after.mode & 0o777]).toEqual([before.ino, 0o750]);
        expect(fs.existsSync(path.join(outDir, "manifests.yaml"))).toBe(true);
    });

    it("replaces an earlier render in place", async () => {
        const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "render-again-"));
        await renderInProcess({ projectDir, stack: "test", outDir });
        fs.writeFileSync(path.join(outDir, "files", "stale.txt"), "from an older render");
        await renderInProcess({ projectDir, stack: "test", outDir });
        expect(fs.existsSync(path.join(outDir, "files", "stale.txt"))).toBe(false);
        expect(fs.existsSync(path.join(outDir, "manifests.yaml"))).toBe(true);
    });
});
