/**
 * A STAND-IN for the Pulumi Command provider (`pulumi-resource-command`), written by us: the program uses
 * @pulumi/command 1.2.1 (`remote.Command` and `remote.CopyToRemote` provision the push-proxy VM over SSH), and
 * the module proxy reachable here refuses `github.com/pulumi/pulumi-command/provider` at every version, so the
 * real provider cannot be built. The stand-in (tests/toolchain/standin-command/, see its README.md) implements
 * those two resources as the real provider does, over real SSH (golang.org/x/crypto/ssh) and SFTP
 * (github.com/pkg/sftp), against the Pulumi SDK of the CLI the tests run (sdk/v3 v3.276.0). Everything else of
 * the package (local.Command, remote.CopyFile, the local.run invoke) is not implemented.
 *
 * The CLI runs a `pulumi-resource-command` it finds on PATH before any installed plugin, whatever version the
 * program asks for; the stand-in reports its version as `1.2.1+standin`.
 */
import type { GoToolRecipe } from "./recipe";

export const standinCommandRecipe: GoToolRecipe = {
    name: "pulumi-standin-command",
    version: "v1",
    wrapper: "standin-command",
    binaries: [{ pkg: "./cmd/pulumi-resource-command", out: "pulumi-resource-command" }],
    env: { CGO_ENABLED: "0" },
    note:
        "a stand-in written by us for pulumi-resource-command 1.2.1 (remote.Command and remote.CopyToRemote " +
        "only): the module proxy refuses github.com/pulumi/pulumi-command/provider at every version",
};
