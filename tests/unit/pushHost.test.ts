import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PushProxyHost } from "../../components/pushProxyHost";
import {
    renderPushHostCommands,
    renderRemoveScript,
    renderSecretBundle,
    renderStagedFiles,
    tarballFileProblem,
    type PushHostSettingsForPlan,
} from "../../config/pushHost";
import type { PushHostSettings } from "../../config/validatePush";
import { projectDir } from "../helpers/render";
import { ofType, recordResources, settled, valueOf, type Registered } from "../helpers/mocks";

const settings: PushHostSettings = {
    host: "push.example.com",
    hostIsAddress: false,
    ssh: { address: "10.1.2.3", port: 2222, user: "deploy", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBN" },
    firewall: { allowedCidrs: ["10.60.0.0/24"], deployerCidrs: ["10.10.5.0/24"], sshPort: 2222 },
    tarball: { sha256: "b".repeat(64), url: "https://example.com/mattermost-push-proxy-linux-amd64.tar.gz" },
    proxy: {
        apple: { type: "apple_rn", topic: "com.example.chat", development: false },
        android: { type: "android_rn" },
        throttlePerSec: 300,
        sendTimeoutSec: 30,
        retryTimeoutSec: 8,
    },
};

const shellcheck = (script: string) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sh-")), "script.sh");
    fs.writeFileSync(file, script.startsWith("#!") ? script : `#!/usr/bin/env bash\n${script}`);
    return spawnSync("shellcheck", [file], { encoding: "utf8" });
};

describe("the push VM's provisioning text", () => {
    const variants: [string, PushHostSettingsForPlan][] = [
        ["download, certificate auth, Android", settings],
        [
            "upload, token auth, no Android",
            {
                ...settings,
                tarball: { sha256: "c".repeat(64), file: "proxy.tar.gz" },
                proxy: {
                    ...settings.proxy,
                    apple: { ...settings.proxy.apple!, token: { keyId: "K", teamId: "T" } },
                    android: undefined,
                },
            },
        ],
    ];

    it.each(variants)("renders a provision.sh shellcheck passes (%s)", (_name, variant) => {
        const script = renderStagedFiles(variant, "CERT").find((file) => file.name === "provision.sh")!.content;
        expect(shellcheck(script).stdout).toBe("");
    });

    it("renders remove and the test VM's stand-ins so that shellcheck passes", () => {
        expect(shellcheck(renderRemoveScript()).stdout).toBe("");
        for (const fixture of ["systemctl", "journalctl", "host.sh"]) {
            const check = spawnSync("shellcheck", [path.join(projectDir, "tests", "fixtures", "push-host", fixture)], {
                encoding: "utf8",
            });
            expect([fixture, check.stdout]).toEqual([fixture, ""]);
        }
    });

    it("renders command strings shellcheck passes as the sh they run in", () => {
        const commands = renderPushHostCommands(renderStagedFiles(settings, "CERT"));
        for (const [step, text] of Object.entries(commands)) {
            expect([step, shellcheck(`#!/bin/sh\n${text}\n`).stdout]).toEqual([step, ""]);
        }
    });

    it("checks every staged file against its hash, so a change to any one changes provision.sh", () => {
        const files = renderStagedFiles(settings, "CERT");
        const script = files.find((file) => file.name === "provision.sh")!.content;
        for (const file of files.filter((other) => other.name !== "provision.sh")) {
            const hash = createHash("sha256").update(file.content).digest("hex");
            expect(script).toContain(`${hash}  ${file.name}`);
        }
        const moved = renderStagedFiles(
            { ...settings, firewall: { ...settings.firewall, allowedCidrs: ["10.61.0.0/24"] } },
            "CERT",
        );
        expect(renderPushHostCommands(moved).provision).not.toBe(renderPushHostCommands(files).provision);
    });

    it("runs the copied provision.sh only when it is the rendered one", () => {
        const files = renderStagedFiles(settings, "CERT");
        const hash = createHash("sha256")
            .update(files.find((file) => file.name === "provision.sh")!.content)
            .digest("hex");
        expect(renderPushHostCommands(files).provision).toBe(
            `echo '${hash}  /var/lib/mattermost-push-proxy-staging/provision.sh' | sha256sum --check --quiet --strict && sudo -n /bin/bash /var/lib/mattermost-push-proxy-staging/provision.sh`,
        );
    });

    it("sends the secrets as one base64 line each, in a fixed order", () => {
        const bundle = renderSecretBundle({
            tlsKey: "KEY",
            nginxSite: "server {}\n",
            appleCertificate: "PEM's 'quoted' $value",
        });
        expect(bundle).toBe(
            `tls-key ${Buffer.from("KEY").toString("base64")}\nnginx-site ${Buffer.from("server {}\n").toString("base64")}\napple-certificate ${Buffer.from("PEM's 'quoted' $value").toString("base64")}\n`,
        );
    });

    it("checks an uploaded tarball against the pinned checksum before anything runs", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tarball-")), "proxy.tar.gz");
        fs.writeFileSync(file, "release");
        const sha256 = createHash("sha256").update("release").digest("hex");
        expect(tarballFileProblem({ sha256, file })).toBeUndefined();
        expect(tarballFileProblem({ sha256: "0".repeat(64), file })).toBe(
            `mattermost:pushProxyTarballFile: ${file} has sha256 ${sha256}, not pushProxyTarballSha256 (${"0".repeat(64)}). Download the release again, or correct the checksum from the release's checksums.txt.`,
        );
        expect(tarballFileProblem({ sha256, file: `${file}.missing` })).toMatch(/does not exist on this machine/);
    });
});

interface Options {
    deleteBeforeReplace: boolean;
    additionalSecretOutputs: string[];
    dependencies: string[];
}

describe("PushProxyHost", () => {
    let registered: Registered[];
    const options = new Map<string, Options>();
    const secret = "ssh-private-key-6a1f";
    let host: PushProxyHost;

    beforeAll(async () => {
        registered = await recordResources();
        // The mocks see inputs only; the resource options are read off the registration requests.
        const runtime = (await import("@pulumi/pulumi/runtime/settings")) as unknown as {
            getMonitor(): { registerResource(request: never, callback: never): unknown };
        };
        const monitor = runtime.getMonitor();
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (request: never, callback: never) => {
            const typed = request as {
                getName(): string;
                getDeletebeforereplace(): boolean;
                getAdditionalsecretoutputsList(): string[];
                getDependenciesList(): string[];
            };
            options.set(typed.getName(), {
                deleteBeforeReplace: typed.getDeletebeforereplace(),
                additionalSecretOutputs: typed.getAdditionalsecretoutputsList(),
                dependencies: typed.getDependenciesList(),
            });
            return register(request, callback);
        };
        host = new PushProxyHost("push-host", {
            settings,
            production: false,
            secrets: {
                sshPrivateKey: pulumi.secret(secret),
                appleCertificate: pulumi.secret("apple-certificate-pem"),
                firebaseServiceAccount: pulumi.secret("{}"),
            },
        });
        await settled();
    });

    const named = (name: string) => registered.find((resource) => resource.name === name)!;
    /** The mocks see a secret input as the SDK's wrapper around its value. */
    const unwrapped = (value: unknown): any => {
        const record = value as Record<string, unknown> | undefined;
        return record?.["4dabf18193072939515e22adb298388d"] ? unwrapped(record.value) : value;
    };

    it("makes a P-256 CA and a server certificate for the push host's name", () => {
        for (const key of ofType(registered, "tls:index/privateKey:PrivateKey")) {
            expect(key.inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        }
        expect(named("push-host-server-request").inputs.dnsNames).toEqual(["push.example.com"]);
        expect(named("push-host-ca").inputs).toMatchObject({
            isCaCertificate: true,
            allowedUses: ["cert_signing", "crl_signing"],
        });
        expect(named("push-host-server-certificate").inputs.allowedUses).toEqual([
            "digital_signature",
            "key_encipherment",
            "server_auth",
        ]);
    });

    it("connects with the pinned host key, waits for SSH first, and copies every staged file after it", () => {
        const prepare = named("push-host-prepare");
        // The SDK marks the whole connection secret, private key and all.
        expect(prepare.inputs.connection["4dabf18193072939515e22adb298388d"]).toBeDefined();
        expect(unwrapped(prepare.inputs.connection)).toEqual({
            host: "10.1.2.3",
            port: 2222,
            user: "deploy",
            privateKey: secret,
            hostKey: settings.ssh.hostKey,
            perDialTimeout: 15,
            dialErrorLimit: -1,
        });
        const copies = ofType(registered, "command:remote:CopyToRemote");
        expect(copies.map((copy) => copy.inputs.remotePath).sort()).toEqual(
            renderStagedFiles(settings, "")
                .map((file) => `/var/lib/mattermost-push-proxy-staging/${file.name}`)
                .sort(),
        );
        for (const copy of copies) {
            expect(options.get(copy.name)?.dependencies).toContainEqual(expect.stringMatching(/::push-host-prepare$/));
        }
    });

    it("provisions with the rendered commands, the secrets on stdin only, and replaces by deleting first", () => {
        const provision = named("push-host-provision");
        const files = renderStagedFiles(settings, "certificate-push-host-server-certificate");
        const commands = renderPushHostCommands(files);
        expect(provision.inputs.create).toBe(commands.provision);
        expect(provision.inputs.delete).toBe(commands.remove);
        expect(provision.inputs.logging).toBe("none");
        const stdin = provision.inputs.stdin as Record<string, unknown>;
        expect(stdin["4dabf18193072939515e22adb298388d"]).toBeDefined();
        expect(unwrapped(stdin)).toContain(`tls-key ${Buffer.from("key-push-host-server-key").toString("base64")}`);
        expect(unwrapped(stdin)).toContain(Buffer.from("apple-certificate-pem").toString("base64"));
        expect(options.get("push-host-provision")).toMatchObject({
            deleteBeforeReplace: true,
            additionalSecretOutputs: expect.arrayContaining(["stdout", "stderr"]),
        });
        expect(options.get("push-host-prepare")?.deleteBeforeReplace).toBe(true);
        expect(provision.inputs.triggers[0]).toBe(
            createHash("sha256")
                .update(files.find((file) => file.name === "provision.sh")!.content)
                .digest("hex"),
        );
        for (const resource of ofType(registered, "command:remote:Command")) {
            for (const step of ["create", "delete"]) {
                expect(resource.inputs[step]).not.toContain(secret);
                expect(resource.inputs[step]).not.toContain("random-push-host-prefix");
            }
        }
    });

    it("exports the push URL with its secret prefix as a secret", async () => {
        expect(await valueOf(host.url)).toBe("https://push.example.com/random-push-host-prefix");
        expect(await pulumi.isSecret(host.url)).toBe(true);
    });
});
