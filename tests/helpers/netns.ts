/**
 * Network namespaces for tests that need hosts with addresses of their own: one hub namespace holding a
 * bridge, and spokes joined to it, each by a veth pair. Traffic stays inside these namespaces.
 */
import { spawnSync } from "node:child_process";
import * as net from "node:net";

function ip(...args: string[]): void {
    const result = spawnSync("ip", args, { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`ip ${args.join(" ")} failed (the test needs root and iproute2): ${result.stderr}`);
    }
}

/**
 * @param hub the namespace with the bridge, reached at hubAddress
 * @param spokes each spoke's namespace and address, by a short name (the hub's end of its veth is v-<name>)
 */
export function bridgedNamespaces(
    hub: { readonly namespace: string; readonly address: string },
    spokes: Readonly<Record<string, { readonly namespace: string; readonly address: string }>>,
): void {
    ip("netns", "add", hub.namespace);
    ip("-n", hub.namespace, "link", "add", "br0", "type", "bridge");
    ip("-n", hub.namespace, "address", "add", `${hub.address}/24`, "dev", "br0");
    ip("-n", hub.namespace, "link", "set", "br0", "up");
    ip("-n", hub.namespace, "link", "set", "lo", "up");
    for (const [name, spoke] of Object.entries(spokes)) {
        ip("netns", "add", spoke.namespace);
        ip(
            "-n",
            hub.namespace,
            "link",
            "add",
            `v-${name}`,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            spoke.namespace,
        );
        ip("-n", hub.namespace, "link", "set", `v-${name}`, "master", "br0", "up");
        ip("-n", spoke.namespace, "address", "add", `${spoke.address}/24`, "dev", "eth0");
        ip("-n", spoke.namespace, "link", "set", "eth0", "up");
        ip("-n", spoke.namespace, "link", "set", "lo", "up");
    }
}

/** Kills whatever still runs in the namespaces, then deletes them. */
export function removeNamespaces(namespaces: readonly string[]): void {
    for (const namespace of namespaces) {
        const pids = spawnSync("ip", ["netns", "pids", namespace], { encoding: "utf8" }).stdout.trim();
        for (const pid of pids.split("\n").filter(Boolean)) {
            try {
                process.kill(Number(pid), "SIGKILL");
            } catch {
                // already gone
            }
        }
        spawnSync("ip", ["netns", "del", namespace]);
    }
}

export function pidAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Deletes the namespaces, named by `pattern` with a pid as its one group, of test processes that died
 * without cleaning up (a run killed mid-suite), and this process's own from a reused pid.
 */
export function removeStaleNamespaces(pattern: RegExp): void {
    const listed = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
    const stale = listed
        .split("\n")
        .map((line) => line.split(" ")[0])
        .filter((name) => {
            const pid = pattern.exec(name)?.[1];
            return pid !== undefined && (Number(pid) === process.pid || !pidAlive(Number(pid)));
        });
    removeNamespaces(stale);
}

/** The root namespace's link that holds `address`, if one does. */
function linkHolding(address: string): string | undefined {
    const listed = spawnSync("ip", ["-o", "-4", "address", "show"], { encoding: "utf8" }).stdout ?? "";
    const line = listed.split("\n").find((entry) => entry.includes(` inet ${address}/`));
    return line?.split(/\s+/)[1]?.replace(/@.*$/, "");
}

/**
 * A namespace of its own for one server, as a pod has: its own ports and loopback, reached from the root
 * namespace over a veth (`hostAddress` here, `address` there, a /24 of their own). Returns the namespace.
 * The namespace is `prefix` and this process's pid: one of that prefix left by a dead process is removed
 * first, since its veth would hold the same addresses and take the route.
 */
export function hostNamespace(prefix: string, hostAddress: string, address: string): string {
    const name = `${prefix}${process.pid}`;
    removeStaleNamespaces(new RegExp(`^${prefix}(\\d+)$`));
    const holder = linkHolding(hostAddress);
    if (holder) {
        throw new Error(
            `${hostAddress} is already on link ${holder}: another test run that is still going holds it. ` +
                "Let it finish (or stop it by its pid) before starting this one.",
        );
    }
    const hostLink = `h-${name}`.slice(0, 15);
    ip("netns", "add", name);
    ip("link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", name);
    ip("address", "add", `${hostAddress}/24`, "dev", hostLink);
    ip("link", "set", hostLink, "up");
    ip("-n", name, "address", "add", `${address}/24`, "dev", "eth0");
    ip("-n", name, "link", "set", "eth0", "up");
    ip("-n", name, "link", "set", "lo", "up");
    return name;
}

/** The TCP ports something listens on in `namespace`, with the address each is bound to. */
export function listeningSockets(namespace: string): { address: string; port: number }[] {
    const result = spawnSync("ip", ["netns", "exec", namespace, "ss", "-Hltn"], { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`ss in ${namespace} failed: ${result.stderr}`);
    }
    return result.stdout
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => {
            const local = line.trim().split(/\s+/)[3] ?? "";
            const split = local.lastIndexOf(":");
            return { address: local.slice(0, split).replace(/^\[|\]$/g, ""), port: Number(local.slice(split + 1)) };
        });
}

/**
 * Drops every packet to and from a loopback TCP port of the root namespace, as when the node of the pod
 * listening there dies: connections to it hang instead of being refused. Only that port, in a table of
 * this process's own; returns the function that deletes the table.
 */
export function blackholeLoopbackPort(port: number): () => void {
    const table = `mm_blackhole_${process.pid}_${port}`;
    const nft = (script: string) => {
        const result = spawnSync("nft", ["-f", "-"], { input: script, encoding: "utf8" });
        if (result.status !== 0) {
            throw new Error(`nft failed (the test needs root and nftables): ${result.stderr}`);
        }
    };
    const rules = `iif "lo" tcp dport ${port} drop\n  iif "lo" tcp sport ${port} drop`;
    nft(
        `table inet ${table} {\n chain input {\n  type filter hook input priority -100;\n  ${rules}\n }\n` +
            ` chain output {\n  type filter hook output priority -100;\n  ${rules.replace(/iif/g, "oif")}\n }\n}\n`,
    );
    return () => nft(`delete table inet ${table}\n`);
}

/** Whether a TCP connection to host:port opens within a second. */
export function connects(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port, timeout: 1000 });
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
        socket.once("timeout", () => {
            socket.destroy();
            resolve(false);
        });
    });
}
