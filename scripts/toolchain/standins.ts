/**
 * The stand-in random and TLS providers: the module proxy refuses github.com/pulumi/pulumi-random/provider/v4,
 * github.com/pulumi/pulumi-tls/provider/v5 and the Terraform providers they bridge at every version, so the
 * real ones cannot be built here. `tests/toolchain/standin-providers/` is a module of our own, on the same
 * sdk/v3 as the CLI, that implements what the program uses of them as the real bridged providers do (see its
 * README.md); its binaries report the versions the SDKs ask for with a `+standin` build suffix.
 */
import type { GoToolRecipe } from "./recipe";

export const standinProviders: GoToolRecipe = {
    name: "pulumi-standin-providers",
    version: "v1",
    wrapper: "standin-providers",
    binaries: [
        { pkg: "./cmd/pulumi-resource-random", out: "pulumi-resource-random" },
        { pkg: "./cmd/pulumi-resource-tls", out: "pulumi-resource-tls" },
    ],
    note:
        "stand-ins of our own for random 4.21.2 and tls 5.6.1 (reported as 4.21.2+standin and 5.6.1+standin): " +
        "the module proxy refuses pulumi-random/provider/v4, pulumi-tls/provider/v5 and the Terraform " +
        "providers they bridge at every version",
};
