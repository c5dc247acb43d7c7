// Tests of the STAND-IN command provider (see main.go and README.md), through its gRPC methods, against the
// in-process SSH server of sshserver_test.go.
package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	commandURN = "urn:pulumi:test::proj::command:remote:Command::cmd"
	copyURN    = "urn:pulumi:test::proj::command:remote:CopyToRemote::copy"
)

type testProvider struct {
	*commandProvider
	mu   sync.Mutex
	logs []logEntry
}

func newTestProvider() *testProvider {
	tp := &testProvider{commandProvider: newProvider(nil)}
	tp.sink = func(e logEntry) {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		tp.logs = append(tp.logs, e)
	}
	return tp
}

func (tp *testProvider) entries(sev diag.Severity, ephemeral bool) []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []string
	for _, e := range tp.logs {
		if e.Severity == sev && e.Ephemeral == ephemeral {
			out = append(out, e.Message)
		}
	}
	return out
}

func mustMarshal(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustUnmarshal(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// conn is a connection to s as the SDK sends it: the whole object secret, with the SDK's defaults.
func conn(s *testServer, extra map[string]any) resource.PropertyValue {
	fields := map[string]any{
		"host":           "127.0.0.1",
		"port":           s.port(),
		"user":           "deploy",
		"privateKey":     s.clientKey,
		"hostKey":        s.hostKeys[0],
		"dialErrorLimit": 0,
		"perDialTimeout": 5,
	}
	for k, v := range extra {
		if v == nil {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	return resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(fields)))
}

// check runs Check and fails the test on check failures.
func (tp *testProvider) check(t *testing.T, urn string, news resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	resp, err := tp.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn, News: mustMarshal(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range resp.GetFailures() {
		t.Fatalf("check failure %s: %s", f.GetProperty(), f.GetReason())
	}
	return mustUnmarshal(t, resp.GetInputs())
}

func (tp *testProvider) create(t *testing.T, urn string, inputs resource.PropertyMap, preview bool) (
	resource.PropertyMap, error,
) {
	t.Helper()
	resp, err := tp.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: urn, Properties: mustMarshal(t, inputs), Preview: preview,
	})
	if err != nil {
		return nil, err
	}
	return mustUnmarshal(t, resp.GetProperties()), nil
}

func stringOutput(t *testing.T, m resource.PropertyMap, k resource.PropertyKey) string {
	t.Helper()
	v, unknown := peel(m[k])
	if unknown || !v.IsString() {
		t.Fatalf("%s is not a known string: %v", k, m[k])
	}
	return v.StringValue()
}

func TestHostKeyPinning(t *testing.T) {
	s := startServer(t, "ecdsa", "ed25519")
	tp := newTestProvider()

	// The server's second host key (ed25519) is pinned: the client must not settle for its ecdsa key.
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, map[string]any{"hostKey": s.hostKeys[1]}),
		"create":     resource.NewStringProperty("echo pinned"),
	})
	out, err := tp.create(t, commandURN, inputs, false)
	if err != nil {
		t.Fatalf("pinned host key refused: %v", err)
	}
	if got := stringOutput(t, out, "stdout"); got != "pinned" {
		t.Fatalf("stdout = %q", got)
	}

	// Another key is refused, and nothing runs.
	other, _ := newSigner(t, "ed25519")
	inputs = tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, map[string]any{"hostKey": authorizedLine(other.PublicKey())}),
		"create":     resource.NewStringProperty("echo must-not-run"),
	})
	_, err = tp.create(t, commandURN, inputs, false)
	if err == nil || !strings.Contains(err.Error(), "host key mismatch") {
		t.Fatalf("a wrong host key was not refused: %v", err)
	}
	for _, r := range s.records() {
		if strings.Contains(r.Command, "must-not-run") {
			t.Fatal("the command ran on a host with the wrong key")
		}
	}

	// A malformed pin is an error too.
	inputs = tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, map[string]any{"hostKey": "ssh-ed25519 not-base64"}),
		"create":     resource.NewStringProperty("true"),
	})
	if _, err = tp.create(t, commandURN, inputs, false); err == nil ||
		!strings.Contains(err.Error(), "failed to parse host key") {
		t.Fatalf("a malformed host key was accepted: %v", err)
	}
}

func TestExitStatusError(t *testing.T) {
	s := startServer(t)
	tp := newTestProvider()
	cmd := "echo to-stdout; echo to-stderr >&2; exit 3"
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"create":     resource.NewStringProperty(cmd),
	})
	_, err := tp.create(t, commandURN, inputs, false)
	if err == nil {
		t.Fatal("exit status 3 did not fail the step")
	}
	prefix := `Process exited with status 3: running "` + cmd + `":` + "\n"
	if !strings.HasPrefix(err.Error(), prefix) ||
		!strings.Contains(err.Error(), "to-stdout\n") || !strings.Contains(err.Error(), "to-stderr\n") {
		t.Fatalf("error = %q", err.Error())
	}
}

func TestStdinDeliveredAndOutputs(t *testing.T) {
	s := startServer(t)
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"create":     resource.NewStringProperty("cat; echo warning >&2"),
		"stdin":      resource.MakeSecret(resource.NewStringProperty("line one\nline two\n")),
	})
	out, err := tp.create(t, commandURN, inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stringOutput(t, out, "stdout"); got != "line one\nline two" {
		t.Fatalf("stdout = %q", got)
	}
	if got := stringOutput(t, out, "stderr"); got != "warning" {
		t.Fatalf("stderr = %q", got)
	}
	// As upstream: inputs keep their secretness in the state; stdout and stderr are not made secret.
	if !out["stdin"].IsSecret() || !out["connection"].IsSecret() {
		t.Fatal("secret inputs lost their secretness in the state")
	}
	if out["stdout"].IsSecret() || out["stderr"].IsSecret() {
		t.Fatal("stdout/stderr are secret without additionalSecretOutputs")
	}
	if records := s.records(); len(records) != 1 || records[0].Stdin != "line one\nline two\n" {
		t.Fatalf("stdin seen by the server: %+v", records)
	}
	// Output lines are status messages.
	status := strings.Join(tp.entries(diag.Info, true), "|")
	if !strings.Contains(status, "line one") || !strings.Contains(status, "warning") {
		t.Fatalf("status messages: %q", status)
	}
}

func TestLoggingNone(t *testing.T) {
	s := startServer(t)
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"create":     resource.NewStringProperty("echo hidden-line"),
		"logging":    resource.NewStringProperty("none"),
	})
	out, err := tp.create(t, commandURN, inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stringOutput(t, out, "stdout"); got != "hidden-line" {
		t.Fatalf("stdout = %q", got)
	}
	for _, msg := range tp.entries(diag.Info, true) {
		if strings.Contains(msg, "hidden-line") {
			t.Fatal("logging none still logged the output")
		}
	}
}

func TestEnvironment(t *testing.T) {
	s := startServer(t)
	s.acceptEnv["DEPLOY_TARGET"] = true
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection":  conn(s, nil),
		"create":      resource.NewStringProperty(`echo "target=$DEPLOY_TARGET"`),
		"environment": resource.NewObjectProperty(resource.PropertyMap{"DEPLOY_TARGET": resource.NewStringProperty("blue")}),
	})
	out, err := tp.create(t, commandURN, inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stringOutput(t, out, "stdout"); got != "target=blue" {
		t.Fatalf("stdout = %q", got)
	}

	// A variable the server does not accept fails the step with an error diagnostic, as upstream.
	inputs = tp.check(t, commandURN, resource.PropertyMap{
		"connection":  conn(s, nil),
		"create":      resource.NewStringProperty("echo must-not-run"),
		"environment": resource.NewObjectProperty(resource.PropertyMap{"REFUSED": resource.NewStringProperty("x")}),
	})
	_, err = tp.create(t, commandURN, inputs, false)
	if err == nil || !strings.Contains(err.Error(), `could not set environment variable "REFUSED"`) {
		t.Fatalf("a refused variable did not fail: %v", err)
	}
	if len(tp.entries(diag.Error, false)) == 0 {
		t.Fatal("no error diagnostic for the refused variable")
	}
}

func TestUpdateAndDeleteSeePreviousOutput(t *testing.T) {
	s := startServer(t)
	s.acceptEnv[envPreviousStdout] = true
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"create":     resource.NewStringProperty("echo first"),
		"delete":     resource.NewStringProperty(`echo "deleting after $PULUMI_COMMAND_STDOUT"`),
	})
	state, err := tp.create(t, commandURN, inputs, false)
	if err != nil {
		t.Fatal(err)
	}

	// Without `update`, an update runs `create` again, with the previous stdout in the environment.
	news := inputs.Copy()
	news["create"] = resource.NewStringProperty(`echo "second after $PULUMI_COMMAND_STDOUT"`)
	resp, err := tp.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: commandURN, Olds: mustMarshal(t, state), News: mustMarshal(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	state = mustUnmarshal(t, resp.GetProperties())
	if got := stringOutput(t, state, "stdout"); got != "second after first" {
		t.Fatalf("stdout after update = %q", got)
	}

	// `update`, when given, runs instead of `create`.
	news = state.Copy()
	delete(news, "stdout")
	delete(news, "stderr")
	news["update"] = resource.NewStringProperty("echo updated")
	resp, err = tp.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: commandURN, Olds: mustMarshal(t, state), News: mustMarshal(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	state = mustUnmarshal(t, resp.GetProperties())
	if got := stringOutput(t, state, "stdout"); got != "updated" {
		t.Fatalf("stdout after update command = %q", got)
	}

	if _, err := tp.Delete(context.Background(), &pulumirpc.DeleteRequest{
		Urn: commandURN, Id: "cmd1234", Properties: mustMarshal(t, state),
	}); err != nil {
		t.Fatal(err)
	}
	records := s.records()
	last := records[len(records)-1]
	if !strings.HasPrefix(last.Command, "echo \"deleting") || last.Env[envPreviousStdout] != "updated" {
		t.Fatalf("delete ran %+v", last)
	}

	// A server that refuses PULUMI_COMMAND_STDOUT only earns a warning.
	delete(s.acceptEnv, envPreviousStdout)
	if _, err := tp.Delete(context.Background(), &pulumirpc.DeleteRequest{
		Urn: commandURN, Id: "cmd1234", Properties: mustMarshal(t, state),
	}); err != nil {
		t.Fatalf("a refused PULUMI_COMMAND_STDOUT failed the delete: %v", err)
	}
	if len(tp.entries(diag.Warning, false)) == 0 {
		t.Fatal("no warning for the refused PULUMI_COMMAND_STDOUT")
	}
}

func TestPreviewRunsNothing(t *testing.T) {
	s := startServer(t)
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"create":     resource.NewStringProperty("echo must-not-run"),
	})
	out, err := tp.create(t, commandURN, inputs, true)
	if err != nil {
		t.Fatal(err)
	}
	if !out["stdout"].IsComputed() || !out["stderr"].IsComputed() {
		t.Fatalf("preview outputs are known: %v", out)
	}
	copyInputs := tp.check(t, copyURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"source":     resource.NewAssetProperty(mustTextAsset(t, "x")),
		"remotePath": resource.NewStringProperty(filepath.Join(t.TempDir(), "must-not-exist")),
	})
	if _, err := tp.create(t, copyURN, copyInputs, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stringOutput(t, copyInputs, "remotePath")); !os.IsNotExist(err) {
		t.Fatal("a previewed copy wrote the file")
	}

	if len(s.records()) != 0 {
		t.Fatalf("a preview ran commands: %+v", s.records())
	}

	// A previewed update runs nothing and makes stdout unknown when an input changed.
	inputs["create"] = resource.NewStringProperty("echo real")
	state, err := tp.create(t, commandURN, inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	news := inputs.Copy()
	news["create"] = resource.NewStringProperty("echo changed")
	resp, err := tp.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: commandURN, Olds: mustMarshal(t, state), News: mustMarshal(t, news), Preview: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out := mustUnmarshal(t, resp.GetProperties()); !out["stdout"].IsComputed() {
		t.Fatalf("previewed update stdout: %v", out["stdout"])
	}
	if len(s.records()) != 1 {
		t.Fatalf("runs: %+v", s.records())
	}
}

func mustTextAsset(t *testing.T, text string) *asset.Asset {
	t.Helper()
	a, err := asset.FromText(text)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestDiff(t *testing.T) {
	s := startServer(t)
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"create":     resource.NewStringProperty("echo a"),
		"triggers":   resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("v1")}),
	})
	state := inputs.Copy()
	state["stdout"] = resource.NewStringProperty("a")
	state["stderr"] = resource.NewStringProperty("")

	diff := func(news resource.PropertyMap) *pulumirpc.DiffResponse {
		t.Helper()
		resp, err := tp.Diff(context.Background(), &pulumirpc.DiffRequest{
			Urn: commandURN, Id: "x", Olds: mustMarshal(t, state), News: mustMarshal(t, news),
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	if d := diff(inputs); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE || len(d.GetDetailedDiff()) != 0 {
		t.Fatalf("unchanged inputs diff: %v", d)
	}

	// A changed trigger element: an update at triggers[0]; the engine replaces on it through the SDK's
	// replaceOnChanges ["triggers[*]"], as with upstream.
	news := inputs.Copy()
	news["triggers"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("v2")})
	d := diff(news)
	if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME ||
		d.GetDetailedDiff()["triggers[0]"].GetKind() != pulumirpc.PropertyDiff_UPDATE {
		t.Fatalf("changed trigger diff: %v", d)
	}

	// Triggers removed altogether: a replacement by the provider itself.
	news = inputs.Copy()
	delete(news, "triggers")
	d = diff(news)
	if d.GetDetailedDiff()["triggers"].GetKind() != pulumirpc.PropertyDiff_DELETE_REPLACE ||
		len(d.GetReplaces()) != 1 || d.GetReplaces()[0] != "triggers" {
		t.Fatalf("removed triggers diff: %v", d)
	}

	// A changed connection or command is an update, not a replacement.
	news = inputs.Copy()
	news["connection"] = conn(s, map[string]any{"port": 2222.0})
	news = tp.check(t, commandURN, news)
	d = diff(news)
	if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(d.GetReplaces()) != 0 {
		t.Fatalf("changed connection diff: %v", d)
	}
	news = inputs.Copy()
	news["create"] = resource.NewStringProperty("echo b")
	if d = diff(news); d.GetDetailedDiff()["create"].GetKind() != pulumirpc.PropertyDiff_UPDATE {
		t.Fatalf("changed create diff: %v", d)
	}
}

func TestCheck(t *testing.T) {
	tp := newTestProvider()
	resp, err := tp.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: commandURN,
		News: mustMarshal(t, resource.PropertyMap{
			"connection": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{
				"host":  resource.NewStringProperty("10.0.0.5"),
				"proxy": resource.NewObjectProperty(resource.PropertyMap{"host": resource.NewStringProperty("bastion")}),
			})),
		}),
	})
	if err != nil || len(resp.GetFailures()) != 0 {
		t.Fatalf("check: %v %v", err, resp.GetFailures())
	}
	checked := mustUnmarshal(t, resp.GetInputs())
	if !checked["connection"].IsSecret() {
		t.Fatal("the connection is no longer secret")
	}
	c := checked["connection"].SecretValue().Element.ObjectValue()
	proxy := c["proxy"].ObjectValue()
	for _, m := range []resource.PropertyMap{c, proxy} {
		if m["user"].StringValue() != "root" || m["port"].NumberValue() != 22 ||
			m["dialErrorLimit"].NumberValue() != 10 || m["perDialTimeout"].NumberValue() != 15 {
			t.Fatalf("defaults not applied: %v", m)
		}
	}
	if !checked["addPreviousOutputInEnv"].BoolValue() {
		t.Fatal("addPreviousOutputInEnv does not default to true")
	}

	// An unknown field in the connection is a failure that names the field, never the values.
	resp, err = tp.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: commandURN,
		News: mustMarshal(t, resource.PropertyMap{
			"connection": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{
				"host":       resource.NewStringProperty("10.0.0.5"),
				"privateKey": resource.NewStringProperty("PRIVATE-KEY-MATERIAL"),
				"extraField": resource.NewStringProperty("x"),
			})),
		}),
	})
	if err != nil || len(resp.GetFailures()) != 1 || resp.GetFailures()[0].GetProperty() != "connection.extraField" {
		t.Fatalf("unknown field: %v %v", err, resp.GetFailures())
	}
	if strings.Contains(resp.GetFailures()[0].GetReason(), "PRIVATE-KEY") {
		t.Fatal("the failure leaks the private key")
	}

	// A missing host, and a bad logging value.
	resp, _ = tp.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: commandURN,
		News: mustMarshal(t, resource.PropertyMap{
			"connection": resource.NewObjectProperty(resource.PropertyMap{}),
			"logging":    resource.NewStringProperty("everything"),
		}),
	})
	got := map[string]bool{}
	for _, f := range resp.GetFailures() {
		got[f.GetProperty()] = true
	}
	if !got["connection.host"] || !got["logging"] {
		t.Fatalf("failures: %v", resp.GetFailures())
	}

	// An unknown connection (a preview with a host not yet known) passes.
	resp, _ = tp.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn:  commandURN,
		News: mustMarshal(t, resource.PropertyMap{"connection": resource.MakeComputed(resource.NewStringProperty(""))}),
	})
	if len(resp.GetFailures()) != 0 {
		t.Fatalf("unknown connection failed: %v", resp.GetFailures())
	}
}

func TestCopyToRemote(t *testing.T) {
	s := startServer(t)
	tp := newTestProvider()
	root := t.TempDir()

	// A StringAsset into directories that do not exist yet.
	remote := filepath.Join(root, "a", "b", "settings.conf")
	inputs := tp.check(t, copyURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"source":     resource.NewAssetProperty(mustTextAsset(t, "key = value\n")),
		"remotePath": resource.NewStringProperty(remote),
	})
	state, err := tp.create(t, copyURN, inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(remote); err != nil || string(b) != "key = value\n" {
		t.Fatalf("copied text: %q %v", b, err)
	}

	// An update with the same content copies nothing; new content is copied.
	if err := os.WriteFile(remote, []byte("changed on the host"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := tp.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: copyURN, Olds: mustMarshal(t, state), News: mustMarshal(t, inputs),
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(remote); string(b) != "changed on the host" {
		t.Fatal("an update with the same hash copied again")
	}
	news := inputs.Copy()
	news["source"] = resource.NewAssetProperty(mustTextAsset(t, "key = other\n"))
	if _, err = tp.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: copyURN, Olds: resp.GetProperties(), News: mustMarshal(t, news),
	}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(remote); string(b) != "key = other\n" {
		t.Fatalf("new content not copied: %q", b)
	}

	// A FileAsset into an existing directory lands under its own name.
	local := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(local, []byte("payload"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileAsset, err := asset.FromPath(local)
	if err != nil {
		t.Fatal(err)
	}
	inputs = tp.check(t, copyURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"source":     resource.NewAssetProperty(fileAsset),
		"remotePath": resource.NewStringProperty(filepath.Join(root, "a")),
	})
	if _, err := tp.create(t, copyURN, inputs, false); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "a", "payload.bin")); err != nil || string(b) != "payload" {
		t.Fatalf("copied file: %q %v", b, err)
	}

	// A StringAsset onto a directory is an error.
	inputs = tp.check(t, copyURN, resource.PropertyMap{
		"connection": conn(s, nil),
		"source":     resource.NewAssetProperty(mustTextAsset(t, "x")),
		"remotePath": resource.NewStringProperty(filepath.Join(root, "a")),
	})
	if _, err := tp.create(t, copyURN, inputs, false); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("text onto a directory: %v", err)
	}

	// A remote asset is refused by Check (made by hand: asset.FromURI would fetch it to hash it).
	uriAsset := &asset.Asset{Sig: asset.AssetSig, URI: "https://example.invalid/x", Hash: "00"}
	check, err := tp.Check(context.Background(), &pulumirpc.CheckRequest{Urn: copyURN, News: mustMarshal(t, resource.PropertyMap{
		"connection": conn(s, nil),
		"source":     resource.NewAssetProperty(uriAsset),
		"remotePath": resource.NewStringProperty("/tmp/x"),
	})})
	if err != nil || len(check.GetFailures()) != 1 || check.GetFailures()[0].GetProperty() != "asset" {
		t.Fatalf("remote asset: %v %v", err, check.GetFailures())
	}
}

func TestDialErrorLimit(t *testing.T) {
	// A listener that closes every connection at once: each dial fails.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	var attempts atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			_ = c.Close()
		}
	}()
	s := &testServer{hostKeys: []string{""}, listener: l}
	port := s.port()
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, map[string]any{"port": port, "dialErrorLimit": 2, "privateKey": nil, "hostKey": nil}),
		"create":     resource.NewStringProperty("true"),
	})
	_, err = tp.create(t, commandURN, inputs, false)
	if err == nil || !strings.HasPrefix(err.Error(), "after 2 failed attempts: ") {
		t.Fatalf("error = %v", err)
	}
	if got := attempts.Load(); got != 3 {
		t.Fatalf("%d dials, want 3 (the first and 2 retries)", got)
	}
	status := strings.Join(tp.entries(diag.Info, true), "|")
	if status != "Dial 1/2 failed: retrying|Dial 2/2 failed: retrying" {
		t.Fatalf("status messages: %q", status)
	}

	// Unlimited retries (-1) end with the step's custom timeout.
	inputs = tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, map[string]any{"port": port, "dialErrorLimit": -1, "privateKey": nil, "hostKey": nil}),
		"create":     resource.NewStringProperty("true"),
	})
	_, err = tp.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: commandURN, Properties: mustMarshal(t, inputs), Timeout: 1,
	})
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Fatalf("unlimited dial under a timeout: %v", err)
	}
}

func TestPasswordAuth(t *testing.T) {
	s := startServer(t)
	tp := newTestProvider()
	inputs := tp.check(t, commandURN, resource.PropertyMap{
		"connection": conn(s, map[string]any{"privateKey": nil, "password": "secret-password"}),
		"create":     resource.NewStringProperty("echo by-password"),
	})
	out, err := tp.create(t, commandURN, inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stringOutput(t, out, "stdout"); got != "by-password" {
		t.Fatalf("stdout = %q", got)
	}
}

func TestReadReturnsStateUnchanged(t *testing.T) {
	tp := newTestProvider()
	state := resource.PropertyMap{"create": resource.NewStringProperty("x"), "stdout": resource.NewStringProperty("y")}
	resp, err := tp.Read(context.Background(), &pulumirpc.ReadRequest{
		Urn: commandURN, Id: "id1", Properties: mustMarshal(t, state), Inputs: mustMarshal(t, state),
	})
	if err != nil || resp.GetId() != "id1" || !mustUnmarshal(t, resp.GetProperties()).DeepEquals(state) {
		t.Fatalf("read: %v %v", resp, err)
	}
}
