// STAND-IN, not the real provider code: part of the stand-ins for pulumi-resource-random and
// pulumi-resource-tls, written by this project because the Go module proxy refuses the real providers'
// modules (see ../../README.md). This file holds the helpers on Pulumi property values that the
// schema-driven planner (schema.go) and the resources use.

package standin

import (
	"fmt"
	"math"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Null is the absent value.
func Null() resource.PropertyValue { return resource.NewNullProperty() }

// Unknown is a value that is not known until the resource is created (a preview's computed output).
func Unknown() resource.PropertyValue { return resource.MakeComputed(resource.NewStringProperty("")) }

// Str, Int and Bool build known values.
func Str(s string) resource.PropertyValue { return resource.NewStringProperty(s) }
func Int(i int64) resource.PropertyValue  { return resource.NewNumberProperty(float64(i)) }
func Bool(b bool) resource.PropertyValue  { return resource.NewBoolProperty(b) }

// StrList builds a known list of strings.
func StrList(items []string) resource.PropertyValue {
	values := make([]resource.PropertyValue, len(items))
	for i, item := range items {
		values[i] = resource.NewStringProperty(item)
	}
	return resource.NewArrayProperty(values)
}

// Unwrap removes secret markers, at any depth: the engine strips them before calling a provider that does
// not accept secrets (as the real bridged providers do not), but values in tests may carry them.
func Unwrap(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return Unwrap(v.SecretValue().Element)
	case v.IsArray():
		items := v.ArrayValue()
		out := make([]resource.PropertyValue, len(items))
		for i, item := range items {
			out[i] = Unwrap(item)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		obj := v.ObjectValue()
		out := make(resource.PropertyMap, len(obj))
		for k, item := range obj {
			out[k] = Unwrap(item)
		}
		return resource.NewObjectProperty(out)
	case v.IsOutput():
		out := v.OutputValue()
		if !out.Known {
			return Unknown()
		}
		return Unwrap(out.Element)
	}
	return v
}

// Get reads a property, absent and null alike giving Null, secrets unwrapped.
func Get(m resource.PropertyMap, key resource.PropertyKey) resource.PropertyValue {
	if m == nil {
		return Null()
	}
	v, ok := m[key]
	if !ok {
		return Null()
	}
	return Unwrap(v)
}

// IsUnknown tells whether a value is, or contains, a value not known yet.
func IsUnknown(v resource.PropertyValue) bool {
	return v.ContainsUnknowns()
}

// Equal compares two values as the Terraform plugin framework compares planned and prior values: an unknown
// value equals nothing, null equals only null, objects ignore null fields.
func Equal(a, b resource.PropertyValue) bool {
	a, b = Unwrap(a), Unwrap(b)
	if IsUnknown(a) || IsUnknown(b) {
		return false
	}
	if a.IsNull() || b.IsNull() {
		return a.IsNull() && b.IsNull()
	}
	switch {
	case a.IsString():
		return b.IsString() && a.StringValue() == b.StringValue()
	case a.IsNumber():
		return b.IsNumber() && a.NumberValue() == b.NumberValue()
	case a.IsBool():
		return b.IsBool() && a.BoolValue() == b.BoolValue()
	case a.IsArray():
		if !b.IsArray() || len(a.ArrayValue()) != len(b.ArrayValue()) {
			return false
		}
		for i := range a.ArrayValue() {
			if !Equal(a.ArrayValue()[i], b.ArrayValue()[i]) {
				return false
			}
		}
		return true
	case a.IsObject():
		if !b.IsObject() {
			return false
		}
		ao, bo := DropNulls(a.ObjectValue()), DropNulls(b.ObjectValue())
		if len(ao) != len(bo) {
			return false
		}
		for k, av := range ao {
			bv, ok := bo[k]
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	}
	return a.DeepEquals(b)
}

// DropNulls copies an object without its null fields.
func DropNulls(m resource.PropertyMap) resource.PropertyMap {
	out := make(resource.PropertyMap, len(m))
	for k, v := range m {
		if !v.IsNull() {
			out[k] = v
		}
	}
	return out
}

// AsString, AsInt, AsBool and AsStrings read known values; a planner has checked their kinds before.
func AsString(v resource.PropertyValue) string {
	v = Unwrap(v)
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func AsInt(v resource.PropertyValue) int64 {
	v = Unwrap(v)
	if v.IsNumber() {
		return int64(v.NumberValue())
	}
	return 0
}

func AsBool(v resource.PropertyValue) bool {
	v = Unwrap(v)
	return v.IsBool() && v.BoolValue()
}

func AsStrings(v resource.PropertyValue) []string {
	v = Unwrap(v)
	if !v.IsArray() {
		return nil
	}
	out := make([]string, 0, len(v.ArrayValue()))
	for _, item := range v.ArrayValue() {
		out = append(out, AsString(item))
	}
	return out
}

// SortedKeys lists a set of keys in order.
func SortedKeys(set map[resource.PropertyKey]bool) []resource.PropertyKey {
	keys := make([]resource.PropertyKey, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// typeName names a value's kind for a failure message.
func typeName(v resource.PropertyValue) string {
	switch {
	case v.IsString():
		return "string"
	case v.IsNumber():
		return "number"
	case v.IsBool():
		return "bool"
	case v.IsArray():
		return "list"
	case v.IsObject():
		return "object"
	case v.IsAsset(), v.IsArchive():
		return "asset"
	case v.IsResourceReference():
		return "resource reference"
	}
	return fmt.Sprintf("%v", v.TypeString())
}

// isWholeNumber tells whether a number converts to an int64 as Terraform's number-to-int64 does.
func isWholeNumber(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0) && f == math.Trunc(f) && math.Abs(f) < 1<<63
}
