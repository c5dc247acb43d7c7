/**
 * Builds the tools of `recipe.ts` into the cache, once per version: the binaries of a recipe are reused as
 * long as its version, its wrapper module and its recipe are unchanged. Go's own build and module caches
 * (`go env GOCACHE GOMODCACHE`, under the home directory) keep the compiled packages and the downloaded
 * modules, so even a changed pin rebuilds only what changed.
 *
 * The cache root is `$MM_TOOLCHAIN_CACHE`, else `~/.cache/mattermost-platform/toolchain`:
 *   <root>/<name>-<version>/bin/       the binaries
 *   <root>/<name>-<version>/recipe     the hash they were built from (written last, so a cut build rebuilds)
 *   <root>/build/<name>-<version>/     the writable copy of the wrapper module the build ran in
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { GoRunner, GoToolRecipe } from "./recipe";

const projectDir = path.resolve(__dirname, "..", "..");

export function cacheRoot(): string {
    return process.env.MM_TOOLCHAIN_CACHE ?? path.join(os.homedir(), ".cache", "mattermost-platform", "toolchain");
}

export function toolDir(recipe: GoToolRecipe): string {
    return path.join(cacheRoot(), `${recipe.name}-${recipe.version}`);
}

export function binDir(recipe: GoToolRecipe): string {
    return path.join(toolDir(recipe), "bin");
}

function wrapperDir(recipe: GoToolRecipe): string {
    return path.join(projectDir, "tests", "toolchain", recipe.wrapper);
}

/** The hash of everything a build depends on that is ours: the recipe and the wrapper module's files. */
export function recipeHash(recipe: GoToolRecipe): string {
    const hash = crypto.createHash("sha256");
    hash.update(
        JSON.stringify({
            ...recipe,
            prepare: Boolean(recipe.prepare),
            finish: Boolean(recipe.finish),
            hooksSource: recipe.hooksSource ? fs.readFileSync(recipe.hooksSource, "utf8") : null,
            goVersion: goVersion(),
        }),
    );
    for (const file of filesUnder(wrapperDir(recipe))) {
        hash.update(file).update(fs.readFileSync(path.join(wrapperDir(recipe), file)));
    }
    return hash.digest("hex");
}

/** Every file of a directory tree, as sorted relative paths. */
function filesUnder(dir: string): string[] {
    return fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
        .sort();
}

/** The oldest Go the wrapper modules build with (the Pulumi CLI's go.mod asks for 1.26.6). */
const minimumGo = [1, 26, 6];

let cachedGoVersion: string | undefined;
function goVersion(): string {
    cachedGoVersion ??= execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
    const parts = cachedGoVersion.replace(/^go/, "").split(".").map(Number);
    const older = minimumGo.findIndex((wanted, i) => (parts[i] ?? 0) !== wanted);
    if (older >= 0 && (parts[older] ?? 0) < (minimumGo[older] ?? 0)) {
        throw new Error(
            `The toolchain needs Go >= ${minimumGo.join(".")}, and the first go on PATH is ${cachedGoVersion}. ` +
                "Put a newer Go first on PATH (these machines have one in /usr/local/go/bin).",
        );
    }
    return cachedGoVersion;
}

export function isBuilt(recipe: GoToolRecipe): boolean {
    const stamp = path.join(toolDir(recipe), "recipe");
    if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8").trim() !== recipeHash(recipe)) {
        return false;
    }
    return recipe.binaries.every((binary) => fs.existsSync(path.join(binDir(recipe), binary.out)));
}

/**
 * The proxy is the only registry reached here; without `direct` a refused module fails at once instead of
 * trying to clone from a host that cannot be resolved. The checksum database stays on, as go.sum's check.
 */
const goEnvironment: Readonly<Record<string, string>> = {
    GOPROXY:
        process.env.GOPROXY && !process.env.GOPROXY.includes("direct")
            ? process.env.GOPROXY
            : "https://proxy.golang.org",
    GOFLAGS: "-mod=readonly",
    GOTOOLCHAIN: "local",
};

export const runGo: GoRunner = (args, cwd, env = {}) =>
    execFileSync("go", args, {
        cwd,
        encoding: "utf8",
        env: { ...process.env, ...goEnvironment, ...env },
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 64 * 1024 * 1024,
    });

function copyWrapper(recipe: GoToolRecipe): string {
    const buildDir = path.join(cacheRoot(), "build", `${recipe.name}-${recipe.version}`);
    fs.rmSync(buildDir, { recursive: true, force: true });
    fs.cpSync(wrapperDir(recipe), buildDir, { recursive: true });
    return buildDir;
}

export function build(recipe: GoToolRecipe, log: (line: string) => void): void {
    const started = Date.now();
    log(`building ${recipe.name} ${recipe.version} from its Go module (cache: ${toolDir(recipe)})`);
    const buildDir = copyWrapper(recipe);
    recipe.prepare?.(buildDir, runGo);
    fs.rmSync(toolDir(recipe), { recursive: true, force: true });
    fs.mkdirSync(binDir(recipe), { recursive: true });
    for (const binary of recipe.binaries) {
        const ldflags = (recipe.ldflags ?? []).join(" ");
        runGo(
            ["build", "-trimpath", "-ldflags", ldflags, "-o", path.join(binDir(recipe), binary.out), binary.pkg],
            buildDir,
            recipe.env,
        );
    }
    recipe.finish?.(toolDir(recipe), buildDir, runGo);
    fs.writeFileSync(path.join(toolDir(recipe), "recipe"), `${recipeHash(recipe)}\n`);
    log(`built ${recipe.name} ${recipe.version} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Builds whatever of `recipes` is missing or stale; returns the `bin/` directories in order. */
export function ensureTools(recipes: readonly GoToolRecipe[], log: (line: string) => void): string[] {
    for (const recipe of recipes) {
        if (!isBuilt(recipe)) {
            build(recipe, log);
        }
    }
    return recipes.map(binDir);
}
