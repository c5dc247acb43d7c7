/**
 * The Pulumi engine and the providers the program asks for, each built from its published Go module at
 * the version `package-lock.json` asks for, or the nearest one the module proxy reachable here serves.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GoRunner, GoToolRecipe } from "./recipe";

const pulumiVersion = "v3.276.0";

export const pulumiCli: GoToolRecipe = {
    name: "pulumi",
    version: pulumiVersion,
    wrapper: "pulumi",
    binaries: [{ pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", out: "pulumi" }],
    ldflags: [`-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${pulumiVersion}`],
};

const languageHostVersion = "v3.68.0";

export const nodejsLanguageHost: GoToolRecipe = {
    name: "pulumi-language-nodejs",
    version: languageHostVersion,
    wrapper: "language-nodejs",
    binaries: [
        { pkg: "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs", out: "pulumi-language-nodejs" },
    ],
    ldflags: [`-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${languageHostVersion}`],
    note:
        "its own module (sdk/nodejs/cmd/pulumi-language-nodejs/v3) is refused by the module proxy at every " +
        "version; v3.68.0 is the last sdk/v3 release that carried the host as a package",
};

/** The provider commit the module proxy serves; 4.34.2 (and its tags' commits) are refused. */
const kubernetesProviderModule = "github.com/pulumi/pulumi-kubernetes/provider/v4";
const kubernetesProviderVersion = "v4.0.0-20260115033456-f47bc2d6f199";

/**
 * The provider's command embeds `schema-embed.json` and `terraform-mapping-embed.json`, which its own
 * `generate.go` makes from files the module does carry. The module cache is read-only, so the module is
 * copied into the build directory (where the wrapper's `replace` points), made writable, and generated.
 */
function prepareKubernetesProvider(buildDir: string, go: GoRunner): void {
    const download = JSON.parse(
        go(["mod", "download", "-json", `${kubernetesProviderModule}@${kubernetesProviderVersion}`], buildDir),
    ) as { Dir: string };
    const copy = path.join(buildDir, "provider");
    fs.cpSync(download.Dir, copy, { recursive: true });
    makeWritable(copy);
    // Its go.mod replaces the SDK with a sibling directory that the zip lacks; the generator runs in the
    // provider's own module, so that replace is dropped for the SDK version the same go.mod requires.
    go(["mod", "edit", "-dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4"], copy);
    const commandDir = path.join(copy, "cmd", "pulumi-resource-kubernetes");
    go(["run", "./generate.go"], commandDir, { VERSION: kubernetesProviderVersion.slice(1) });
}

function makeWritable(dir: string): void {
    fs.chmodSync(dir, 0o755);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const entryPath = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            makeWritable(entryPath);
        } else {
            fs.chmodSync(entryPath, 0o644);
        }
    }
}

export const kubernetesProvider: GoToolRecipe = {
    name: "pulumi-resource-kubernetes",
    version: kubernetesProviderVersion,
    wrapper: "kubernetes-provider",
    binaries: [
        {
            pkg: `${kubernetesProviderModule}/cmd/pulumi-resource-kubernetes`,
            out: "pulumi-resource-kubernetes",
        },
    ],
    ldflags: [`-X ${kubernetesProviderModule}/pkg/version.Version=${kubernetesProviderVersion.slice(1)}`],
    prepare: prepareKubernetesProvider,
    hooksSource: __filename,
    note:
        "4.34.2 is refused by the module proxy; this is the one provider commit it serves (2026-01-15, " +
        "built against client-go v0.33)",
};

export const pulumiRecipes: readonly GoToolRecipe[] = [pulumiCli, nodejsLanguageHost, kubernetesProvider];
