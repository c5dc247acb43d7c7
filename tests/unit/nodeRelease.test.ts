/**
 * One Node.js release everywhere: the one .ci/install-node puts on CI's PATH (so every suite runs on it),
 * package.json's engines, the workflows' setup-node, and the default image the guard, the realm-apply job
 * and the deprovisioning job run in. The pods' programs are tested on the Node of CI, so a drift between
 * these would leave the pods on a release nothing here ran.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "yaml";
import { configKeys } from "../../config/keys";
import { projectDir } from "../helpers/render";

const installer = fs.readFileSync(path.join(projectDir, ".ci", "install-node"), "utf8");
const ciVersion = /^version=(\d+\.\d+\.\d+)$/m.exec(installer)?.[1];

describe("the Node.js release", () => {
    it("is pinned in .ci/install-node to a Node 22 LTS release", () => {
        expect(ciVersion).toMatch(/^22\./);
    });

    it("is the one .ci/run puts on PATH before npm ci", () => {
        const run = fs.readFileSync(path.join(projectDir, ".ci", "run"), "utf8");
        const install = run.indexOf('node_bin="$(.ci/install-node)"');
        expect(install).toBeGreaterThan(0);
        expect(run.indexOf('export PATH="$node_bin:$PATH"')).toBeGreaterThan(install);
        expect(run.indexOf("npm ci")).toBeGreaterThan(install);
    });

    it("is the major release package.json's engines allow, and no other", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
            engines: { node: string };
        };
        const major = Number(ciVersion?.split(".")[0]);
        expect(manifest.engines.node).toBe(`>=${major} <${major + 1}`);
        const lock = JSON.parse(fs.readFileSync(path.join(projectDir, "package-lock.json"), "utf8")) as {
            packages: Record<string, { engines?: { node: string } }>;
        };
        expect(lock.packages[""]?.engines).toEqual(manifest.engines);
    });

    it("is what every workflow job sets up", () => {
        const workflow = yaml.parse(
            fs.readFileSync(path.join(projectDir, ".github", "workflows", "preview.yml"), "utf8"),
        ) as { jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }> };
        const setups = Object.values(workflow.jobs).flatMap((job) =>
            job.steps.filter((step) => step.uses?.startsWith("actions/setup-node@")),
        );
        expect(setups.length).toBeGreaterThan(0);
        expect(setups.map((step) => String(step.with?.["node-version"]))).toEqual(setups.map(() => ciVersion));
    });

    it("is the release of the default Node image the pods' programs run in", () => {
        expect(configKeys.nodeImage.default).toBe(`node:${ciVersion}-alpine`);
    });
});
