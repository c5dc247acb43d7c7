// STAND-IN for the Pulumi Command provider (pulumi-resource-command 1.2.1), written for this project.
//
// Why: the program uses @pulumi/command 1.2.1 (remote.Command and remote.CopyToRemote provision the push-proxy
// VM over SSH), and its tests run the real Pulumi CLI with the real Node.js language host. The Go module proxy
// reachable here refuses github.com/pulumi/pulumi-command/provider at every version, so the real provider
// cannot be built. This program speaks the same ResourceProvider gRPC protocol (pulumirpc, from
// github.com/pulumi/pulumi/sdk/v3 v3.276.0) and implements the two resources the program uses the way the
// upstream provider does (its provider/pkg/provider/remote and common packages, read to learn their
// semantics, not copied): real SSH with golang.org/x/crypto/ssh and real SFTP with github.com/pkg/sftp.
//
// Implemented: command:remote:Command and command:remote:CopyToRemote (Check with the schema defaults,
// Diff, Create, Update, Delete, Read, and previews), and the provider's own CheckConfig/DiffConfig/Configure.
// Not implemented: command:local:Command, command:remote:CopyFile, the local:run invoke, GetSchema, Construct,
// Call and the other methods, which answer Unimplemented. See README.md beside go.mod for the details and for
// the places where upstream's exact code could not be read.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// providerName is the package the engine loads this plugin for.
const providerName = "command"

// providerVersion is what GetPluginInfo reports: the version of the SDK it stands in for, marked as ours.
const providerVersion = "1.2.1+standin"

func main() {
	err := provider.Main(providerName, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newProvider(host), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
