// pulumi-resource-random is a STAND-IN for the Pulumi random provider 4.21.2, written by this project:
// the Go module proxy refuses github.com/pulumi/pulumi-random/provider/v4 (and the Terraform provider it
// bridges) at every version, so the real provider cannot be built here. It implements
// random:index/randomPassword:RandomPassword as the real bridged provider does, and reports the version
// 4.21.2+standin. See ../../README.md.
package main

import (
	"fmt"
	"os"

	"mattermost-platform/toolchain/standin-providers/internal/random"
	"mattermost-platform/toolchain/standin-providers/internal/standin"
)

func main() {
	if err := standin.Serve(random.Provider()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
