// One local cluster for the whole engine suite, in a state directory of its own, so that a cluster a
// developer has up (npm run cluster -- up, npm run demo) is neither used nor stopped by the tests. The
// test files start it (scripts/cluster.ts up reuses a running one); the teardown stops what they started.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const projectDir = path.resolve(__dirname, "..", "..");

async function setup() {
    process.env.MM_CLUSTER_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "engine-cluster-"));
}

async function teardown() {
    const tsx = path.join(projectDir, "node_modules", ".bin", "tsx");
    spawnSync(tsx, ["scripts/cluster.ts", "down"], { cwd: projectDir, stdio: "inherit", env: process.env });
}

module.exports = { setup, teardown };
