/**
 * The GitHub Actions workflows, checked with a workflow linter (@action-validator/core, the workflow
 * schema), and the rules that keep the pull-request preview safe for forks.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import * as yaml from "yaml";
import { projectDir } from "../helpers/render";

const workflowDir = path.join(projectDir, ".github", "workflows");
const workflows = fs.readdirSync(workflowDir).filter((file) => /\.ya?ml$/.test(file));

describe("the workflows", () => {
    it("exist", () => {
        expect(workflows).toContain("preview.yml");
    });

    it.each(workflows)("%s lints clean", (file) => {
        expect(validateWorkflow(fs.readFileSync(path.join(workflowDir, file), "utf8")).errors).toEqual([]);
    });

    it("would report a broken workflow (the linter is not a no-op)", () => {
        expect(
            validateWorkflow("on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    stepz: []\n").errors,
        ).not.toEqual([]);
    });
});

describe("the pull-request preview", () => {
    const workflow = yaml.parse(fs.readFileSync(path.join(workflowDir, "preview.yml"), "utf8")) as {
        on: Record<string, unknown>;
        jobs: Record<string, { if?: string; steps: { run?: string; uses?: string; with?: Record<string, unknown> }[] }>;
    };

    it("runs on pull_request, never pull_request_target, so a fork's code never meets a write token with secrets", () => {
        expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    });

    it("renders and diffs without any secret, for forks too", () => {
        const job = workflow.jobs["render-diff"];
        expect(job.if).toBeUndefined();
        expect(JSON.stringify(job)).not.toContain("secrets.");
        expect(job.steps.map((step) => step.run ?? "")).toContainEqual(
            expect.stringContaining("npm run diff -- --base"),
        );
    });

    it("previews each stack with the Pulumi action, only where the repository's secrets are given", () => {
        const job = workflow.jobs.preview;
        expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
        const pulumi = job.steps.find((step) => step.uses?.startsWith("pulumi/actions@"));
        expect(pulumi?.with).toMatchObject({ command: "preview", diff: true, "comment-on-pr": true });
    });
});
