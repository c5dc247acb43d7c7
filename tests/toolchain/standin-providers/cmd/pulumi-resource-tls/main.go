// pulumi-resource-tls is a STAND-IN for the Pulumi TLS provider 5.6.1, written by this project: the Go
// module proxy refuses github.com/pulumi/pulumi-tls/provider/v5 (and the Terraform provider it bridges)
// at every version, so the real provider cannot be built here. It implements
// tls:index/privateKey:PrivateKey, tls:index/certRequest:CertRequest,
// tls:index/selfSignedCert:SelfSignedCert and tls:index/locallySignedCert:LocallySignedCert as the real
// bridged provider does, and reports the version 5.6.1+standin. See ../../README.md.
package main

import (
	"fmt"
	"os"

	"mattermost-platform/toolchain/standin-providers/internal/standin"
	"mattermost-platform/toolchain/standin-providers/internal/tls"
)

func main() {
	if err := standin.Serve(tls.Provider()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
