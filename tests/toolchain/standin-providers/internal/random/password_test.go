// Tests of the STAND-IN random provider (see ../../README.md): the generator's character classes and
// minimums, the bcrypt hash, and the real provider's defaults, checks and replacement rules.

package random

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"mattermost-platform/toolchain/standin-providers/internal/standin"
)

type noEnv struct{}

func (noEnv) Warn(context.Context, string) {}

func count(s, set string) int {
	n := 0
	for _, c := range s {
		if strings.ContainsRune(set, c) {
			n++
		}
	}
	return n
}

const (
	upperSet   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerSet   = "abcdefghijklmnopqrstuvwxyz"
	numSet     = "0123456789"
	specialSet = "!@#$%&*()-_=+[]{}<>:?"
)

func TestCreateStringClassesAndMinimums(t *testing.T) {
	for i := 0; i < 200; i++ {
		s, err := CreateString(StringParams{Length: 20, Upper: true, Lower: true, Numeric: true, Special: false})
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 20 || count(string(s), upperSet+lowerSet+numSet) != 20 {
			t.Fatalf("special:false gave %q", s)
		}
		s, err = CreateString(StringParams{Length: 12, Upper: false, Lower: true, Numeric: false, Special: true,
			MinUpper: 3, MinNumeric: 2, MinSpec: 4, MinLower: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 12 || count(string(s), upperSet) != 3 || count(string(s), numSet) != 2 ||
			count(string(s), specialSet) < 4 || count(string(s), lowerSet) < 1 {
			t.Fatalf("minimums not met in %q", s)
		}
		s, err = CreateString(StringParams{Length: 8, Special: true, OverrideSpecial: "^"})
		if err != nil {
			t.Fatal(err)
		}
		if string(s) != "^^^^^^^^" {
			t.Fatalf("override_special gave %q", s)
		}
	}
	if _, err := CreateString(StringParams{Length: 4}); err == nil {
		t.Fatal("no character class: expected an error")
	}
}

func TestGenerateHashTruncatesAt72Bytes(t *testing.T) {
	long := strings.Repeat("a", 72) + "tail"
	hash, err := GenerateHash(long)
	if err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(long[:72])); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("not a cost-10 bcrypt hash: %s", hash)
	}
}

func create(t *testing.T, r *standin.Resource, config resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	_, failures := r.Check(context.Background(), noEnv{}, config)
	if len(failures) > 0 {
		t.Fatalf("check: %v", failures)
	}
	id, outputs, err := r.CreateState(context.Background(), noEnv{}, config, false)
	if err != nil {
		t.Fatal(err)
	}
	if id != "none" {
		t.Fatalf("id %q", id)
	}
	return standin.Unwrap(resource.NewObjectProperty(outputs)).ObjectValue()
}

func TestPasswordCreateOutputs(t *testing.T) {
	r := Password()
	config := resource.PropertyMap{"length": standin.Int(20), "special": standin.Bool(false)}
	inputs, _ := r.Check(context.Background(), noEnv{}, config)
	if len(inputs) != 2 {
		t.Fatalf("Check must not fill defaults: %v", inputs)
	}
	_, outputs, err := r.CreateState(context.Background(), noEnv{}, config, false)
	if err != nil {
		t.Fatal(err)
	}
	if !outputs["result"].IsSecret() || !outputs["bcryptHash"].IsSecret() {
		t.Fatal("result and bcryptHash must be secrets")
	}
	if got := outputs["__meta"].StringValue(); got != `{"schema_version":"3"}` {
		t.Fatalf("__meta %s", got)
	}
	state := standin.Unwrap(resource.NewObjectProperty(outputs)).ObjectValue()
	for key, want := range map[resource.PropertyKey]resource.PropertyValue{
		"length": standin.Int(20), "special": standin.Bool(false), "upper": standin.Bool(true),
		"lower": standin.Bool(true), "number": standin.Bool(true), "numeric": standin.Bool(true),
		"minLower": standin.Int(0), "minUpper": standin.Int(0), "minNumeric": standin.Int(0),
		"minSpecial": standin.Int(0), "id": standin.Str("none"),
	} {
		if !standin.Equal(state[key], want) {
			t.Errorf("%s = %v, want %v", key, state[key], want)
		}
	}
	if _, ok := state["overrideSpecial"]; ok {
		t.Error("null overrideSpecial must be omitted")
	}
	result := state["result"].StringValue()
	if len(result) != 20 || count(result, upperSet+lowerSet+numSet) != 20 {
		t.Fatalf("result %q", result)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(state["bcryptHash"].StringValue()), []byte(result)); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordCheckFailures(t *testing.T) {
	r := Password()
	for name, config := range map[string]resource.PropertyMap{
		"missing length": {},
		"length 0":       {"length": standin.Int(0)},
		"sum of minimums": {"length": standin.Int(3), "minUpper": standin.Int(2),
			"minNumeric": standin.Int(2)},
		"not a number":  {"length": standin.Str("x")},
		"not whole":     {"length": resource.NewNumberProperty(2.5)},
		"read-only set": {"length": standin.Int(5), "result": standin.Str("x")},
	} {
		if _, failures := r.Check(context.Background(), noEnv{}, config); len(failures) == 0 {
			t.Errorf("%s: expected a failure", name)
		}
	}
	unknown := resource.PropertyMap{"length": standin.Unknown(), "minUpper": standin.Int(3)}
	if _, failures := r.Check(context.Background(), noEnv{}, unknown); len(failures) != 0 {
		t.Errorf("unknown length: %v", failures)
	}
}

func TestPasswordDiff(t *testing.T) {
	r := Password()
	base := resource.PropertyMap{"length": standin.Int(20), "special": standin.Bool(false)}
	state := create(t, r, base)

	diff, err := r.Diff(state, base)
	if err != nil || diff.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("unchanged: %v %v", diff, err)
	}

	cases := []struct {
		name    string
		config  resource.PropertyMap
		replace []string
		changed bool
	}{
		{"length", resource.PropertyMap{"length": standin.Int(21), "special": standin.Bool(false)}, []string{"length"}, true},
		{"special default", resource.PropertyMap{"length": standin.Int(20)}, []string{"special"}, true},
		{"numeric", resource.PropertyMap{"length": standin.Int(20), "special": standin.Bool(false),
			"numeric": standin.Bool(false)}, []string{"number", "numeric"}, true},
		{"explicit defaults", resource.PropertyMap{"length": standin.Int(20), "special": standin.Bool(false),
			"upper": standin.Bool(true), "minLower": standin.Int(0), "number": standin.Bool(true)}, nil, false},
		{"keepers added", resource.PropertyMap{"length": standin.Int(20), "special": standin.Bool(false),
			"keepers": resource.NewObjectProperty(resource.PropertyMap{"a": standin.Str("1")})}, []string{"keepers"}, true},
		{"unknown length", resource.PropertyMap{"length": standin.Unknown(), "special": standin.Bool(false)},
			[]string{"length"}, true},
	}
	for _, c := range cases {
		diff, err := r.Diff(state, c.config)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if strings.Join(diff.Replaces, ",") != strings.Join(c.replace, ",") {
			t.Errorf("%s: replaces %v, want %v", c.name, diff.Replaces, c.replace)
		}
		if (diff.Changes == pulumirpc.DiffResponse_DIFF_SOME) != c.changed {
			t.Errorf("%s: changes %v", c.name, diff.Changes)
		}
	}

	// A change of keepers' values replaces; "" to null for override_special does not.
	withKeepers := resource.PropertyMap{"length": standin.Int(20), "special": standin.Bool(false),
		"keepers": resource.NewObjectProperty(resource.PropertyMap{"a": standin.Str("1")}), "overrideSpecial": standin.Str("")}
	state = create(t, r, withKeepers)
	changedKeepers := withKeepers.Copy()
	changedKeepers["keepers"] = resource.NewObjectProperty(resource.PropertyMap{"a": standin.Str("2")})
	if diff, _ := r.Diff(state, changedKeepers); strings.Join(diff.Replaces, ",") != "keepers" {
		t.Errorf("keepers value change: %v", diff.Replaces)
	}
	noOverride := withKeepers.Copy()
	delete(noOverride, "overrideSpecial")
	diff, _ = r.Diff(state, noOverride)
	if len(diff.Replaces) != 0 || diff.Changes != pulumirpc.DiffResponse_DIFF_SOME {
		t.Errorf(`override_special "" to null must update in place: %v`, diff)
	}
	updated, err := r.UpdateState(state, noOverride, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := updated["overrideSpecial"]; ok || !standin.Equal(standin.Get(updated, "result"), state["result"]) {
		t.Errorf("update must drop overrideSpecial and keep the result: %v", updated)
	}
}

func TestPasswordNumberNumericConflict(t *testing.T) {
	r := Password()
	config := resource.PropertyMap{"length": standin.Int(5), "number": standin.Bool(true), "numeric": standin.Bool(false)}
	if _, _, err := r.CreateState(context.Background(), noEnv{}, config, true); err == nil {
		t.Fatal("expected the number/numeric conflict")
	}
	config = resource.PropertyMap{"length": standin.Int(5), "number": standin.Bool(false)}
	state := create(t, r, config)
	if standin.AsBool(state["numeric"]) || count(state["result"].StringValue(), numSet) != 0 {
		t.Fatalf("number:false must set numeric:false: %v", state)
	}
}

func TestPasswordPreviewAndImport(t *testing.T) {
	r := Password()
	_, outputs, err := r.CreateState(context.Background(), noEnv{}, resource.PropertyMap{"length": standin.Unknown()}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []resource.PropertyKey{"length", "result", "bcryptHash", "id"} {
		if !standin.IsUnknown(standin.Get(outputs, key)) {
			t.Errorf("preview %s: %v", key, outputs[key])
		}
	}
	if !standin.AsBool(outputs["upper"]) {
		t.Error("preview must fill defaults")
	}
	state, inputs, err := r.ReadState("s3cr3t-value", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if standin.Get(state, "result").StringValue() != "s3cr3t-value" || standin.AsInt(standin.Get(inputs, "length")) != 12 {
		t.Fatalf("import: %v %v", state, inputs)
	}
}
