/**
 * The push VM, provisioned for real: the files and commands config/pushHost.ts renders (the very text
 * the PushProxyHost component hands @pulumi/command) run over real SSH with a key against a VM in its
 * own network namespace with Debian's OpenSSH, sudo, nginx and nftables. A Go stand-in for
 * mattermost-push-proxy is installed from an uploaded, checksummed release tarball. systemd cannot run
 * here, so a stand-in systemctl starts the units (tests/fixtures/push-host/systemctl).
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    renderPushHostCommands,
    renderPushHostSite,
    renderSecretBundle,
    renderStagedFiles,
    stagedTarballName,
    stagingDirectory,
    type PushHostSecrets,
    type PushHostSettingsForPlan,
    type StagedFile,
} from "../../config/pushHost";
import { pushPaths } from "../../config/pushProxy";
import { makeCertificateAuthority, makeServerCertificate, type Issued } from "../helpers/certificates";
import { buildGoProbe } from "../helpers/goProbes";
import { makeRuntimeDir } from "../helpers/nginxHarness";
import { clientAddresses, hostAddress, PushTestHost, run, type Client, type Finished } from "../helpers/pushTestHost";

jest.setTimeout(180000);

const prefix = "Zq3FJ8sWk2LmN7pR4tVx9yBc6dHe1gKa";
const appleKey = "-----BEGIN PRIVATE KEY-----\nAPPLE-KEY-7f3c1d5e9b2a\n-----END PRIVATE KEY-----\n";
const firebaseAccount = '{"type":"service_account","private_key":"FIREBASE-KEY-4e8a2c6f0d1b"}\n';

let dir: string;
let host: PushTestHost;
let ca: Issued;
let server: Issued;
let tarball: { path: string; sha256: string };

function settingsFor(allowedCidrs: string[]): PushHostSettingsForPlan {
    return {
        host: hostAddress,
        firewall: { allowedCidrs, deployerCidrs: [`${clientAddresses.deployer}/32`], sshPort: 22 },
        tarball: { sha256: tarball.sha256, file: tarball.path },
        proxy: {
            apple: {
                type: "apple_rn",
                topic: "com.example.chat",
                token: { keyId: "ABCDE12345", teamId: "TEAM123456" },
                development: true,
            },
            android: { type: "android_rn" },
            throttlePerSec: 300,
            sendTimeoutSec: 30,
            retryTimeoutSec: 8,
        },
    };
}

function secretsFor(settings: PushHostSettingsForPlan, sitePrefix = prefix): PushHostSecrets {
    return {
        tlsKey: fs.readFileSync(server.keyPath, "utf8"),
        nginxSite: renderPushHostSite(settings, sitePrefix),
        appleAuthKey: appleKey,
        firebaseServiceAccount: firebaseAccount,
    };
}

/** What a `pulumi up` does on the VM: prepare, copy every staged file, provision with the secrets on stdin. */
async function deploy(
    settings: PushHostSettingsForPlan,
    secrets = secretsFor(settings),
): Promise<{ provision: Finished; processes: string[] }> {
    const files: StagedFile[] = renderStagedFiles(settings, server.certificate);
    const commands = renderPushHostCommands(files);
    const prepared = await host.ssh(commands.prepare);
    expect(prepared).toMatchObject({ status: 0 });
    const local = path.join(dir, "staged");
    fs.rmSync(local, { recursive: true, force: true });
    fs.mkdirSync(local);
    for (const file of files) {
        fs.writeFileSync(path.join(local, file.name), file.content);
    }
    await host.copy([
        ...files.map((file) => ({
            localPath: path.join(local, file.name),
            remotePath: `${stagingDirectory}/${file.name}`,
        })),
        { localPath: tarball.path, remotePath: `${stagingDirectory}/${stagedTarballName}` },
    ]);

    // The process list, sampled all through the run: no secret may show in any command line.
    const processes: string[] = [];
    let running = true;
    const sampling = (async () => {
        while (running) {
            processes.push((await run("ps", ["-eo", "args"])).stdout);
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
    })();
    const provision = await host.ssh(commands.provision, renderSecretBundle(secrets));
    running = false;
    await sampling;
    return { provision, processes };
}

function curl(client: Client, args: string[]): Promise<Finished> {
    return host.inNamespace(client, [
        "curl",
        "--silent",
        "--show-error",
        "--connect-timeout",
        "2",
        "--max-time",
        "5",
        ...args,
    ]);
}

/** POST to the front as a Mattermost server would, verifying its certificate against the CA. */
function push(client: Client, target: string): Promise<Finished> {
    return curl(client, [
        "--cacert",
        ca.certificatePath,
        "--output",
        "-",
        "--write-out",
        " %{http_code}",
        "--header",
        "Content-Type: application/json",
        "--data",
        '{"server_id":"s","device_id":"d","platform":"android_rn"}',
        `https://${hostAddress}${target}`,
    ]);
}

const vm = (vmPath: string) => host.hostPath(vmPath);
const stagedFile = (settings: PushHostSettingsForPlan, name: string) =>
    renderStagedFiles(settings, server.certificate).find((file) => file.name === name)!.content;
/** The arguments of provision.sh's one call of `program` whose arguments start with `first`, read from the render. */
function renderedCall(settings: PushHostSettingsForPlan, program: string, first: string): string {
    const script = stagedFile(settings, "provision.sh");
    const calls = [...script.matchAll(new RegExp(`^\\s*${program} (${first} [^|&;\\n]*?)\\s*$`, "gm"))].map(
        (match) => match[1],
    );
    expect([program, first, calls.length]).toEqual([program, first, 1]);
    return calls[0];
}
/** What `request` last answered, polled until it says OK or the time is up. */
async function answerWithin(timeoutMs: number, request: () => Promise<Finished>): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let answer = await request();
    while (!answer.stdout.endsWith(" 200") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await request();
    }
    return answer.stdout;
}
/** Every file under a directory of the VM's, with its content. */
function filesUnder(vmDirectory: string): [string, string][] {
    const root = vm(vmDirectory);
    return fs
        .readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => {
            const file = path.join(entry.parentPath, entry.name);
            return [file, fs.readFileSync(file, "utf8")];
        });
}
const fakeSystemdLog = () => fs.readFileSync(vm("/run/fake-systemd/log"), "utf8");
const nftTable = () => host.inNamespace("host", ["nft", "--handle", "list", "table", "inet", "mattermost_push"]);

beforeAll(async () => {
    dir = makeRuntimeDir();
    fs.chmodSync(dir, 0o755);
    ca = makeCertificateAuthority(dir, "Push VM CA");
    server = makeServerCertificate(dir, ca, "push-vm", [hostAddress]);

    // A release tarball laid out as upstream's: one top directory, the binary in bin/.
    const binary = buildGoProbe("fakepushproxy");
    const release = path.join(dir, "release", "mattermost-push-proxy");
    fs.mkdirSync(path.join(release, "bin"), { recursive: true });
    fs.copyFileSync(binary, path.join(release, "bin", "mattermost-push-proxy"));
    fs.chmodSync(path.join(release, "bin", "mattermost-push-proxy"), 0o755);
    const tarballPath = path.join(dir, "mattermost-push-proxy-linux-amd64.tar.gz");
    spawnSync("tar", ["-czf", tarballPath, "-C", path.join(dir, "release"), "mattermost-push-proxy"]);
    tarball = { path: tarballPath, sha256: createHash("sha256").update(fs.readFileSync(tarballPath)).digest("hex") };

    host = new PushTestHost(dir);
    await host.start();
});

afterAll(() => {
    host?.stop();
    if (dir) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

describe("provisioning the push VM over SSH", () => {
    let allowed: PushHostSettingsForPlan;
    let first: Awaited<ReturnType<typeof deploy>>;

    beforeAll(async () => {
        allowed = settingsFor(["10.91.0.8/29"]);
        first = await deploy(allowed);
    });

    it("installs and starts everything, verified, with its own user and the secrets readable only by it", () => {
        expect(first.provision.stderr).toBe("");
        expect(first.provision.status).toBe(0);
        expect(first.provision.stdout).toMatch(/mattermost-push provision: \d+ change\(s\)/);
        expect(fs.readlinkSync(vm("/opt/mattermost-push-proxy/current"))).toBe(`releases/${tarball.sha256}`);
        const mode = (vmPath: string) => (fs.statSync(vm(vmPath)).mode & 0o777).toString(8);
        expect(mode(pushPaths.appleAuthKey)).toBe("640");
        expect(mode(pushPaths.firebaseServiceAccount)).toBe("640");
        expect(mode(pushPaths.nginxSite)).toBe("600");
        expect(mode(pushPaths.tlsKey)).toBe("600");
        expect(fs.readFileSync(vm(pushPaths.appleAuthKey), "utf8")).toBe(appleKey);
        // The stand-in proxy read both credential files as its own user, or it would have said so.
        expect(fs.readFileSync(vm("/run/fake-systemd/mattermost-push-proxy.journal"), "utf8")).not.toContain(
            "Failed to initialize client",
        );
    });

    it("never shows a secret in a command line", () => {
        const keyLine = fs.readFileSync(server.keyPath, "utf8").split("\n")[1];
        const secrets = [prefix, "APPLE-KEY-7f3c1d5e9b2a", "FIREBASE-KEY-4e8a2c6f0d1b", keyLine];
        expect(first.processes.length).toBeGreaterThan(3);
        const seen = first.processes.join("\n");
        // The sampling saw the run itself, so it would have seen a secret passed as an argument.
        expect(seen).toContain(`sudo -n /bin/bash ${stagingDirectory}/provision.sh`);
        for (const secret of secrets) {
            expect(seen).not.toContain(secret);
        }
    });

    it("lets the allowed client reach send_push and ack through the secret prefix, verifying the front", async () => {
        expect((await push("allowed", `/${prefix}/api/v1/send_push`)).stdout).toBe('{"status":"OK"} 200');
        expect((await push("allowed", `/${prefix}/api/v1/ack`)).stdout).toBe('{"status":"OK"} 200');
        // The proxy throttles on X-Forwarded-For: nginx sets it to the caller, whatever the caller sent.
        expect(fs.readFileSync(vm("/run/fake-systemd/mattermost-push-proxy.journal"), "utf8")).toContain(
            `POST /api/v1/send_push xff=${clientAddresses.allowed}`,
        );
    });

    it.each(["/api/v1/send_push", "/metrics", `/${prefix}/metrics`, `/${prefix}/version`])(
        "refuses %s to the allowed client",
        async (target) => {
            expect((await push("allowed", target)).stdout).toMatch(/ 404$/);
        },
    );

    it("never lets anyone reach the proxy's own port", async () => {
        const direct = await curl("allowed", [`http://${hostAddress}:8066/version`]);
        expect(direct.status).not.toBe(0);
    });

    it("does not let the client outside the CIDRs reach 443 at all, and keeps SSH open for the deployer", async () => {
        const outside = await push("outside", `/${prefix}/api/v1/send_push`);
        expect(outside.status).toBe(28); // curl: timed out connecting, the SYN dropped
        expect((await host.ssh("echo still-here")).stdout).toBe("still-here\n");
    });

    it("changes nothing when run again with nothing changed", async () => {
        const logBefore = fakeSystemdLog();
        const rulesBefore = (await nftTable()).stdout;
        const again = await deploy(allowed);
        expect(again.provision.status).toBe(0);
        expect(again.provision.stdout).toBe("mattermost-push provision: 0 change(s)\n");
        expect(fakeSystemdLog()).toBe(logBefore);
        expect((await nftTable()).stdout).toBe(rulesBefore);
    });

    it("refuses staged files that are not the rendered ones, and changes nothing", async () => {
        const commands = renderPushHostCommands(renderStagedFiles(allowed, server.certificate));
        const rulesBefore = (await nftTable()).stdout;
        await host.ssh(`echo 'tcp dport 443 accept' >> ${stagingDirectory}/firewall.nft`);
        const tampered = await host.ssh(commands.provision, renderSecretBundle(secretsFor(allowed)));
        expect(tampered.status).toBe(1);
        expect(tampered.stderr).toContain("mattermost-push provision: the staged files differ from the rendered ones");
        expect((await nftTable()).stdout).toBe(rulesBefore);
    });

    it("replaces the rules when the CIDRs change: the new ones only", async () => {
        const changed = await deploy(settingsFor([`${clientAddresses.outside}/32`]));
        expect(changed.provision.status).toBe(0);
        const rules = (await nftTable()).stdout;
        expect(rules).toContain(clientAddresses.outside);
        expect(rules).not.toContain("10.91.0.8/29");
        expect((await push("outside", `/${prefix}/api/v1/send_push`)).stdout).toBe('{"status":"OK"} 200');
        expect((await push("allowed", `/${prefix}/api/v1/send_push`)).status).toBe(28);
        // Only the firewall changed: the proxy was not restarted.
        expect(fakeSystemdLog().match(/start mattermost-push-proxy/g)).toHaveLength(1);
    });

    it("leaves nothing behind after the delete commands", async () => {
        const commands = renderPushHostCommands(renderStagedFiles(allowed, server.certificate));
        expect(await host.ssh(commands.remove)).toMatchObject({ status: 0, stdout: "mattermost-push remove: done\n" });
        expect(await host.ssh(commands.unprepare)).toMatchObject({ status: 0 });
        for (const vmPath of [
            pushPaths.unit,
            "/etc/systemd/system/mattermost-push-firewall.service",
            pushPaths.nginxSite,
            "/etc/nginx/mattermost-push",
            pushPaths.configDirectory,
            pushPaths.installDirectory,
            pushPaths.stateDirectory,
            stagingDirectory,
        ]) {
            expect([vmPath, fs.existsSync(vm(vmPath))]).toEqual([vmPath, false]);
        }
        expect((await nftTable()).status).not.toBe(0);
        expect((await host.ssh("getent passwd mattermost-push || echo gone")).stdout).toBe("gone\n");
        expect((await host.ssh("curl --silent --max-time 2 http://127.0.0.1:8066/version || echo down")).stdout).toBe(
            "down\n",
        );
        // nginx still runs (it is the host's), without the push site: 443 is closed.
        const front = await push("outside", `/${prefix}/api/v1/send_push`);
        expect(front.status).toBe(7); // curl: connection refused
    });
});

describe("converging after a run that stopped part-way", () => {
    let current: PushHostSettingsForPlan;
    let currentPrefix = prefix;
    const proxyUnit = path.basename(pushPaths.unit, ".service");
    const proxyStarts = () =>
        fakeSystemdLog()
            .split("\n")
            .filter((line) => line === `start ${proxyUnit}`).length;
    /** The client inside the CIDRs the last converged run applied. */
    const caller = (): Client =>
        current.firewall.allowedCidrs.includes(`${clientAddresses.outside}/32`) ? "outside" : "allowed";
    const proxyPid = () => fs.readFileSync(vm(`/run/fake-systemd/${proxyUnit}.pid`), "utf8").trim();

    /** A run made to fail at one call, as an interrupted one would: it must fail, and nothing else. */
    async function interrupted(
        undo: () => void,
        settings: PushHostSettingsForPlan,
        secrets?: PushHostSecrets,
    ): Promise<Finished> {
        try {
            return (await deploy(settings, secrets)).provision;
        } finally {
            undo();
        }
    }

    beforeAll(async () => {
        current = settingsFor(["10.91.0.8/29"]);
        expect((await deploy(current)).provision).toMatchObject({ status: 0 });
    });

    it("never writes the secret prefix to a log, for requests answered, refused and failed", async () => {
        const accessLog = vm(/^\s*access_log ([^\s;]+)/m.exec(renderPushHostSite(current, prefix))![1]);
        const linesBefore = fs.readFileSync(accessLog, "utf8").split("\n").length;
        expect((await push("allowed", `/${prefix}/api/v1/send_push`)).stdout).toMatch(/ 200$/);
        expect((await push("allowed", `/${prefix}/metrics`)).stdout).toMatch(/ 404$/);
        // A GET is refused by the front, which nginx reports as an error naming the request.
        const get = await curl("allowed", [
            "--cacert",
            ca.certificatePath,
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            `https://${hostAddress}/${prefix}/api/v1/send_push`,
        ]);
        expect(get.stdout).toBe("403");
        // With the proxy down the front fails upstream, which nginx reports as an error naming the request.
        expect(await host.ssh(`sudo -n systemctl stop ${proxyUnit}.service`)).toMatchObject({ status: 0 });
        expect((await push("allowed", `/${prefix}/api/v1/send_push`)).stdout).toMatch(/ 502$/);
        expect((await deploy(current)).provision.stdout).toContain(`${proxyUnit} restarted`);

        const logs = [...filesUnder("/var/log/"), ...filesUnder("/run/fake-systemd/")];
        expect(logs.map(([file]) => file)).toContain(accessLog);
        for (const [file, content] of logs) {
            expect([file, content.includes(prefix)]).toEqual([file, false]);
        }
        const accessLines = fs
            .readFileSync(accessLog, "utf8")
            .split("\n")
            .slice(linesBefore - 1, -1);
        expect(accessLines).toHaveLength(4);
        // Without the path, the log still tells which endpoint failed upstream.
        expect(accessLines.at(-1)).toMatch(/ send_push 502 /);
    });

    it("restarts the proxy on the next run when a run installed its new config and failed to restart it", async () => {
        const next = { ...current, proxy: { ...current.proxy, throttlePerSec: current.proxy.throttlePerSec + 1 } };
        const restart = renderedCall(next, "systemctl", "restart");
        const pidBefore = proxyPid();
        const failed = await interrupted(host.failWhen("systemctl", restart), next);
        expect(failed.status).not.toBe(0);
        // The new config is in place and the proxy still runs on the old one: what the next run finds.
        expect(fs.readFileSync(vm(pushPaths.config), "utf8")).toBe(stagedFile(next, path.basename(pushPaths.config)));
        expect(proxyPid()).toBe(pidBefore);

        const starts = proxyStarts();
        const rerun = await deploy(next);
        expect(rerun.provision.status).toBe(0);
        expect(proxyStarts()).toBe(starts + 1);
        expect(proxyPid()).not.toBe(pidBefore);
        current = next;
    });

    it("loads the firewall on the next run when a run installed the new rules and failed to load them", async () => {
        const next = { ...current, firewall: { ...current.firewall, allowedCidrs: [`${clientAddresses.outside}/32`] } };
        const load = renderedCall(next, "nft", "--file");
        const failed = await interrupted(host.failWhen("nft", load), next);
        expect(failed.status).not.toBe(0);
        expect(fs.readFileSync(vm(pushPaths.nftables), "utf8")).toBe(stagedFile(next, "firewall.nft"));
        expect((await nftTable()).stdout).toContain("10.91.0.8/29");

        expect((await deploy(next)).provision.status).toBe(0);
        const rules = (await nftTable()).stdout;
        expect(rules).toContain(clientAddresses.outside);
        expect(rules).not.toContain("10.91.0.8/29");
        expect((await push("outside", `/${prefix}/api/v1/send_push`)).stdout).toBe('{"status":"OK"} 200');
        current = next;
    });

    it("reloads the front on the next run when a run installed the new site and failed to reload nginx", async () => {
        const nextPrefix = "Hn5TwQ2eRv8YkLp3sXc7bNm4dJg6FzAu";
        const secrets = secretsFor(current, nextPrefix);
        const reload = renderedCall(current, "systemctl", "reload");
        const failed = await interrupted(host.failWhen("systemctl", reload), current, secrets);
        expect(failed.status).not.toBe(0);
        expect(fs.readFileSync(vm(pushPaths.nginxSite), "utf8")).toBe(secrets.nginxSite);
        expect((await push(caller(), `/${prefix}/api/v1/send_push`)).stdout).toMatch(/ 200$/);

        expect((await deploy(current, secrets)).provision.status).toBe(0);
        // A reload only signals nginx, which then starts workers on the new site.
        expect(await answerWithin(5000, () => push(caller(), `/${nextPrefix}/api/v1/send_push`))).toBe(
            '{"status":"OK"} 200',
        );
        expect((await push(caller(), `/${prefix}/api/v1/send_push`)).stdout).toMatch(/ 404$/);
        currentPrefix = nextPrefix;
    });

    it("never puts rules nft refuses where the boot unit loads them", async () => {
        // Overlapping intervals: nft refuses them only when it loads them.
        const outside = clientAddresses.outside;
        const refused = {
            ...current,
            firewall: { ...current.firewall, allowedCidrs: [`${outside}/32`, `${outside}/29`] },
        };
        const liveBefore = fs.readFileSync(vm(pushPaths.nftables), "utf8");
        const rulesBefore = (await nftTable()).stdout;
        const run = await deploy(refused, secretsFor(refused, currentPrefix));
        expect(run.provision.status).not.toBe(0);
        expect(run.provision.stderr).toContain("nft");
        expect(fs.readFileSync(vm(pushPaths.nftables), "utf8")).toBe(liveBefore);
        expect((await nftTable()).stdout).toBe(rulesBefore);
    });

    it("checks a new front with nginx before it replaces the live one", async () => {
        const liveKey = vm(pushPaths.tlsKey);
        const keyBefore = fs.readFileSync(liveKey, "utf8");
        const keyWhenChecked = path.join(dir, "key-when-checked");
        // A key that is not the certificate's: nginx refuses the candidate.
        const otherKey = spawnSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], {
            encoding: "utf8",
        }).stdout;
        expect(otherKey).toContain("PRIVATE KEY");
        const recording = host.interpose("nginx", `if [ "\${1:-}" = -t ]; then cp ${liveKey} ${keyWhenChecked}; fi`);
        const run = await interrupted(recording, current, { ...secretsFor(current, currentPrefix), tlsKey: otherKey });
        expect(run.status).not.toBe(0);
        expect(run.stderr).toContain("nginx");
        // While nginx checked the new key, the live place still held the old one.
        expect(fs.readFileSync(keyWhenChecked, "utf8")).toBe(keyBefore);
        expect(fs.readFileSync(liveKey, "utf8")).toBe(keyBefore);
        expect((await push(caller(), `/${currentPrefix}/api/v1/send_push`)).stdout).toBe('{"status":"OK"} 200');
    });

    it("changes nothing on the run after it has converged", async () => {
        const secrets = secretsFor(current, currentPrefix);
        expect((await deploy(current, secrets)).provision.status).toBe(0);
        const logBefore = fakeSystemdLog();
        const again = await deploy(current, secrets);
        expect(again.provision).toMatchObject({ status: 0, stdout: "mattermost-push provision: 0 change(s)\n" });
        expect(fakeSystemdLog()).toBe(logBefore);
    });
});
