// tlsprobe checks TLS trust the way Mattermost (a Go program) does it: with Go's system certificate
// pool, which honours SSL_CERT_FILE and SSL_CERT_DIR.
//
//	tlsprobe get <https URL>        GET the URL; prints "ok <status>" or the error
//	tlsprobe root <certificate.pem> verify a root certificate against the system pool
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Println("usage: tlsprobe get <url> | tlsprobe root <pem file>")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "get":
		client := &http.Client{Timeout: 5 * time.Second}
		response, err := client.Get(os.Args[2])
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		response.Body.Close()
		fmt.Println("ok", response.StatusCode)
	case "root":
		data, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		block, _ := pem.Decode(data)
		if block == nil {
			fmt.Println("error: no PEM block")
			os.Exit(1)
		}
		certificate, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		// Roots left nil: Go verifies against the system pool, as every Mattermost client does.
		if _, err := certificate.Verify(x509.VerifyOptions{}); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ok", certificate.Subject.CommonName)
	default:
		fmt.Println("unknown mode", os.Args[1])
		os.Exit(2)
	}
}
