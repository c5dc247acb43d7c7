/** Every tool of the real toolchain, and the environment that puts them where the Pulumi CLI finds them. */
import * as fs from "node:fs";
import * as path from "node:path";
import { binDir, cacheRoot, ensureTools, runGo } from "./build";
import { clusterRecipes } from "./cluster";
import { ensureKeycloak } from "./keycloak";
import { peerRecipes } from "./peers";
import { kubernetesProvider, nodejsLanguageHost, pulumiCli } from "./pulumi";
import type { GoToolRecipe } from "./recipe";
import { standinCommandRecipe } from "./standinCommand";
import { standinProviders } from "./standins";

/** The plugins the program needs, found by the CLI on PATH. */
const providerRecipes: readonly GoToolRecipe[] = [kubernetesProvider, standinProviders, standinCommandRecipe];

/** kubectl, to look around the local cluster (`npm run cluster`). */
const kubectlRecipe = clusterRecipes.find((recipe) => recipe.binaries.some((binary) => binary.out === "kubectl"));

export const allRecipes: readonly GoToolRecipe[] = [
    pulumiCli,
    nodejsLanguageHost,
    ...providerRecipes,
    ...clusterRecipes,
    ...peerRecipes,
];

/**
 * The CLI takes a language host from beside its own binary, as the released archive ships them; found
 * anywhere else on PATH it works too, but every command then warns about it. So the host is linked
 * into the CLI's bin directory.
 */
function placeLanguageHostBesideCli(): void {
    const source = path.join(binDir(nodejsLanguageHost), "pulumi-language-nodejs");
    const target = path.join(binDir(pulumiCli), "pulumi-language-nodejs");
    fs.rmSync(target, { force: true });
    try {
        fs.linkSync(source, target);
    } catch {
        fs.copyFileSync(source, target);
        fs.chmodSync(target, 0o755);
    }
}

/**
 * The plugin that runs the program's dynamic providers (the upgrade check's release record, the
 * integrations) is a shell script the CLI's release archive ships beside the language host; it starts
 * the dynamic-provider program of the project's own `@pulumi/pulumi`. Taken from the SDK module of the
 * CLI's version, where the archive takes it from.
 */
function placeDynamicProviderPlugin(): void {
    const sdk = JSON.parse(
        runGo(["mod", "download", "-json", `github.com/pulumi/pulumi/sdk/v3@${pulumiCli.version}`], cacheRoot()),
    ) as { Dir: string };
    const script = "pulumi-resource-pulumi-nodejs";
    const target = path.join(binDir(pulumiCli), script);
    fs.copyFileSync(path.join(sdk.Dir, "nodejs", "dist", script), target);
    fs.chmodSync(target, 0o755);
}

/**
 * Builds what is missing, then lays the binaries out as the CLI expects them; and fetches the Keycloak
 * distribution the identity suite runs (scripts/toolchain/keycloak.ts).
 */
export function ensureToolchain(log: (line: string) => void): void {
    ensureTools(allRecipes, log);
    placeLanguageHostBesideCli();
    placeDynamicProviderPlugin();
    ensureKeycloak(log);
}

/**
 * The CLI runs resource plugins found on PATH before any installed ones (it says so with a warning, since
 * their versions differ from those the SDK asks for: see `npm run -s toolchain -- status`), and nothing is
 * ever downloaded or checked for updates: no such host is reachable here.
 */
export function pulumiEnvironment(): Record<string, string> {
    const bins = [pulumiCli, ...providerRecipes, ...(kubectlRecipe ? [kubectlRecipe] : [])].map(binDir);
    return {
        PATH: [...bins, process.env.PATH ?? ""].join(":"),
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
}
