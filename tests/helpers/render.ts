import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";

export const projectDir = path.resolve(__dirname, "..", "..");
const tsx = path.join(projectDir, "node_modules", ".bin", "tsx");

export interface Rendered {
    readonly dir: string;
    /** What the render printed: warnings and the list of missing secrets. */
    readonly log: string;
    readonly manifests: Record<string, unknown>[];
    readonly resources: RenderedResource[];
    readonly outputs: Record<string, unknown>;
    file(relative: string): string;
}

export interface RenderedResource {
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    readonly dependencies: string[];
    /** Only where `pulumi up` must refuse to delete or replace it. */
    readonly protect?: true;
    readonly inputs: Record<string, any>;
}

/**
 * Runs `npm run render` for a stack, exactly as a user would, into a fresh directory; with `stackFile`,
 * renders that config file as the stack.
 */
export function renderStack(stack: string, stackFile?: string): Rendered {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `render-${stack}-`));
    const args = [
        "scripts/render.ts",
        "--stack",
        stack,
        "--out",
        dir,
        ...(stackFile ? ["--stack-file", stackFile] : []),
    ];
    const run = spawnSync(tsx, args, { cwd: projectDir, encoding: "utf8" });
    if (run.status !== 0) {
        throw new Error(`render of ${stack} failed: ${run.stderr}`);
    }
    const read = (relative: string) => fs.readFileSync(path.join(dir, relative), "utf8");
    return {
        dir,
        log: run.stdout + run.stderr,
        manifests: yaml
            .parseAllDocuments(read("manifests.yaml"))
            .map((document) => document.toJSON() as Record<string, unknown>),
        resources: JSON.parse(read("resources.json")) as RenderedResource[],
        outputs: JSON.parse(read("outputs.json")) as Record<string, unknown>,
        file: read,
    };
}

/** A stack rendered with its stack file changed by `edit` (the file's `config:` map), as the user would. */
export function renderVariant(stack: "test" | "prod", edit: (config: Record<string, unknown>) => void): Rendered {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `variant-${stack}-`));
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    const document = yaml.parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    edit(document.config);
    fs.writeFileSync(file, yaml.stringify(document));
    try {
        return renderStack(stack, file);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Every file below a directory, relative paths, sorted. */
/** The repository's files under a path of it (or that one file), relative to the project, sorted. */
export function projectFiles(relative: string): string[] {
    const absolute = path.join(projectDir, relative);
    if (!fs.existsSync(absolute)) {
        return [];
    }
    return fs.statSync(absolute).isFile() ? [relative] : listFiles(absolute).map((file) => path.join(relative, file));
}

export function listFiles(dir: string): string[] {
    return fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
        .sort();
}

/** Both stacks rendered once for the calling test file (its beforeAll), and removed after it. */
export function renderBothStacks(): Record<"test" | "prod", Rendered> {
    const stacks = {} as Record<"test" | "prod", Rendered>;
    beforeAll(() => {
        stacks.test = renderStack("test");
        stacks.prod = renderStack("prod");
    }, 120000);
    afterAll(() => {
        for (const rendered of Object.values(stacks)) {
            fs.rmSync(rendered.dir, { recursive: true, force: true });
        }
    });
    return stacks;
}
