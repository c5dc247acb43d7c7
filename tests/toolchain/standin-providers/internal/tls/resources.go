// STAND-IN, not the real provider code: the resources of the stand-in TLS provider (see common.go and
// ../../README.md for why it exists).

package tls

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mattermost-platform/toolchain/standin-providers/internal/standin"
)

func oneOf(tf string, allowed ...string) func(resource.PropertyValue) []string {
	return func(v resource.PropertyValue) []string {
		s := standin.AsString(v)
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
		quoted := make([]string, len(allowed))
		for i, a := range allowed {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		return []string{fmt.Sprintf("Attribute %s value must be one of: [%s], got: %q", tf, strings.Join(quoted, " "), s)}
	}
}

// PrivateKey is tls:index/privateKey:PrivateKey (tls_private_key, schema version 1).
func PrivateKey() *standin.Resource {
	computed := func(key resource.PropertyKey, tf string, sensitive bool) *standin.Attr {
		return &standin.Attr{Key: key, TF: tf, Kind: standin.KindString, Computed: true, Sensitive: sensitive}
	}
	return &standin.Resource{
		Token:         "tls:index/privateKey:PrivateKey",
		SchemaVersion: 1,
		Attrs: []*standin.Attr{
			{Key: "algorithm", TF: "algorithm", Kind: standin.KindString, Required: true,
				Replace: standin.RequiresReplace, Validate: oneOf("algorithm", "RSA", "ECDSA", "ED25519")},
			{Key: "rsaBits", TF: "rsa_bits", Kind: standin.KindInt, Optional: true, Computed: true,
				Default: val(standin.Int(2048)), Replace: standin.RequiresReplace},
			{Key: "ecdsaCurve", TF: "ecdsa_curve", Kind: standin.KindString, Optional: true, Computed: true,
				Default: val(standin.Str("P224")), Replace: standin.RequiresReplace,
				Validate: oneOf("ecdsa_curve", "P224", "P256", "P384", "P521")},
			computed("privateKeyPem", "private_key_pem", true),
			computed("privateKeyOpenssh", "private_key_openssh", true),
			computed("privateKeyPemPkcs8", "private_key_pem_pkcs8", true),
			computed("publicKeyPem", "public_key_pem", false),
			computed("publicKeyOpenssh", "public_key_openssh", false),
			computed("publicKeyFingerprintMd5", "public_key_fingerprint_md5", false),
			computed("publicKeyFingerprintSha256", "public_key_fingerprint_sha256", false),
			computed("id", "id", false),
		},
		Create: createPrivateKey,
	}
}

// GenerateKey generates a private key of an algorithm (RSA, ECDSA or ED25519).
func GenerateKey(algorithm string, rsaBits int64, curve string) (crypto.PrivateKey, error) {
	switch algorithm {
	case "RSA":
		return rsa.GenerateKey(rand.Reader, int(rsaBits))
	case "ECDSA":
		switch curve {
		case "P224":
			return ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
		case "P256":
			return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case "P384":
			return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		case "P521":
			return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		}
		return nil, fmt.Errorf("invalid ECDSA curve; supported values are: [P224 P256 P384 P521]")
	case "ED25519":
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("failed to generate ED25519 key: %s", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("Invalid Key Algorithm: Key Algorithm %q is not supported", algorithm)
}

// KeyAttributes are the encodings of a private key and of its public key, as the provider stores them.
func KeyAttributes(key crypto.PrivateKey) (resource.PropertyMap, error) {
	var block *pem.Block
	switch k := key.(type) {
	case *rsa.PrivateKey:
		block = &pem.Block{Type: preamblePrivateKeyRSA, Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("Unable to encode key to PEM: %w", err)
		}
		block = &pem.Block{Type: preamblePrivateKeyEC, Bytes: der}
	case ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("Unable to encode key to PEM: %w", err)
		}
		block = &pem.Block{Type: preamblePrivateKeyPKCS8, Bytes: der}
	default:
		return nil, fmt.Errorf("Unsupported private key type: Key type %T not supported", key)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("Unable to encode private key to PKCS#8 PEM: %w", err)
	}
	out := resource.PropertyMap{
		"privateKeyPem":      standin.Str(string(pem.EncodeToMemory(block))),
		"privateKeyPemPkcs8": standin.Str(string(pem.EncodeToMemory(&pem.Block{Type: preamblePrivateKeyPKCS8, Bytes: pkcs8}))),
		"privateKeyOpenssh":  standin.Str(""),
	}
	// x/crypto/ssh does not handle P-224: such keys have no OpenSSH encodings (empty strings).
	if k, ok := key.(*ecdsa.PrivateKey); !ok || k.Curve.Params().Name != "P-224" {
		sshBlock, err := ssh.MarshalPrivateKey(key, "")
		if err != nil {
			return nil, fmt.Errorf("Unable to marshal private key into OpenSSH format: %w", err)
		}
		out["privateKeyOpenssh"] = standin.Str(string(pem.EncodeToMemory(sshBlock)))
	}

	pub, err := publicKey(key)
	if err != nil {
		return nil, fmt.Errorf("Failed to get public key from private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("Failed to marshal public key: %w", err)
	}
	out["id"] = standin.Str(hashForState(string(pubDER)))
	out["publicKeyPem"] = standin.Str(string(pem.EncodeToMemory(&pem.Block{Type: preamblePublicKey, Bytes: pubDER})))
	var authorized, md5, sha256 string
	if sshPub, err := ssh.NewPublicKey(pub); err == nil {
		authorized = string(ssh.MarshalAuthorizedKey(sshPub))
		md5 = ssh.FingerprintLegacyMD5(sshPub)
		sha256 = ssh.FingerprintSHA256(sshPub)
	}
	out["publicKeyOpenssh"] = standin.Str(authorized)
	out["publicKeyFingerprintMd5"] = standin.Str(md5)
	out["publicKeyFingerprintSha256"] = standin.Str(sha256)
	return out, nil
}

func createPrivateKey(_ context.Context, _ standin.Env, plan, _ resource.PropertyMap) (resource.PropertyMap, error) {
	key, err := GenerateKey(standin.AsString(plan["algorithm"]), standin.AsInt(plan["rsaBits"]), standin.AsString(plan["ecdsaCurve"]))
	if err != nil {
		return nil, fmt.Errorf("Unable to generate Key from configuration: %w", err)
	}
	attrs, err := KeyAttributes(key)
	if err != nil {
		return nil, err
	}
	state := plan.Copy()
	for k, v := range attrs {
		state[k] = v
	}
	return state, nil
}

// privateKeyAttrs are a certificate resource's key attributes: the stored key, the write-only one and the
// version of the latter.
func privateKeyAttrs(key, writeOnly, version resource.PropertyKey, tfKey string) []*standin.Attr {
	return []*standin.Attr{
		{Key: key, TF: tfKey, Kind: standin.KindString, Optional: true, Sensitive: true, Replace: replaceIfStateIsPEM},
		{Key: writeOnly, TF: tfKey + "_wo", Kind: standin.KindString, Optional: true, Sensitive: true, WriteOnly: true},
		{Key: version, TF: tfKey + "_wo_version", Kind: standin.KindInt, Optional: true, Replace: standin.RequiresReplace},
	}
}

func keyValidators(key, writeOnly, version resource.PropertyKey, tfKey string) []func(resource.PropertyMap) []standin.Failure {
	return []func(resource.PropertyMap) []standin.Failure{
		exactlyOneOf(key, writeOnly, tfKey, tfKey+"_wo"),
		requiredTogether(writeOnly, version, tfKey+"_wo", tfKey+"_wo_version"),
	}
}

// CertRequest is tls:index/certRequest:CertRequest (tls_cert_request, schema version 0).
func CertRequest() *standin.Resource {
	attrs := privateKeyAttrs("privateKeyPem", "privateKeyPemWo", "privateKeyPemWoVersion", "private_key_pem")
	attrs = append(attrs,
		&standin.Attr{Key: "dnsNames", TF: "dns_names", Kind: standin.KindStringList, Optional: true, Replace: standin.RequiresReplace},
		&standin.Attr{Key: "ipAddresses", TF: "ip_addresses", Kind: standin.KindStringList, Optional: true,
			Replace: standin.RequiresReplace, Validate: stringsAtLeastOneCharacter("ip_addresses")},
		&standin.Attr{Key: "uris", TF: "uris", Kind: standin.KindStringList, Optional: true,
			Replace: standin.RequiresReplace, Validate: stringsAtLeastOneCharacter("uris")},
		subjectAttr(),
		&standin.Attr{Key: "keyAlgorithm", TF: "key_algorithm", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
		&standin.Attr{Key: "certRequestPem", TF: "cert_request_pem", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
		&standin.Attr{Key: "id", TF: "id", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
	)
	return &standin.Resource{
		Token:            "tls:index/certRequest:CertRequest",
		Attrs:            attrs,
		ConfigValidators: keyValidators("privateKeyPem", "privateKeyPemWo", "privateKeyPemWoVersion", "private_key_pem"),
		Create:           createCertRequest,
	}
}

func createCertRequest(_ context.Context, _ standin.Env, plan, config resource.PropertyMap) (resource.PropertyMap, error) {
	keyPEM, err := resolvePrivateKeyPEM(plan, config, "privateKeyPem", "privateKeyPemWo")
	if err != nil {
		return nil, err
	}
	key, algorithm, err := parsePrivateKeyPEM([]byte(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("Failed to parse private key PEM: %w", err)
	}
	req := x509.CertificateRequest{Subject: subjectName(plan["subject"]), DNSNames: standin.AsStrings(plan["dnsNames"])}
	if req.IPAddresses, err = parseIPAddresses(plan["ipAddresses"]); err != nil {
		return nil, err
	}
	if req.URIs, err = parseURIs(plan["uris"]); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &req, key)
	if err != nil {
		return nil, fmt.Errorf("Error creating certificate request: %w", err)
	}
	state := plan.Copy()
	state["keyAlgorithm"] = standin.Str(algorithm)
	state["certRequestPem"] = standin.Str(string(pem.EncodeToMemory(&pem.Block{Type: preambleCertificateRequest, Bytes: der})))
	state["id"] = standin.Str(hashForState(string(der)))
	return state, nil
}

// SelfSignedCert is tls:index/selfSignedCert:SelfSignedCert (tls_self_signed_cert, schema version 0).
func SelfSignedCert() *standin.Resource {
	attrs := privateKeyAttrs("privateKeyPem", "privateKeyPemWo", "privateKeyPemWoVersion", "private_key_pem")
	attrs = append(attrs,
		&standin.Attr{Key: "dnsNames", TF: "dns_names", Kind: standin.KindStringList, Optional: true, Replace: standin.RequiresReplace},
		&standin.Attr{Key: "ipAddresses", TF: "ip_addresses", Kind: standin.KindStringList, Optional: true, Replace: standin.RequiresReplace},
		&standin.Attr{Key: "uris", TF: "uris", Kind: standin.KindStringList, Optional: true, Replace: standin.RequiresReplace},
		&standin.Attr{Key: "setAuthorityKeyId", TF: "set_authority_key_id", Kind: standin.KindBool, Optional: true, Computed: true,
			DefaultValue: val(standin.Bool(false)), Replace: standin.RequiresReplace},
		subjectAttr(),
		&standin.Attr{Key: "keyAlgorithm", TF: "key_algorithm", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
	)
	attrs = append(attrs, certificateAttrs()...)
	return &standin.Resource{
		Token:            "tls:index/selfSignedCert:SelfSignedCert",
		Attrs:            attrs,
		ConfigValidators: keyValidators("privateKeyPem", "privateKeyPemWo", "privateKeyPemWoVersion", "private_key_pem"),
		ModifyPlan:       modifyPlanIfReadyForRenewal,
		Create:           createSelfSignedCert,
		Read:             readyForRenewalOnRead,
	}
}

func createSelfSignedCert(_ context.Context, _ standin.Env, plan, config resource.PropertyMap) (resource.PropertyMap, error) {
	keyPEM, err := resolvePrivateKeyPEM(plan, config, "privateKeyPem", "privateKeyPemWo")
	if err != nil {
		return nil, err
	}
	key, algorithm, err := parsePrivateKeyPEM([]byte(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("Failed to parse private key PEM: %w", err)
	}
	cert := x509.Certificate{BasicConstraintsValid: true, DNSNames: standin.AsStrings(plan["dnsNames"])}
	if subject := plan["subject"]; subject.IsObject() {
		cert.Subject = subjectName(subject)
	}
	if cert.IPAddresses, err = parseIPAddresses(plan["ipAddresses"]); err != nil {
		return nil, err
	}
	if cert.URIs, err = parseURIs(plan["uris"]); err != nil {
		return nil, err
	}
	pub, err := publicKey(key)
	if err != nil {
		return nil, fmt.Errorf("Failed to get public key from private key: %w", err)
	}
	state, err := createCertificate(&cert, &cert, pub, key, plan, true)
	if err != nil {
		return nil, err
	}
	state["keyAlgorithm"] = standin.Str(algorithm)
	return state, nil
}

// LocallySignedCert is tls:index/locallySignedCert:LocallySignedCert (tls_locally_signed_cert, schema
// version 0).
func LocallySignedCert() *standin.Resource {
	attrs := []*standin.Attr{
		{Key: "certRequestPem", TF: "cert_request_pem", Kind: standin.KindString, Required: true, Replace: replaceIfStateIsPEM},
		{Key: "caCertPem", TF: "ca_cert_pem", Kind: standin.KindString, Required: true, Replace: replaceIfStateIsPEM},
	}
	attrs = append(attrs, privateKeyAttrs("caPrivateKeyPem", "caPrivateKeyPemWo", "caPrivateKeyPemWoVersion", "ca_private_key_pem")...)
	attrs = append(attrs,
		&standin.Attr{Key: "caKeyAlgorithm", TF: "ca_key_algorithm", Kind: standin.KindString, Computed: true, UseStateForUnknown: true})
	attrs = append(attrs, certificateAttrs()...)
	return &standin.Resource{
		Token: "tls:index/locallySignedCert:LocallySignedCert",
		Attrs: attrs,
		ConfigValidators: keyValidators("caPrivateKeyPem", "caPrivateKeyPemWo", "caPrivateKeyPemWoVersion",
			"ca_private_key_pem"),
		ModifyPlan: modifyPlanIfReadyForRenewal,
		Create:     createLocallySignedCert,
		Read:       readyForRenewalOnRead,
	}
}

func createLocallySignedCert(ctx context.Context, env standin.Env, plan, config resource.PropertyMap) (resource.PropertyMap, error) {
	block, err := decodePEM([]byte(standin.AsString(plan["certRequestPem"])), preambleCertificateRequest)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse certificate request PEM: %w", err)
	}
	certReq, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse certificate request PEM: failed to parse certificate request: %w", err)
	}
	keyPEM, err := resolvePrivateKeyPEM(plan, config, "caPrivateKeyPem", "caPrivateKeyPemWo")
	if err != nil {
		return nil, err
	}
	caKey, algorithm, err := parsePrivateKeyPEM([]byte(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("Failed to parse CA private key PEM: %w", err)
	}
	block, err = decodePEM([]byte(standin.AsString(plan["caCertPem"])), preambleCertificate)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse CA certificate PEM: %w", err)
	}
	certs, err := x509.ParseCertificates(block.Bytes)
	switch {
	case err != nil:
		return nil, fmt.Errorf("Failed to parse CA certificate PEM: failed to parse certificate: %w", err)
	case len(certs) < 1:
		return nil, fmt.Errorf("Failed to parse CA certificate PEM: no certificates found")
	case len(certs) > 1:
		return nil, fmt.Errorf("Failed to parse CA certificate PEM: multiple certificates found in")
	}
	caCert := certs[0]
	if !caCert.IsCA {
		warnf(ctx, env, "Potentially Invalid Certificate Authority: Certificate provided as Authority does not "+
			"appear to be a valid Certificate Authority. The resulting certificate might fail certificate validation.")
	}
	template := x509.Certificate{
		Subject:               certReq.Subject,
		DNSNames:              certReq.DNSNames,
		IPAddresses:           certReq.IPAddresses,
		URIs:                  certReq.URIs,
		BasicConstraintsValid: true,
	}
	state, err := createCertificate(&template, caCert, certReq.PublicKey, caKey, plan, false)
	if err != nil {
		return nil, err
	}
	state["caKeyAlgorithm"] = standin.Str(algorithm)
	return state, nil
}
