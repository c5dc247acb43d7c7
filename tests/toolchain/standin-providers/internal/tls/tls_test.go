// Tests of the STAND-IN TLS provider (see ../../README.md): the key encodings, a CA and server chain that
// verifies with crypto/x509, the replacement rules, early renewal and previews with unknown inputs.

package tls

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // checks the upstream ID scheme
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"mattermost-platform/toolchain/standin-providers/internal/standin"
)

type noEnv struct{}

func (noEnv) Warn(context.Context, string) {}

func props(kv ...any) resource.PropertyMap {
	m := resource.PropertyMap{}
	for i := 0; i < len(kv); i += 2 {
		m[resource.PropertyKey(kv[i].(string))] = resource.NewPropertyValue(kv[i+1])
	}
	return m
}

func create(t *testing.T, r *standin.Resource, config resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	if _, failures := r.Check(context.Background(), noEnv{}, config); len(failures) > 0 {
		t.Fatalf("check: %v", failures)
	}
	id, outputs, err := r.CreateState(context.Background(), noEnv{}, config, false)
	if err != nil {
		t.Fatal(err)
	}
	state := standin.Unwrap(resource.NewObjectProperty(outputs)).ObjectValue()
	if id == "" || id != state["id"].StringValue() {
		t.Fatalf("id %q, state id %v", id, state["id"])
	}
	return state
}

func str(state resource.PropertyMap, key resource.PropertyKey) string {
	return standin.AsString(state[key])
}

func TestPrivateKeyEncodings(t *testing.T) {
	r := PrivateKey()
	for _, c := range []struct {
		config resource.PropertyMap
		ssh    bool
	}{
		{props("algorithm", "RSA"), true},
		{props("algorithm", "ECDSA", "ecdsaCurve", "P256"), true},
		{props("algorithm", "ECDSA"), false}, // P224, which x/crypto/ssh does not handle
		{props("algorithm", "ED25519"), true},
	} {
		state := create(t, r, c.config)
		if str(state, "ecdsaCurve") == "" || standin.AsInt(state["rsaBits"]) != 2048 {
			t.Errorf("defaults: %v", state)
		}
		key, algorithm, err := parsePrivateKeyPEM([]byte(str(state, "privateKeyPem")))
		if err != nil || algorithm != str(state, "algorithm") {
			t.Fatalf("privateKeyPem: %v %s", err, algorithm)
		}
		block, _ := pem.Decode([]byte(str(state, "privateKeyPemPkcs8")))
		if block == nil || block.Type != "PRIVATE KEY" {
			t.Fatal("privateKeyPemPkcs8")
		}
		if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
			t.Fatal(err)
		}
		pubBlock, _ := pem.Decode([]byte(str(state, "publicKeyPem")))
		pub, err := x509.ParsePKIXPublicKey(pubBlock.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(pubBlock.Bytes) //nolint:gosec // the upstream ID scheme
		if str(state, "id") != hex.EncodeToString(sum[:]) {
			t.Errorf("id %s is not the SHA-1 of the public key", str(state, "id"))
		}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			if !k.PublicKey.Equal(pub) || !strings.HasPrefix(str(state, "privateKeyPem"), "-----BEGIN RSA PRIVATE KEY-----\n") {
				t.Error("RSA encodings")
			}
		case *ecdsa.PrivateKey:
			if !k.PublicKey.Equal(pub) || !strings.HasPrefix(str(state, "privateKeyPem"), "-----BEGIN EC PRIVATE KEY-----\n") {
				t.Error("ECDSA encodings")
			}
		case ed25519.PrivateKey:
			if !k.Public().(ed25519.PublicKey).Equal(pub) || !strings.HasPrefix(str(state, "privateKeyPem"), "-----BEGIN PRIVATE KEY-----\n") {
				t.Error("ED25519 encodings")
			}
		}
		if !c.ssh {
			if str(state, "privateKeyOpenssh") != "" || str(state, "publicKeyOpenssh") != "" ||
				str(state, "publicKeyFingerprintMd5") != "" || str(state, "publicKeyFingerprintSha256") != "" {
				t.Errorf("P224 must have empty OpenSSH encodings: %v", state)
			}
			continue
		}
		sshPub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(str(state, "publicKeyOpenssh")))
		if err != nil || !strings.HasSuffix(str(state, "publicKeyOpenssh"), "\n") {
			t.Fatalf("publicKeyOpenssh: %v", err)
		}
		if ssh.FingerprintSHA256(sshPub) != str(state, "publicKeyFingerprintSha256") ||
			!strings.HasPrefix(str(state, "publicKeyFingerprintSha256"), "SHA256:") ||
			ssh.FingerprintLegacyMD5(sshPub) != str(state, "publicKeyFingerprintMd5") ||
			len(str(state, "publicKeyFingerprintMd5")) != 47 {
			t.Error("fingerprints")
		}
		if _, err := ssh.ParseRawPrivateKey([]byte(str(state, "privateKeyOpenssh"))); err != nil {
			t.Errorf("privateKeyOpenssh: %v", err)
		}
	}
}

func TestPrivateKeyCheckAndDiff(t *testing.T) {
	r := PrivateKey()
	for _, config := range []resource.PropertyMap{{}, props("algorithm", "DSA"), props("algorithm", "ECDSA", "ecdsaCurve", "P999")} {
		if _, failures := r.Check(context.Background(), noEnv{}, config); len(failures) == 0 {
			t.Errorf("%v: expected a failure", config)
		}
	}
	config := props("algorithm", "ECDSA", "ecdsaCurve", "P256")
	state := create(t, r, config)
	if diff, _ := r.Diff(state, config); diff.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("unchanged: %v", diff)
	}
	diff, _ := r.Diff(state, props("algorithm", "ECDSA"))
	if strings.Join(diff.Replaces, ",") != "ecdsaCurve" {
		t.Errorf("curve change: %v", diff)
	}
	_, outputs, _ := r.CreateState(context.Background(), noEnv{}, config, false)
	for _, key := range []resource.PropertyKey{"privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"} {
		if !outputs[key].IsSecret() {
			t.Errorf("%s must be a secret", key)
		}
	}
	if outputs["__meta"].StringValue() != `{"schema_version":"1"}` || outputs["publicKeyPem"].IsSecret() {
		t.Error("__meta, publicKeyPem")
	}
}

type chain struct {
	caKey, ca, serverKey, request, server resource.PropertyMap
	caConfig, requestConfig, serverConfig resource.PropertyMap
}

// newChain builds the program's chain (components/privateCa.ts): a P-256 CA and a server certificate.
func newChain(t *testing.T) chain {
	var c chain
	c.caKey = create(t, PrivateKey(), props("algorithm", "ECDSA", "ecdsaCurve", "P256"))
	c.caConfig = props("privateKeyPem", str(c.caKey, "privateKeyPem"), "isCaCertificate", true,
		"subject", map[string]any{"commonName": "Test CA", "organization": "mattermost-platform"},
		"validityPeriodHours", 10*365*24, "earlyRenewalHours", 365*24,
		"allowedUses", []any{"cert_signing", "crl_signing"})
	c.ca = create(t, SelfSignedCert(), c.caConfig)
	c.serverKey = create(t, PrivateKey(), props("algorithm", "ECDSA", "ecdsaCurve", "P256"))
	c.requestConfig = props("privateKeyPem", str(c.serverKey, "privateKeyPem"),
		"subject", map[string]any{"commonName": "server.test"},
		"dnsNames", []any{"server.test", "alt.server.test"}, "ipAddresses", []any{"127.0.0.1"})
	c.request = create(t, CertRequest(), c.requestConfig)
	c.serverConfig = props("certRequestPem", str(c.request, "certRequestPem"),
		"caPrivateKeyPem", str(c.caKey, "privateKeyPem"), "caCertPem", str(c.ca, "certPem"),
		"validityPeriodHours", 365*24, "earlyRenewalHours", 30*24,
		"allowedUses", []any{"digital_signature", "key_encipherment", "server_auth"})
	c.server = create(t, LocallySignedCert(), c.serverConfig)
	return c
}

func parseCert(t *testing.T, pemText string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a certificate: %q", pemText)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestChainVerifies(t *testing.T) {
	c := newChain(t)
	ca, server := parseCert(t, str(c.ca, "certPem")), parseCert(t, str(c.server, "certPem"))
	if !ca.IsCA || ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign || len(ca.SubjectKeyId) == 0 ||
		ca.Subject.CommonName != "Test CA" || ca.Subject.Organization[0] != "mattermost-platform" {
		t.Errorf("CA certificate: %+v", ca)
	}
	if server.IsCA || server.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment ||
		len(server.ExtKeyUsage) != 1 || server.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("server certificate: %+v", server)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"server.test", "alt.server.test", "127.0.0.1"} {
		if _, err := server.Verify(x509.VerifyOptions{Roots: roots, DNSName: name,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify %s: %v", name, err)
		}
	}
	if str(c.server, "id") != server.SerialNumber.String() || str(c.ca, "keyAlgorithm") != "ECDSA" ||
		str(c.server, "caKeyAlgorithm") != "ECDSA" || str(c.request, "keyAlgorithm") != "ECDSA" {
		t.Error("ids and algorithms")
	}
	start, err1 := time.Parse(time.RFC3339, str(c.server, "validityStartTime"))
	end, err2 := time.Parse(time.RFC3339, str(c.server, "validityEndTime"))
	if err1 != nil || err2 != nil || end.Sub(start) != 365*24*time.Hour || !server.NotAfter.Equal(end.Truncate(time.Second)) {
		t.Errorf("validity: %v %v %v %v", start, end, err1, err2)
	}
	if standin.AsBool(c.server["readyForRenewal"]) || standin.AsInt(c.server["maxPathLength"]) != -1 ||
		standin.AsBool(c.server["isCaCertificate"]) || standin.AsBool(c.server["setSubjectKeyId"]) {
		t.Errorf("defaults: %v", c.server)
	}
	block, _ := pem.Decode([]byte(str(c.request, "certRequestPem")))
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || req.CheckSignature() != nil || len(req.DNSNames) != 2 || req.Subject.CommonName != "server.test" {
		t.Errorf("request: %v", err)
	}
	if sum := sha1.Sum(block.Bytes); str(c.request, "id") != hex.EncodeToString(sum[:]) { //nolint:gosec // upstream ID
		t.Error("request id")
	}
}

func TestUnchangedChainHasNoDiff(t *testing.T) {
	c := newChain(t)
	for name, d := range map[string]struct {
		r             *standin.Resource
		state, config resource.PropertyMap
	}{
		"ca":      {SelfSignedCert(), c.ca, c.caConfig},
		"request": {CertRequest(), c.request, c.requestConfig},
		"server":  {LocallySignedCert(), c.server, c.serverConfig},
	} {
		diff, err := d.r.Diff(d.state, d.config)
		if err != nil || diff.Changes != pulumirpc.DiffResponse_DIFF_NONE {
			t.Errorf("%s: %v %v", name, diff, err)
		}
		outputs, inputs, err := d.r.ReadState(str(d.state, "id"), d.state, d.config)
		if err != nil || !standin.Equal(resource.NewObjectProperty(standin.Unwrap(resource.NewObjectProperty(outputs)).ObjectValue()),
			resource.NewObjectProperty(d.state)) || len(inputs) != len(d.config) {
			t.Errorf("%s: refresh must change nothing: %v", name, err)
		}
	}
}

func TestCertificateReplaceRules(t *testing.T) {
	c := newChain(t)
	r := LocallySignedCert()
	for _, tc := range []struct {
		key     string
		value   any
		replace string
	}{
		{"earlyRenewalHours", 10 * 24, ""},
		{"validityPeriodHours", 100, "validityPeriodHours"},
		{"allowedUses", []any{"client_auth"}, "allowedUses"},
		{"isCaCertificate", true, "isCaCertificate"},
		{"certRequestPem", str(c.request, "certRequestPem") + "\n", "certRequestPem"},
		{"caPrivateKeyPem", nil, "caPrivateKeyPem"}, // unknown, as in a preview
	} {
		config := c.serverConfig.Copy()
		if tc.value == nil {
			config[resource.PropertyKey(tc.key)] = standin.Unknown()
		} else {
			config[resource.PropertyKey(tc.key)] = resource.NewPropertyValue(tc.value)
		}
		diff, err := r.Diff(c.server, config)
		if err != nil || diff.Changes != pulumirpc.DiffResponse_DIFF_SOME || strings.Join(diff.Replaces, ",") != tc.replace {
			t.Errorf("%s: %v %v", tc.key, diff, err)
		}
		if tc.replace == "" {
			updated, err := r.UpdateState(c.server, config, false)
			if err != nil || standin.AsInt(updated["earlyRenewalHours"]) != 10*24 || standin.AsString(updated["certPem"]) != str(c.server, "certPem") {
				t.Errorf("in-place update: %v %v", updated, err)
			}
		}
	}
	// A subject change replaces the self-signed CA; so does a new key.
	config := c.caConfig.Copy()
	config["subject"] = resource.NewPropertyValue(map[string]any{"commonName": "Other CA", "organization": "mattermost-platform"})
	if diff, _ := SelfSignedCert().Diff(c.ca, config); strings.Join(diff.Replaces, ",") != "subject" {
		t.Errorf("subject: %v", diff.Replaces)
	}
}

func TestReadyForRenewal(t *testing.T) {
	c := newChain(t)
	defer func() { Now = time.Now }()
	r := LocallySignedCert()
	end, _ := time.Parse(time.RFC3339, str(c.server, "validityEndTime"))

	Now = func() time.Time { return end.Add(-31 * 24 * time.Hour) }
	outputs, _, _ := r.ReadState(str(c.server, "id"), c.server, c.serverConfig)
	if standin.AsBool(outputs["readyForRenewal"]) {
		t.Fatal("31 days before the end: not yet due")
	}
	if diff, _ := r.Diff(c.server, c.serverConfig); diff.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("not yet due: %v", diff)
	}

	Now = func() time.Time { return end.Add(-30 * 24 * time.Hour) }
	// Without a refresh, the plan already replaces the certificate.
	if diff, _ := r.Diff(c.server, c.serverConfig); strings.Join(diff.Replaces, ",") != "readyForRenewal" {
		t.Fatalf("due, before a refresh: %v", diff)
	}
	outputs, _, _ = r.ReadState(str(c.server, "id"), c.server, c.serverConfig)
	refreshed := standin.Unwrap(resource.NewObjectProperty(outputs)).ObjectValue()
	if !standin.AsBool(refreshed["readyForRenewal"]) {
		t.Fatal("due: a refresh must set readyForRenewal")
	}
	diff, _ := r.Diff(refreshed, c.serverConfig)
	if strings.Join(diff.Replaces, ",") != "readyForRenewal" ||
		diff.DetailedDiff["readyForRenewal"].Kind != pulumirpc.PropertyDiff_UPDATE_REPLACE {
		t.Fatalf("due, after a refresh: %v", diff)
	}

	// A certificate renewed early by its whole validity is ready at once.
	config := c.serverConfig.Copy()
	config["validityPeriodHours"] = standin.Int(1)
	config["earlyRenewalHours"] = standin.Int(1)
	Now = time.Now
	if state := create(t, r, config); !standin.AsBool(state["readyForRenewal"]) {
		t.Error("early >= validity: ready at creation")
	}
}

func TestPreviewWithUnknownKey(t *testing.T) {
	config := props("subject", map[string]any{"commonName": "server.test"}, "dnsNames", []any{"server.test"})
	config["privateKeyPem"] = standin.Unknown()
	r := CertRequest()
	if _, failures := r.Check(context.Background(), noEnv{}, config); len(failures) != 0 {
		t.Fatalf("check: %v", failures)
	}
	_, outputs, err := r.CreateState(context.Background(), noEnv{}, config, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []resource.PropertyKey{"privateKeyPem", "certRequestPem", "keyAlgorithm", "id"} {
		if !standin.IsUnknown(standin.Get(outputs, key)) {
			t.Errorf("%s must be unknown in the preview: %v", key, outputs[key])
		}
	}
	if !standin.Equal(outputs["dnsNames"], standin.StrList([]string{"server.test"})) {
		t.Error("known inputs stay known")
	}
	if _, _, err := r.CreateState(context.Background(), noEnv{}, config, false); err == nil {
		t.Error("an unknown key cannot be created")
	}

	ca := SelfSignedCert()
	caConfig := props("isCaCertificate", true, "subject", map[string]any{"commonName": "CA"},
		"validityPeriodHours", 24, "allowedUses", []any{"cert_signing"})
	caConfig["privateKeyPem"] = standin.Unknown()
	_, outputs, err = ca.CreateState(context.Background(), noEnv{}, caConfig, true)
	if err != nil || !standin.IsUnknown(outputs["certPem"]) || standin.AsBool(outputs["readyForRenewal"]) ||
		standin.AsInt(outputs["earlyRenewalHours"]) != 0 {
		t.Errorf("self-signed preview: %v %v", outputs, err)
	}
}

func TestCertificateCheckFailures(t *testing.T) {
	key := create(t, PrivateKey(), props("algorithm", "ED25519"))
	pemKey := str(key, "privateKeyPem")
	r := SelfSignedCert()
	for name, config := range map[string]resource.PropertyMap{
		"no key":        props("validityPeriodHours", 1, "allowedUses", []any{"server_auth"}),
		"two keys":      props("privateKeyPem", pemKey, "privateKeyPemWo", pemKey, "privateKeyPemWoVersion", 1, "validityPeriodHours", 1, "allowedUses", []any{}),
		"wo no version": props("privateKeyPemWo", pemKey, "validityPeriodHours", 1, "allowedUses", []any{}),
		"bad use":       props("privateKeyPem", pemKey, "validityPeriodHours", 1, "allowedUses", []any{"serverAuth"}),
		"negative":      props("privateKeyPem", pemKey, "validityPeriodHours", -1, "allowedUses", []any{}),
		"no uses":       props("privateKeyPem", pemKey, "validityPeriodHours", 1),
	} {
		if _, failures := r.Check(context.Background(), noEnv{}, config); len(failures) == 0 {
			t.Errorf("%s: expected a failure", name)
		}
	}
	config := props("privateKeyPem", pemKey, "validityPeriodHours", 1, "allowedUses", []any{"cert_signing"}, "isCaCertificate", true)
	if _, _, err := r.CreateState(context.Background(), noEnv{}, config, false); err == nil ||
		!strings.Contains(err.Error(), "Invalid Certificate Subject") {
		t.Errorf("a CA without a subject: %v", err)
	}

	// The write-only key is used but never stored.
	config = props("privateKeyPemWo", pemKey, "privateKeyPemWoVersion", 1, "validityPeriodHours", 1,
		"allowedUses", []any{"server_auth"}, "subject", map[string]any{"commonName": "x"})
	state := create(t, r, config)
	if _, ok := state["privateKeyPemWo"]; ok || str(state, "keyAlgorithm") != "ED25519" {
		t.Errorf("write-only: %v", state)
	}
	changed := config.Copy()
	changed["privateKeyPemWo"] = standin.Str("another")
	if diff, _ := r.Diff(state, changed); diff.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("a write-only change alone is not seen: %v", diff)
	}
	changed["privateKeyPemWoVersion"] = standin.Int(2)
	if diff, _ := r.Diff(state, changed); strings.Join(diff.Replaces, ",") != "privateKeyPemWoVersion" {
		t.Errorf("a new version replaces: %v", diff)
	}
}
