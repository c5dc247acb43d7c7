/**
 * A suite killed mid-run leaves its server's namespace behind, with a veth holding the same /24 the next
 * run wants: that happened once in CI (the next run's S3 store was unreachable for 60 s). The helper
 * that gives a server its namespace must clear such a leftover, and refuse a live run's with a clear error.
 */
import { spawn, spawnSync } from "node:child_process";
import { connects, hostNamespace, removeNamespaces } from "../helpers/netns";

const prefix = "mmnt";
const hostAddress = "10.96.0.1";
const address = "10.96.0.10";

function ip(...args: string[]) {
    const result = spawnSync("ip", args, { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
    }
}

/** A namespace as hostNamespace makes it, but named for another pid. */
function leftNamespace(name: string) {
    ip("netns", "add", name);
    ip("link", "add", `h-${name}`.slice(0, 15), "type", "veth", "peer", "name", "eth0", "netns", name);
    ip("address", "add", `${hostAddress}/24`, "dev", `h-${name}`.slice(0, 15));
    ip("link", "set", `h-${name}`.slice(0, 15), "up");
}

function namespaces(): string[] {
    return spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
        .stdout.split("\n")
        .map((line) => line.split(" ")[0])
        .filter(Boolean);
}

const reachable = (port: number) => connects(address, port);

describe("a server's namespace of its own", () => {
    const created: string[] = [];
    afterEach(() => removeNamespaces(created.splice(0)));

    it("replaces the one a dead run left with the same addresses, and the new one is reachable", async () => {
        const dead = spawnSync("true").pid;
        const leftover = `${prefix}${dead}`;
        created.push(leftover);
        leftNamespace(leftover);

        const namespace = hostNamespace(prefix, hostAddress, address);
        created.push(namespace);
        expect(namespaces()).not.toContain(leftover);
        const server = spawn(
            "ip",
            ["netns", "exec", namespace, process.execPath, "-e", "require('net').createServer().listen(8099)"],
            { stdio: "ignore" },
        );
        try {
            let up = false;
            for (let attempt = 0; attempt < 30 && !up; attempt++) {
                await new Promise((resolve) => setTimeout(resolve, 100));
                up = await reachable(8099);
            }
            expect(up).toBe(true);
        } finally {
            server.kill("SIGKILL");
        }
    });

    it("refuses when a live process's link holds the host address, naming that link", () => {
        const live = `mmlive${process.pid}`;
        created.push(live);
        leftNamespace(live);
        expect(() => hostNamespace(prefix, hostAddress, address)).toThrow(
            `${hostAddress} is already on link ${`h-${live}`.slice(0, 15)}`,
        );
        expect(namespaces()).toContain(live);
    });
});
