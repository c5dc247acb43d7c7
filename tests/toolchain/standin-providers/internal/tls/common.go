// Package tls is a STAND-IN for the TLS provider (@pulumi/tls 5.6.1, which bridges
// hashicorp/terraform-provider-tls), written by this project: the Go module proxy refuses
// github.com/pulumi/pulumi-tls/provider/v5 and the Terraform provider it bridges at every version, so the
// real provider cannot be built here. It implements the resources the program uses: PrivateKey,
// CertRequest, SelfSignedCert and LocallySignedCert, with the real schemas (inputs, defaults, replacement
// rules, sensitive values, write-only keys, schema versions) and the real encodings (PEM, PKCS#8,
// OpenSSH, fingerprints, IDs, RFC 3339 validity times, early renewal), read from the upstream source and
// rewritten here on the Go standard library and golang.org/x/crypto/ssh, as upstream is built.
package tls

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the subject key identifier and the IDs are SHA-1, as upstream
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mattermost-platform/toolchain/standin-providers/internal/standin"
)

// Version is the version of @pulumi/tls the program asks for, marked as a stand-in build.
const Version = "5.6.1+standin"

// Provider is the stand-in TLS provider.
func Provider() *standin.Provider {
	return &standin.Provider{Name: "tls", Version: Version, Resources: []*standin.Resource{
		PrivateKey(), CertRequest(), SelfSignedCert(), LocallySignedCert(),
	}}
}

// Now is the clock (the provider's overridableTimeFunc); tests move it.
var Now = time.Now

func val(v resource.PropertyValue) *resource.PropertyValue { return &v }

// PEM preambles.
const (
	preamblePublicKey          = "PUBLIC KEY"
	preamblePrivateKeyPKCS8    = "PRIVATE KEY"
	preamblePrivateKeyRSA      = "RSA PRIVATE KEY"
	preamblePrivateKeyEC       = "EC PRIVATE KEY"
	preambleCertificate        = "CERTIFICATE"
	preambleCertificateRequest = "CERTIFICATE REQUEST"
)

var supportedPreambles = []string{
	preamblePublicKey, preamblePrivateKeyPKCS8, preamblePrivateKeyRSA, preamblePrivateKeyEC,
	preambleCertificate, preambleCertificateRequest,
}

// hashForState is the hexadecimal SHA-1 of the trimmed value, the IDs of keys and requests.
func hashForState(value string) string {
	if value == "" {
		return ""
	}
	hash := sha1.Sum([]byte(strings.TrimSpace(value))) //nolint:gosec // as upstream
	return hex.EncodeToString(hash[:])
}

// parsePrivateKeyPEM parses a PEM private key (PKCS#1, SEC 1 or PKCS#8) and names its algorithm.
func parsePrivateKeyPEM(keyPEM []byte) (crypto.PrivateKey, string, error) {
	block, rest := pem.Decode(keyPEM)
	if block == nil {
		return nil, "", fmt.Errorf("failed to decode PEM block: decoded bytes %d, undecoded %d", len(keyPEM)-len(rest), len(rest))
	}
	known := false
	for _, p := range supportedPreambles {
		known = known || p == block.Type
	}
	if !known {
		return nil, "", fmt.Errorf("unsupported PEM preamble/type: %s", block.Type)
	}
	var key crypto.PrivateKey
	var err error
	switch block.Type {
	case preamblePrivateKeyRSA:
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case preamblePrivateKeyEC:
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case preamblePrivateKeyPKCS8:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, "", fmt.Errorf("unable to determine parser for PEM preamble: %s", block.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("failed to parse private key given PEM preamble '%s': %w", block.Type, err)
	}
	algorithm, err := keyAlgorithm(key)
	if err != nil {
		return nil, "", fmt.Errorf("failed to determine key algorithm for private key of type %T: %w", key, err)
	}
	return key, algorithm, nil
}

func keyAlgorithm(key crypto.PrivateKey) (string, error) {
	switch key.(type) {
	case *rsa.PrivateKey:
		return "RSA", nil
	case *ecdsa.PrivateKey:
		return "ECDSA", nil
	case ed25519.PrivateKey, *ed25519.PrivateKey:
		return "ED25519", nil
	}
	return "", fmt.Errorf("unsupported private key type: %T", key)
}

func publicKey(key crypto.PrivateKey) (crypto.PublicKey, error) {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type: %T", key)
	}
	return signer.Public(), nil
}

// decodePEM decodes the first PEM block and checks its type.
func decodePEM(pemBytes []byte, pemType string) (*pem.Block, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("failed to decode PEM of expected type %q from bytes", pemType)
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("invalid PEM type - expected %q, got %q", pemType, block.Type)
	}
	return block, nil
}

// pemPattern is what requireReplaceIfStateContainsPEMString recognises as a PEM string.
var pemPattern = regexp.MustCompile(`^-----BEGIN [[:alpha:] ]+-----\n(.|\s)+\n-----END [[:alpha:] ]+-----\n?$`)

// replaceIfStateIsPEM is the provider's requireReplaceIfStateContainsPEMString: a change replaces when the
// prior value is a PEM string (and not the hash that provider versions before 4 kept in the state).
func replaceIfStateIsPEM(state, _, _ resource.PropertyValue) bool {
	return pemPattern.MatchString(standin.AsString(state))
}

// Key usages, as the provider names them.
var keyUsages = map[string]x509.KeyUsage{
	"digital_signature":  x509.KeyUsageDigitalSignature,
	"content_commitment": x509.KeyUsageContentCommitment,
	"key_encipherment":   x509.KeyUsageKeyEncipherment,
	"data_encipherment":  x509.KeyUsageDataEncipherment,
	"key_agreement":      x509.KeyUsageKeyAgreement,
	"cert_signing":       x509.KeyUsageCertSign,
	"crl_signing":        x509.KeyUsageCRLSign,
	"encipher_only":      x509.KeyUsageEncipherOnly,
	"decipher_only":      x509.KeyUsageDecipherOnly,
}

var extKeyUsages = map[string]x509.ExtKeyUsage{
	"any_extended":                      x509.ExtKeyUsageAny,
	"server_auth":                       x509.ExtKeyUsageServerAuth,
	"client_auth":                       x509.ExtKeyUsageClientAuth,
	"code_signing":                      x509.ExtKeyUsageCodeSigning,
	"email_protection":                  x509.ExtKeyUsageEmailProtection,
	"ipsec_end_system":                  x509.ExtKeyUsageIPSECEndSystem,
	"ipsec_tunnel":                      x509.ExtKeyUsageIPSECTunnel,
	"ipsec_user":                        x509.ExtKeyUsageIPSECUser,
	"timestamping":                      x509.ExtKeyUsageTimeStamping,
	"ocsp_signing":                      x509.ExtKeyUsageOCSPSigning,
	"microsoft_server_gated_crypto":     x509.ExtKeyUsageMicrosoftServerGatedCrypto,
	"netscape_server_gated_crypto":      x509.ExtKeyUsageNetscapeServerGatedCrypto,
	"microsoft_commercial_code_signing": x509.ExtKeyUsageMicrosoftCommercialCodeSigning,
	"microsoft_kernel_code_signing":     x509.ExtKeyUsageMicrosoftKernelCodeSigning,
}

func supportedKeyUsages() []string {
	var all []string
	for k := range keyUsages {
		all = append(all, k)
	}
	for k := range extKeyUsages {
		all = append(all, k)
	}
	sort.Strings(all)
	return all
}

// validateAllowedUses is listvalidator.ValueStringsAre(stringvalidator.OneOf(supported...)).
func validateAllowedUses(v resource.PropertyValue) []string {
	supported := supportedKeyUsages()
	var reasons []string
	for _, use := range standin.AsStrings(v) {
		if _, ok := keyUsages[use]; ok {
			continue
		}
		if _, ok := extKeyUsages[use]; ok {
			continue
		}
		quoted := make([]string, len(supported))
		for i, s := range supported {
			quoted[i] = fmt.Sprintf("%q", s)
		}
		reasons = append(reasons, fmt.Sprintf("Attribute allowed_uses[Value(%q)] value must be one of: [%s], got: %q",
			use, strings.Join(quoted, " "), use))
	}
	return reasons
}

func atLeast(tf string, minimum int64) func(resource.PropertyValue) []string {
	return func(v resource.PropertyValue) []string {
		if n := standin.AsInt(v); n < minimum {
			return []string{fmt.Sprintf("Attribute %s value must be at least %d, got: %d", tf, minimum, n)}
		}
		return nil
	}
}

// stringsAtLeastOneCharacter is listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1)).
func stringsAtLeastOneCharacter(tf string) func(resource.PropertyValue) []string {
	return func(v resource.PropertyValue) []string {
		var reasons []string
		for i, s := range standin.AsStrings(v) {
			if len(s) < 1 {
				reasons = append(reasons, fmt.Sprintf("Attribute %s[%d] string length must be at least 1, got: 0", tf, i))
			}
		}
		return reasons
	}
}

// exactlyOneOf is resourcevalidator.ExactlyOneOf over two attributes.
func exactlyOneOf(a, b resource.PropertyKey, tfA, tfB string) func(resource.PropertyMap) []standin.Failure {
	return func(config resource.PropertyMap) []standin.Failure {
		va, vb := standin.Get(config, a), standin.Get(config, b)
		if standin.IsUnknown(va) || standin.IsUnknown(vb) {
			return nil
		}
		set := 0
		if !va.IsNull() {
			set++
		}
		if !vb.IsNull() {
			set++
		}
		switch set {
		case 0:
			return []standin.Failure{{Property: a, Reason: fmt.Sprintf("Invalid Attribute Combination: No attribute "+
				"specified when one (and only one) of [%s,%s] is required", tfA, tfB)}}
		case 2:
			return []standin.Failure{{Property: a, Reason: fmt.Sprintf("Invalid Attribute Combination: 2 attributes "+
				"specified when one (and only one) of [%s,%s] is required", tfA, tfB)}}
		}
		return nil
	}
}

// requiredTogether is resourcevalidator.RequiredTogether over two attributes.
func requiredTogether(a, b resource.PropertyKey, tfA, tfB string) func(resource.PropertyMap) []standin.Failure {
	return func(config resource.PropertyMap) []standin.Failure {
		va, vb := standin.Get(config, a), standin.Get(config, b)
		if standin.IsUnknown(va) || standin.IsUnknown(vb) {
			return nil
		}
		if va.IsNull() != vb.IsNull() {
			return []standin.Failure{{Property: a, Reason: fmt.Sprintf("Invalid Attribute Combination: These attributes "+
				"must be configured together: [%s,%s]", tfA, tfB)}}
		}
		return nil
	}
}

// resolvePrivateKeyPEM takes the key from the stored attribute, else from the write-only one.
func resolvePrivateKeyPEM(plan, config resource.PropertyMap, key, writeOnly resource.PropertyKey) (string, error) {
	if v := standin.Get(plan, key); !v.IsNull() {
		return standin.AsString(v), nil
	}
	if v := standin.Get(config, writeOnly); !v.IsNull() {
		return standin.AsString(v), nil
	}
	return "", fmt.Errorf("Missing Private Key: one of %s or %s must be set", key, writeOnly)
}

// subjectFields is the subject block's schema.
func subjectFields() []*standin.Attr {
	str := func(key resource.PropertyKey, tf string) *standin.Attr {
		return &standin.Attr{Key: key, TF: tf, Kind: standin.KindString, Optional: true, Replace: standin.RequiresReplace}
	}
	return []*standin.Attr{
		str("organization", "organization"),
		str("commonName", "common_name"),
		str("organizationalUnit", "organizational_unit"),
		{Key: "streetAddresses", TF: "street_address", Kind: standin.KindStringList, Optional: true, Replace: standin.RequiresReplace},
		str("emailAddress", "email_address"),
		str("locality", "locality"),
		str("province", "province"),
		str("country", "country"),
		str("postalCode", "postal_code"),
		str("serialNumber", "serial_number"),
	}
}

func subjectAttr() *standin.Attr {
	return &standin.Attr{Key: "subject", TF: "subject", Kind: standin.KindObject, Fields: subjectFields(),
		Optional: true, Replace: standin.RequiresReplace}
}

// subjectName is the provider's createSubjectDistinguishedNames.
func subjectName(subject resource.PropertyValue) pkix.Name {
	name := pkix.Name{}
	if !subject.IsObject() {
		return name
	}
	s := subject.ObjectValue()
	one := func(key resource.PropertyKey) []string {
		if v := standin.Get(s, key); !v.IsNull() {
			return []string{standin.AsString(v)}
		}
		return nil
	}
	if v := standin.Get(s, "commonName"); !v.IsNull() {
		name.CommonName = standin.AsString(v)
	}
	name.Organization = one("organization")
	name.OrganizationalUnit = one("organizationalUnit")
	if v := standin.Get(s, "streetAddresses"); !v.IsNull() {
		name.StreetAddress = standin.AsStrings(v)
	}
	name.Locality = one("locality")
	name.Province = one("province")
	name.Country = one("country")
	name.PostalCode = one("postalCode")
	if v := standin.Get(s, "serialNumber"); !v.IsNull() {
		name.SerialNumber = standin.AsString(v)
	}
	if v := standin.Get(s, "emailAddress"); !v.IsNull() {
		name.ExtraNames = append(name.ExtraNames, pkix.AttributeTypeAndValue{
			Type:  asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1},
			Value: asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte(standin.AsString(v))},
		})
	}
	return name
}

func parseIPAddresses(v resource.PropertyValue) ([]net.IP, error) {
	var ips []net.IP
	for _, s := range standin.AsStrings(v) {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("Invalid IP address: Failed to parse %#v", s)
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

func parseURIs(v resource.PropertyValue) ([]*url.URL, error) {
	var uris []*url.URL
	for _, s := range standin.AsStrings(v) {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("Invalid URI: Failed to parse %#v: %v", s, err)
		}
		uris = append(uris, u)
	}
	return uris, nil
}

// subjectKeyID is the provider's generateSubjectKeyID: the SHA-1 of the public key's bytes.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	var b []byte
	var err error
	switch k := pub.(type) {
	case *rsa.PublicKey:
		b, err = asn1.Marshal(*k)
	case *ecdsa.PublicKey:
		b = elliptic.Marshal(k.Curve, k.X, k.Y) //nolint:staticcheck // as upstream
	case ed25519.PublicKey:
		b, err = asn1.Marshal(k)
	default:
		err = fmt.Errorf("unsupported public key type %T", pub)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to marshal public key of type %T: %w", pub, err)
	}
	sum := sha1.Sum(b) //nolint:gosec // as upstream
	return sum[:], nil
}

// createCertificate is the provider's createCertificate: validity from now, a random 128-bit serial, the
// allowed uses, CA constraints and key identifiers from the plan; it sets id, certPem and the validity
// times on the state.
func createCertificate(template, parent *x509.Certificate, pub crypto.PublicKey, key crypto.PrivateKey,
	plan resource.PropertyMap, withAuthorityKeyID bool,
) (resource.PropertyMap, error) {
	template.NotBefore = Now()
	template.NotAfter = template.NotBefore.Add(time.Duration(standin.AsInt(plan["validityPeriodHours"])) * time.Hour)

	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("Failed to generate serial number: %w", err)
	}
	template.SerialNumber = serial

	for _, use := range standin.AsStrings(plan["allowedUses"]) {
		if usage, ok := keyUsages[use]; ok {
			template.KeyUsage |= usage
		}
		if usage, ok := extKeyUsages[use]; ok {
			template.ExtKeyUsage = append(template.ExtKeyUsage, usage)
		}
	}

	if standin.AsBool(plan["isCaCertificate"]) {
		if reflect.DeepEqual(template.Subject, pkix.Name{}) {
			return nil, errors.New("Invalid Certificate Subject: Must contain at least one Distinguished Name " +
				"when creating Certificate Authority (CA)")
		}
		template.IsCA = true
		if template.SubjectKeyId, err = subjectKeyID(pub); err != nil {
			return nil, fmt.Errorf("Failed to generate subject key identifier: %w", err)
		}
	}

	if n := standin.AsInt(plan["maxPathLength"]); n >= 0 {
		template.MaxPathLen = int(n)
	}

	if standin.AsBool(plan["setSubjectKeyId"]) {
		if template.SubjectKeyId, err = subjectKeyID(pub); err != nil {
			return nil, fmt.Errorf("Failed to generate subject key identifier: %w", err)
		}
	}

	if withAuthorityKeyID && standin.AsBool(plan["setAuthorityKeyId"]) {
		if len(parent.SubjectKeyId) == 0 {
			return nil, errors.New("Invalid Certificate Authority: Could not determine Authority Key Identifier")
		}
		template.AuthorityKeyId = parent.SubjectKeyId
	}

	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("Failed to create certificate: %w", err)
	}
	start, err := template.NotBefore.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("Failed to serialize validity start time: %w", err)
	}
	end, err := template.NotAfter.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("Failed to serialize validity end time: %w", err)
	}
	state := plan.Copy()
	state["id"] = standin.Str(template.SerialNumber.String())
	state["certPem"] = standin.Str(string(pem.EncodeToMemory(&pem.Block{Type: preambleCertificate, Bytes: der})))
	state["validityStartTime"] = standin.Str(string(start))
	state["validityEndTime"] = standin.Str(string(end))
	return state, nil
}

// dueForRenewal tells whether now is past the validity end less the early renewal hours.
func dueForRenewal(validityEndTime string, earlyRenewalHours int64) (bool, error) {
	end, err := time.Parse(time.RFC3339, validityEndTime)
	if err != nil {
		return false, fmt.Errorf("Failed to parse data from string: %s: %w", validityEndTime, err)
	}
	return !end.Add(time.Duration(-earlyRenewalHours) * time.Hour).After(Now()), nil
}

// modifyPlanIfReadyForRenewal is the provider's modifyPlanIfCertificateReadyForRenewal: once due, the
// plan makes ready_for_renewal unknown and replaces the certificate.
func modifyPlanIfReadyForRenewal(p *standin.Plan) error {
	end, early := p.Planned["validityEndTime"], p.Planned["earlyRenewalHours"]
	if end.IsNull() || standin.IsUnknown(end) || standin.IsUnknown(early) {
		return nil
	}
	due, err := dueForRenewal(standin.AsString(end), standin.AsInt(early))
	if err != nil {
		return err
	}
	if due {
		p.Planned["readyForRenewal"] = standin.Unknown()
		p.Replace["readyForRenewal"] = true
	}
	return nil
}

// readyForRenewalOnRead is the provider's modifyStateIfCertificateReadyForRenewal.
func readyForRenewalOnRead(state resource.PropertyMap) resource.PropertyMap {
	end, early := standin.Get(state, "validityEndTime"), standin.Get(state, "earlyRenewalHours")
	if end.IsNull() {
		return state
	}
	if due, err := dueForRenewal(standin.AsString(end), standin.AsInt(early)); err == nil && due {
		state["readyForRenewal"] = standin.Bool(true)
	}
	return state
}

// readyForRenewalModifier is the provider's ReadyForRenewal attribute plan modifier: a certificate valid
// for 0 hours, or renewed early by at least its validity, is ready at once.
func readyForRenewalModifier(p *standin.Plan) error {
	validity, early := p.Planned["validityPeriodHours"], p.Planned["earlyRenewalHours"]
	if !standin.IsUnknown(validity) && standin.AsInt(validity) == 0 {
		p.Planned["readyForRenewal"] = standin.Bool(true)
		return nil
	}
	if early.IsNull() || standin.IsUnknown(early) || standin.IsUnknown(validity) {
		return nil
	}
	if standin.AsInt(early) >= standin.AsInt(validity) {
		p.Planned["readyForRenewal"] = standin.Bool(true)
	}
	return nil
}

// certificateAttrs are the attributes that self-signed and locally signed certificates share.
func certificateAttrs() []*standin.Attr {
	return []*standin.Attr{
		{Key: "validityPeriodHours", TF: "validity_period_hours", Kind: standin.KindInt, Required: true,
			Replace: standin.RequiresReplace, Validate: atLeast("validity_period_hours", 0)},
		{Key: "allowedUses", TF: "allowed_uses", Kind: standin.KindStringList, Required: true,
			Replace: standin.RequiresReplace, Validate: validateAllowedUses},
		{Key: "earlyRenewalHours", TF: "early_renewal_hours", Kind: standin.KindInt, Optional: true, Computed: true,
			DefaultValue: val(standin.Int(0)), Validate: atLeast("early_renewal_hours", 0)},
		{Key: "isCaCertificate", TF: "is_ca_certificate", Kind: standin.KindBool, Optional: true, Computed: true,
			DefaultValue: val(standin.Bool(false)), Replace: standin.RequiresReplace},
		{Key: "maxPathLength", TF: "max_path_length", Kind: standin.KindInt, Optional: true, Computed: true,
			DefaultValue: val(standin.Int(-1)), Replace: standin.RequiresReplace},
		{Key: "setSubjectKeyId", TF: "set_subject_key_id", Kind: standin.KindBool, Optional: true, Computed: true,
			DefaultValue: val(standin.Bool(false)), Replace: standin.RequiresReplace},
		{Key: "certPem", TF: "cert_pem", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
		{Key: "readyForRenewal", TF: "ready_for_renewal", Kind: standin.KindBool, Computed: true,
			DefaultValue: val(standin.Bool(false)), Modify: readyForRenewalModifier},
		{Key: "validityStartTime", TF: "validity_start_time", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
		{Key: "validityEndTime", TF: "validity_end_time", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
		{Key: "id", TF: "id", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
	}
}

// warnf is a small helper for resources that warn while creating.
func warnf(ctx context.Context, env standin.Env, format string, args ...any) {
	if env != nil {
		env.Warn(ctx, fmt.Sprintf(format, args...))
	}
}
