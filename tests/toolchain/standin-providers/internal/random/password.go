// Package random is a STAND-IN for the random provider (@pulumi/random 4.21.2, which bridges
// hashicorp/terraform-provider-random), written by this project: the Go module proxy refuses
// github.com/pulumi/pulumi-random/provider/v4 and the Terraform provider it bridges at every version, so
// the real provider cannot be built here. It implements random:index/randomPassword:RandomPassword, the
// one resource the program uses, with the real schema (inputs, defaults, replacement rules, sensitive
// outputs, schema version 3) and the real generator, read from the upstream source and rewritten here.
package random

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"golang.org/x/crypto/bcrypt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mattermost-platform/toolchain/standin-providers/internal/standin"
)

// Version is the version of @pulumi/random the program asks for, marked as a stand-in build.
const Version = "4.21.2+standin"

// Provider is the stand-in random provider.
func Provider() *standin.Provider {
	return &standin.Provider{Name: "random", Version: Version, Resources: []*standin.Resource{Password()}}
}

func val(v resource.PropertyValue) *resource.PropertyValue { return &v }

// atLeast is int64validator.AtLeast.
func atLeast(tf string, minimum int64) func(resource.PropertyValue) []string {
	return func(v resource.PropertyValue) []string {
		if n := standin.AsInt(v); n < minimum {
			return []string{fmt.Sprintf("Attribute %s value must be at least %d, got: %d", tf, minimum, n)}
		}
		return nil
	}
}

// numberNumeric is the provider's NumberNumericAttributePlanModifier: `number` (deprecated) and `numeric`
// are kept equal; unset, both are true.
func numberNumeric(key resource.PropertyKey) func(p *standin.Plan) error {
	return func(p *standin.Plan) error {
		number, numeric := standin.Get(p.Config, "number"), standin.Get(p.Config, "numeric")
		switch {
		case !number.IsNull() && !numeric.IsNull() && !standin.IsUnknown(number) && !standin.IsUnknown(numeric) &&
			number.BoolValue() != numeric.BoolValue():
			return errors.New("Number and numeric are both configured with different values: " +
				"Number is deprecated, use numeric instead")
		case number.IsNull() && numeric.IsNull():
			p.Planned[key] = standin.Bool(true)
		case number.IsNull():
			p.Planned[key] = numeric
		case numeric.IsNull():
			p.Planned[key] = number
		}
		return nil
	}
}

// keepersReplace is the provider's RequiresReplaceIfValuesNotNull: a change of keepers replaces, except
// when it only adds or removes keys whose values are null.
func keepersReplace(state, _, config resource.PropertyValue) bool {
	configMap := resource.PropertyMap{}
	if config.IsObject() {
		configMap = config.ObjectValue()
	}
	if state.IsNull() {
		for _, v := range configMap {
			if !v.IsNull() {
				return true
			}
		}
		return false
	}
	stateMap := state.ObjectValue()
	for k, v := range configMap {
		sv, ok := stateMap[k]
		if !ok && v.IsNull() {
			continue
		}
		if !standin.Equal(v, sv) {
			return true
		}
	}
	for k := range stateMap {
		if _, ok := configMap[k]; !ok {
			return true
		}
	}
	return false
}

// overrideSpecialReplace is RequiresReplaceIf(RequiresReplaceUnlessEmptyStringToNull): replace, unless
// the change is from "" to null.
func overrideSpecialReplace(state, _, config resource.PropertyValue) bool {
	if standin.IsUnknown(config) {
		return false
	}
	if !config.IsNull() || state.IsNull() {
		return true
	}
	return standin.AsString(state) != ""
}

// Password is random:index/randomPassword:RandomPassword (random_password, schema version 3).
func Password() *standin.Resource {
	boolDefault := func(key resource.PropertyKey, tf string) *standin.Attr {
		return &standin.Attr{Key: key, TF: tf, Kind: standin.KindBool, Optional: true, Computed: true,
			Default: val(standin.Bool(true)), Replace: standin.RequiresReplace}
	}
	minimum := func(key resource.PropertyKey, tf string) *standin.Attr {
		return &standin.Attr{Key: key, TF: tf, Kind: standin.KindInt, Optional: true, Computed: true,
			Default: val(standin.Int(0)), Replace: standin.RequiresReplace}
	}
	return &standin.Resource{
		Token:         "random:index/randomPassword:RandomPassword",
		SchemaVersion: 3,
		Attrs: []*standin.Attr{
			{Key: "keepers", TF: "keepers", Kind: standin.KindStringMap, Optional: true, Replace: keepersReplace},
			{Key: "length", TF: "length", Kind: standin.KindInt, Required: true, Replace: standin.RequiresReplace,
				Validate: atLeast("length", 1)},
			boolDefault("special", "special"),
			boolDefault("upper", "upper"),
			boolDefault("lower", "lower"),
			{Key: "number", TF: "number", Kind: standin.KindBool, Optional: true, Computed: true,
				Modify: numberNumeric("number"), Replace: standin.RequiresReplace,
				Deprecated: "**NOTE**: This is deprecated, use `numeric` instead."},
			{Key: "numeric", TF: "numeric", Kind: standin.KindBool, Optional: true, Computed: true,
				Modify: numberNumeric("numeric"), Replace: standin.RequiresReplace},
			minimum("minNumeric", "min_numeric"),
			minimum("minUpper", "min_upper"),
			minimum("minLower", "min_lower"),
			minimum("minSpecial", "min_special"),
			{Key: "overrideSpecial", TF: "override_special", Kind: standin.KindString, Optional: true,
				Replace: overrideSpecialReplace},
			{Key: "result", TF: "result", Kind: standin.KindString, Computed: true, Sensitive: true, UseStateForUnknown: true},
			{Key: "bcryptHash", TF: "bcrypt_hash", Kind: standin.KindString, Computed: true, Sensitive: true, UseStateForUnknown: true},
			{Key: "id", TF: "id", Kind: standin.KindString, Computed: true, UseStateForUnknown: true},
		},
		ConfigValidators: []func(resource.PropertyMap) []standin.Failure{lengthAtLeastSumOfMinimums},
		Create:           createPassword,
		Import:           importPassword,
	}
}

// lengthAtLeastSumOfMinimums is int64validator.AtLeastSumOf(min_upper, min_lower, min_numeric,
// min_special) on length, over the configured minimums.
func lengthAtLeastSumOfMinimums(config resource.PropertyMap) []standin.Failure {
	length := standin.Get(config, "length")
	if length.IsNull() || standin.IsUnknown(length) {
		return nil
	}
	var sum int64
	for _, key := range []resource.PropertyKey{"minUpper", "minLower", "minNumeric", "minSpecial"} {
		v := standin.Get(config, key)
		if standin.IsUnknown(v) {
			return nil
		}
		sum += standin.AsInt(v)
	}
	if n := standin.AsInt(length); n < sum {
		return []standin.Failure{{Property: "length", Reason: fmt.Sprintf("Invalid Attribute Value: Attribute length "+
			"value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: %d", n)}}
	}
	return nil
}

// StringParams are the generator's parameters (the provider's random.StringParams).
type StringParams struct {
	Length                                  int64
	Upper, Lower, Numeric, Special          bool
	MinUpper, MinLower, MinNumeric, MinSpec int64
	OverrideSpecial                         string
}

// CreateString generates a random string as the provider does: first the minimum counts of each class,
// then the rest from the enabled classes, then a shuffle; all from crypto/rand.
func CreateString(p StringParams) ([]byte, error) {
	const numChars = "0123456789"
	const lowerChars = "abcdefghijklmnopqrstuvwxyz"
	const upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	specialChars := "!@#$%&*()-_=+[]{}<>:?"
	if p.OverrideSpecial != "" {
		specialChars = p.OverrideSpecial
	}
	chars := ""
	if p.Upper {
		chars += upperChars
	}
	if p.Lower {
		chars += lowerChars
	}
	if p.Numeric {
		chars += numChars
	}
	if p.Special {
		chars += specialChars
	}
	minimums := map[string]int64{
		numChars:     p.MinNumeric,
		lowerChars:   p.MinLower,
		upperChars:   p.MinUpper,
		specialChars: p.MinSpec,
	}
	result := make([]byte, 0, p.Length)
	for set, count := range minimums {
		s, err := randomBytes(set, count)
		if err != nil {
			return nil, err
		}
		result = append(result, s...)
	}
	s, err := randomBytes(chars, p.Length-int64(len(result)))
	if err != nil {
		return nil, err
	}
	result = append(result, s...)
	order := make([]byte, len(result))
	if _, err := rand.Read(order); err != nil {
		return nil, err
	}
	sort.Slice(result, func(i, j int) bool { return order[i] < order[j] })
	return result, nil
}

func randomBytes(set string, length int64) ([]byte, error) {
	if length <= 0 {
		return nil, nil
	}
	if set == "" {
		// The provider would panic here (crypto/rand.Int of 0); an error says why instead.
		return nil, errors.New("no character class is enabled to draw the remaining characters from: " +
			"enable at least one of upper, lower, numeric and special, or raise the minimums to the length")
	}
	bytes := make([]byte, length)
	setLen := big.NewInt(int64(len(set)))
	for i := range bytes {
		idx, err := rand.Int(rand.Reader, setLen)
		if err != nil {
			return nil, err
		}
		bytes[i] = set[idx.Int64()]
	}
	return bytes, nil
}

// GenerateHash is the provider's bcrypt hash of the result: the first 72 bytes (bcrypt's limit; the
// provider truncates rather than fail), at bcrypt's default cost.
func GenerateHash(password string) (string, error) {
	b := []byte(password)
	if len(b) > 72 {
		b = b[:72]
	}
	hash, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	return string(hash), err
}

func createPassword(_ context.Context, _ standin.Env, plan, _ resource.PropertyMap) (resource.PropertyMap, error) {
	result, err := CreateString(StringParams{
		Length:          standin.AsInt(plan["length"]),
		Upper:           standin.AsBool(plan["upper"]),
		MinUpper:        standin.AsInt(plan["minUpper"]),
		Lower:           standin.AsBool(plan["lower"]),
		MinLower:        standin.AsInt(plan["minLower"]),
		Numeric:         standin.AsBool(plan["numeric"]),
		MinNumeric:      standin.AsInt(plan["minNumeric"]),
		Special:         standin.AsBool(plan["special"]),
		MinSpec:         standin.AsInt(plan["minSpecial"]),
		OverrideSpecial: standin.AsString(plan["overrideSpecial"]),
	})
	if err != nil {
		return nil, fmt.Errorf("Random Read Error: While attempting to generate a random value for this resource, "+
			"an error occurred: %w", err)
	}
	hash, err := GenerateHash(string(result))
	if err != nil {
		return nil, fmt.Errorf("Hash Generation Error: %w", err)
	}
	state := plan.Copy()
	state["result"] = standin.Str(string(result))
	state["bcryptHash"] = standin.Str(hash)
	state["id"] = standin.Str("none")
	return state, nil
}

// importPassword is the provider's ImportState: the ID is the password.
func importPassword(id string) (resource.PropertyMap, error) {
	hash, err := GenerateHash(id)
	if err != nil {
		return nil, fmt.Errorf("Hash Generation Error: %w", err)
	}
	return resource.PropertyMap{
		"id":         standin.Str("none"),
		"result":     standin.Str(id),
		"length":     standin.Int(int64(len(id))),
		"special":    standin.Bool(true),
		"upper":      standin.Bool(true),
		"lower":      standin.Bool(true),
		"number":     standin.Bool(true),
		"numeric":    standin.Bool(true),
		"minSpecial": standin.Int(0),
		"minUpper":   standin.Int(0),
		"minLower":   standin.Int(0),
		"minNumeric": standin.Int(0),
		"bcryptHash": standin.Str(hash),
	}, nil
}
