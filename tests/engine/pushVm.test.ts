/**
 * The push VM provisioned by `pulumi up` itself: the test stack with `pushHost` at the test VM (a network
 * namespace with Debian's sshd, sudo, nginx and nftables, tests/helpers/pushTestHost.ts), so the engine
 * runs the PushProxyHost component's steps through the command provider, which opens the SSH session
 * with the pinned host key, copies the files and runs the steps; `pulumi destroy` runs the delete steps.
 *
 * The command provider is our stand-in (tests/toolchain/standin-command/: the real one cannot be built
 * here), doing real SSH and SFTP. The proxy is the Go stand-in of the integration test, installed from an
 * uploaded, checksummed tarball; systemd cannot run here (tests/fixtures/push-host/systemctl).
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pushPaths } from "../../config/pushProxy";
import { ClusterInfo, up as clusterUp } from "../../scripts/cluster";
import { buildGoProbe } from "../helpers/goProbes";
import { makeRuntimeDir } from "../helpers/nginxHarness";
import { clientAddresses, hostAddress, PushTestHost, type Client } from "../helpers/pushTestHost";
import { Workspace, workspace } from "./helpers/pulumiCli";

const stack = "test";
/** This machine's own address on the VM's bridge: `pulumi up` runs here, not in a namespace. */
const engineAddress = "10.91.0.40";
const engineLink = `mmpeng${process.pid}`.slice(0, 15);

let dir: string;
let host: PushTestHost;
let cluster: ClusterInfo;
let ws: Workspace;

function ip(...args: string[]): void {
    const result = spawnSync("ip", args, { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
    }
}

/** A veth from this namespace onto the VM's bridge, so the provider reaches the VM as a deployer would. */
function joinBridge(): void {
    ip("link", "add", engineLink, "type", "veth", "peer", "name", "v-engine", "netns", host.namespaces.host);
    ip("-n", host.namespaces.host, "link", "set", "v-engine", "master", "br0");
    ip("-n", host.namespaces.host, "link", "set", "v-engine", "up");
    ip("address", "add", `${engineAddress}/32`, "dev", engineLink);
    ip("link", "set", engineLink, "up");
    ip("route", "add", `${hostAddress}/32`, "dev", engineLink);
}

function releaseTarball(): { file: string; sha256: string } {
    const binary = buildGoProbe("fakepushproxy");
    const release = path.join(dir, "release", "mattermost-push-proxy");
    fs.mkdirSync(path.join(release, "bin"), { recursive: true });
    fs.copyFileSync(binary, path.join(release, "bin", "mattermost-push-proxy"));
    fs.chmodSync(path.join(release, "bin", "mattermost-push-proxy"), 0o755);
    const file = path.join(dir, "mattermost-push-proxy-linux-amd64.tar.gz");
    spawnSync("tar", ["-czf", file, "-C", path.join(dir, "release"), "mattermost-push-proxy"]);
    return { file, sha256: createHash("sha256").update(fs.readFileSync(file)).digest("hex") };
}

beforeAll(async () => {
    dir = makeRuntimeDir();
    fs.chmodSync(dir, 0o755);
    host = new PushTestHost(dir);
    await host.start();
    joinBridge();
    cluster = await clusterUp();
    const tarball = releaseTarball();
    ws = workspace({ stacks: [stack], extraEnv: { KUBECONFIG: cluster.kubeconfig } });
    // Values on stdin, as `pulumi config set` reads them when none is given (a PEM starts with dashes).
    const set = (key: string, value: string, secret = false) =>
        ws.pulumiOk(["config", "set", ...(secret ? ["--secret"] : []), key], { input: value });
    ws.pulumiOk(["stack", "init", stack]);
    set("kubeContext", cluster.context);
    set("pushHost", hostAddress);
    set("pushSshHostKey", host.hostKey);
    set("pushProxyTarballFile", tarball.file);
    set("pushProxyTarballSha256", tarball.sha256);
    set("pushSshPrivateKey", fs.readFileSync(host.keyPath, "utf8"), true);
    set("pushAppleAuthKey", "-----BEGIN PRIVATE KEY-----\nAPPLE-KEY-engine\n-----END PRIVATE KEY-----\n", true);
    set("pushFirebaseServiceAccount", '{"type":"service_account","private_key":"FIREBASE-KEY-engine"}', true);
    ws.pulumiOk(["config", "set", "--path", "pushAllowedCidrs[0]", `${clientAddresses.allowed}/32`]);
    ws.pulumiOk(["config", "set", "--path", "pushDeployerCidrs[0]", `${engineAddress}/32`]);
    ws.pulumiOk(["config", "set", "--path", "pushHostCidrs[0]", `${hostAddress}/32`]);
}, 600_000);

afterAll(() => {
    ws?.cleanup();
    spawnSync("ip", ["link", "del", engineLink]);
    host?.stop();
    if (dir) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

function output(name: string): string {
    return String(JSON.parse(ws.pulumiOk(["stack", "output", "--json", "--show-secrets"]).stdout)[name]);
}

/** A POST to the front from one of the VM's neighbours, verifying its certificate with the stack's CA. */
async function push(client: Client, url: string): Promise<string> {
    const caFile = path.join(dir, "push-ca.pem");
    fs.writeFileSync(caFile, output("pushCaCertificate"));
    const result = await host.inNamespace(client, [
        "curl",
        "--silent",
        "--connect-timeout",
        "2",
        "--max-time",
        "5",
        "--cacert",
        caFile,
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_code}",
        "--header",
        "Content-Type: application/json",
        "--data",
        '{"server_id":"s","device_id":"d","platform":"android_rn"}',
        `${url}/api/v1/send_push`,
    ]);
    return result.stdout.trim();
}

it("provisions the VM through the engine, with the host key pinned", () => {
    const up = ws.pulumi(["up", "--yes"], { timeoutMs: 900_000 });
    if (up.status !== 0) {
        throw new Error(
            `pulumi up exited ${up.status}:\n${up.output.slice(-6000)}\nsshd: ${host.sshdLog.slice(-2000)}`,
        );
    }
    expect(up.output).not.toContain("APPLE-KEY-engine");
});

it("serves send_push under the secret prefix to the allowed client only", async () => {
    const pushUrl = output("pushUrl");
    expect(pushUrl).toMatch(new RegExp(`^https://${hostAddress.replace(/\./g, "\\.")}/[A-Za-z0-9]{32}$`));
    expect(await push("allowed", pushUrl)).toBe("200");
    expect(await push("allowed", `https://${hostAddress}`)).not.toBe("200");
    // Outside the allowed CIDR the firewall drops the connection: no HTTP answer at all (curl says 000).
    expect(await push("outside", pushUrl)).toBe("000");
});

it("changes nothing on a second preview", () => {
    const preview = ws.pulumi(["preview", "--expect-no-changes"]);
    expect({ status: preview.status, output: preview.status === 0 ? "" : preview.output }).toEqual({
        status: 0,
        output: "",
    });
});

it("runs the delete steps on destroy", () => {
    ws.pulumiOk(["destroy", "--yes"], { timeoutMs: 900_000 });
    expect(fs.existsSync(host.hostPath(pushPaths.unit))).toBe(false);
    expect(fs.existsSync(host.hostPath(pushPaths.installDirectory))).toBe(false);
});
