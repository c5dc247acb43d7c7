/**
 * `npm run diff`: a one-line change to the nginx renderer, committed in a scratch repository holding this
 * working tree, shows as exactly that one line in the diff of the rendered nginx.conf.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectDir } from "../helpers/render";

let clone: string;
let diff: string;

function git(...args: string[]): string {
    const result = spawnSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], {
        cwd: clone,
        encoding: "utf8",
    });
    if (result.status !== 0) {
        throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
    }
    return result.stdout;
}

beforeAll(() => {
    // The working tree as it is (committed or not), as the base commit of a repository of its own.
    clone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "diff-clone-")), "repo");
    const files = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
        cwd: projectDir,
        encoding: "utf8",
    }).stdout.split("\0");
    for (const file of files.filter((name) => name && fs.existsSync(path.join(projectDir, name)))) {
        fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
        fs.copyFileSync(path.join(projectDir, file), path.join(clone, file));
    }
    git("init", "--quiet");
    git("add", "--all");
    git("commit", "--quiet", "-m", "base");
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(clone, "node_modules"));
    const renderer = path.join(clone, "config", "nginx.ts");
    const text = fs.readFileSync(renderer, "utf8");
    expect(text.split("proxy_connect_timeout 2s;").length).toBe(2);
    fs.writeFileSync(renderer, text.replace("proxy_connect_timeout 2s;", "proxy_connect_timeout 3s;"));
    git("commit", "--quiet", "-am", "one line");
    const run = spawnSync(
        path.join(projectDir, "node_modules", ".bin", "tsx"),
        ["scripts/diff.ts", "--base", "HEAD~1", "--stack", "test"],
        { cwd: clone, encoding: "utf8" },
    );
    if (run.status !== 0) {
        throw new Error(`npm run diff failed: ${run.stderr}`);
    }
    diff = run.stdout;
}, 180000);

afterAll(() => {
    if (clone) {
        spawnSync("git", ["worktree", "prune"], { cwd: clone });
        fs.rmSync(path.dirname(clone), { recursive: true, force: true });
    }
});

describe("npm run diff", () => {
    it("shows a one-line change to the nginx config as a one-line diff", () => {
        const section = diff.split(/^diff --git /m).find((part) => part.startsWith("base/test/files/nginx/nginx.conf"));
        expect(section).toBeDefined();
        const changed = section!.split("\n").filter((line) => /^[-+]/.test(line) && !/^(---|\+\+\+) /.test(line));
        expect(changed).toEqual(["-        proxy_connect_timeout 2s;", "+        proxy_connect_timeout 3s;"]);
    });

    it("also shows where the change lands in the manifests: a new ConfigMap, which rolls the nginx pods", () => {
        const section = diff.split(/^diff --git /m).find((part) => part.startsWith("base/test/manifests.yaml"));
        expect(section).toMatch(/^\+\s+proxy_connect_timeout 3s;$/m);
        // Auto-named: the changed content is a new ConfigMap name in the Deployment too.
        expect(section?.match(/^\+\s+name: nginx-conf-[0-9a-f]{8}$/gm)?.length).toBe(2);
    });

    it("names the stack, and does not call a changed stack unchanged", () => {
        expect(diff).toContain("### Stack test");
        expect(diff).not.toContain("No change in the offline render.");
    });
});
