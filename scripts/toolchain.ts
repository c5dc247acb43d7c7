/**
 * `npm run -s toolchain -- build`: builds (or reuses) the real toolchain from its Go modules into the cache,
 * and fetches (or reuses) the Keycloak distribution from Maven Central.
 * `npm run -s toolchain -- env`: the same, then prints the `export` lines that make the README's `pulumi`
 * commands work as written: `eval "$(npm run -s toolchain -- env)"`.
 * `npm run -s toolchain -- status`: what is built, and which versions differ from those asked for, and why.
 */
import { parseArgs } from "node:util";
import { binDir, cacheRoot, isBuilt } from "./toolchain/build";
import { keycloakStatus } from "./toolchain/keycloak";
import { allRecipes, ensureToolchain, pulumiEnvironment } from "./toolchain/tools";

const usage = "usage: npm run -s toolchain -- build | env | status";

function log(line: string): void {
    process.stderr.write(`toolchain: ${line}\n`);
}

function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

function printStatus(): void {
    console.log(`cache: ${cacheRoot()}`);
    for (const recipe of allRecipes) {
        const state = isBuilt(recipe) ? "built" : "not built";
        console.log(`${recipe.name} ${recipe.version}: ${state} (${binDir(recipe)})`);
        if (recipe.note) {
            console.log(`    ${recipe.note}`);
        }
    }
    console.log(keycloakStatus());
}

function main(): void {
    const { positionals } = parseArgs({ allowPositionals: true, options: {} });
    const command = positionals[0];
    if (command === "status") {
        printStatus();
        return;
    }
    if (command !== "build" && command !== "env") {
        throw new UsageError(usage);
    }
    ensureToolchain(log);
    if (command === "env") {
        for (const [name, value] of Object.entries(pulumiEnvironment())) {
            console.log(`export ${name}=${shellQuote(value)}`);
        }
    }
}

class UsageError extends Error {}

try {
    main();
} catch (error: unknown) {
    const known = error instanceof UsageError || error instanceof TypeError;
    console.error(known ? error.message : error);
    process.exit(error instanceof UsageError ? 2 : 1);
}
