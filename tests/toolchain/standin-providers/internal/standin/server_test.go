// Tests of the STAND-IN providers' gRPC service (see ../../README.md), through the wire encoding the
// engine uses.

package standin_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"mattermost-platform/toolchain/standin-providers/internal/random"
	"mattermost-platform/toolchain/standin-providers/internal/standin"
	"mattermost-platform/toolchain/standin-providers/internal/tls"
)

const (
	passwordURN = "urn:pulumi:t::p::random:index/randomPassword:RandomPassword::pw"
	keyURN      = "urn:pulumi:t::p::tls:index/privateKey:PrivateKey::key"
	requestURN  = "urn:pulumi:t::p::tls:index/certRequest:CertRequest::req"
)

func toStruct(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fromStruct(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWireProtocol(t *testing.T) {
	ctx := context.Background()
	rnd := standin.NewServer(random.Provider(), nil)
	info, _ := rnd.GetPluginInfo(ctx, &emptypb.Empty{})
	if info.GetVersion() != "4.21.2+standin" {
		t.Errorf("version %s", info.GetVersion())
	}
	conf, _ := rnd.Configure(ctx, &pulumirpc.ConfigureRequest{AcceptSecrets: true})
	if conf.GetAcceptSecrets() || !conf.GetSupportsPreview() {
		t.Errorf("configure: %v", conf)
	}
	if _, err := rnd.GetSchema(ctx, &pulumirpc.GetSchemaRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("GetSchema: %v", err)
	}

	news := toStruct(t, resource.PropertyMap{"length": resource.NewNumberProperty(16), "special": resource.NewBoolProperty(false)})
	check, err := rnd.Check(ctx, &pulumirpc.CheckRequest{Urn: passwordURN, News: news})
	if err != nil || len(check.GetFailures()) != 0 || len(check.GetInputs().GetFields()) != 2 {
		t.Fatalf("check: %v %v", check, err)
	}
	created, err := rnd.Create(ctx, &pulumirpc.CreateRequest{Urn: passwordURN, Properties: check.GetInputs()})
	if err != nil || created.GetId() != "none" {
		t.Fatalf("create: %v %v", created, err)
	}
	outputs := fromStruct(t, created.GetProperties())
	if !outputs["result"].IsSecret() || outputs["__meta"].StringValue() != `{"schema_version":"3"}` {
		t.Errorf("outputs: %v", outputs)
	}
	// The engine strips the secrets before a Diff (Configure accepted none).
	plain := toStruct(t, standin.Unwrap(resource.NewObjectProperty(outputs)).ObjectValue())
	diff, err := rnd.Diff(ctx, &pulumirpc.DiffRequest{Urn: passwordURN, Id: "none", Olds: plain, News: news})
	if err != nil || diff.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("diff: %v %v", diff, err)
	}
	longer := toStruct(t, resource.PropertyMap{"length": resource.NewNumberProperty(17), "special": resource.NewBoolProperty(false)})
	diff, _ = rnd.Diff(ctx, &pulumirpc.DiffRequest{Urn: passwordURN, Id: "none", Olds: plain, News: longer})
	if strings.Join(diff.GetReplaces(), ",") != "length" || diff.GetDetailedDiff()["length"].GetKind() != pulumirpc.PropertyDiff_UPDATE_REPLACE {
		t.Errorf("diff: %v", diff)
	}
	ignored, _ := rnd.Diff(ctx, &pulumirpc.DiffRequest{Urn: passwordURN, Id: "none", Olds: plain, News: longer,
		IgnoreChanges: []string{"length"}})
	if ignored.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("ignoreChanges: %v", ignored)
	}
	read, err := rnd.Read(ctx, &pulumirpc.ReadRequest{Urn: passwordURN, Id: "none", Properties: plain, Inputs: news})
	if err != nil || !fromStruct(t, read.GetProperties())["bcryptHash"].IsSecret() || len(read.GetInputs().GetFields()) != 2 {
		t.Errorf("read: %v %v", read, err)
	}
	if _, err := rnd.Create(ctx, &pulumirpc.CreateRequest{Urn: "urn:pulumi:t::p::random:index/randomString:RandomString::s",
		Properties: news}); err == nil || !strings.Contains(err.Error(), "stand-in") {
		t.Errorf("unknown type: %v", err)
	}

	tlsServer := standin.NewServer(tls.Provider(), nil)
	key, err := tlsServer.Create(ctx, &pulumirpc.CreateRequest{Urn: keyURN,
		Properties: toStruct(t, resource.PropertyMap{"algorithm": resource.NewStringProperty("ECDSA"), "ecdsaCurve": resource.NewStringProperty("P256")})})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := fromStruct(t, key.GetProperties())["privateKeyPem"]
	if !keyPEM.IsSecret() {
		t.Fatal("privateKeyPem must be a secret")
	}
	reqNews := toStruct(t, resource.PropertyMap{"privateKeyPem": keyPEM.SecretValue().Element,
		"subject": resource.NewObjectProperty(resource.PropertyMap{"commonName": resource.NewStringProperty("x")})})
	check, err = tlsServer.Check(ctx, &pulumirpc.CheckRequest{Urn: requestURN, News: reqNews})
	if err != nil || len(check.GetFailures()) != 0 || !fromStruct(t, check.GetInputs())["privateKeyPem"].IsSecret() {
		t.Errorf("check marks the key secret: %v %v", check, err)
	}
	preview, err := tlsServer.Create(ctx, &pulumirpc.CreateRequest{Urn: requestURN, Preview: true,
		Properties: toStruct(t, resource.PropertyMap{"privateKeyPem": resource.MakeComputed(resource.NewStringProperty(""))})})
	if err != nil || preview.GetId() != "" || !fromStruct(t, preview.GetProperties())["certRequestPem"].IsComputed() {
		t.Errorf("preview: %v %v", preview, err)
	}
	req, err := tlsServer.Create(ctx, &pulumirpc.CreateRequest{Urn: requestURN, Properties: reqNews})
	if err != nil || len(req.GetId()) != 40 {
		t.Fatalf("request: %v %v", req, err)
	}
	if _, err := tlsServer.Read(ctx, &pulumirpc.ReadRequest{Urn: requestURN, Id: "x"}); err == nil {
		t.Error("tls resources cannot be imported")
	}
}
