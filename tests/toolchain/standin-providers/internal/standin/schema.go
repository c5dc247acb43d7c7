// STAND-IN, not the real provider code: part of the stand-ins for pulumi-resource-random and
// pulumi-resource-tls, written by this project because the Go module proxy refuses the real providers'
// modules (see ../../README.md).
//
// The real providers are Terraform providers built on the Terraform plugin framework and bridged to
// Pulumi by pulumi-terraform-bridge. What the engine sees of them follows from each resource's schema
// (which attributes are inputs, which are computed, their defaults, which changes force a replacement)
// and from how the framework plans a change. This file models just that much: a resource is a list of
// attributes, and plan() computes the planned state from the prior state and the configuration the way
// the framework's PlanResourceChange does, in the same order of steps:
//
//  1. the proposed new state: configured values, else a computed attribute keeps its prior value;
//  2. attribute defaults (`Default:`) fill unset attributes;
//  3. if anything differs from the prior state (or there is none), computed attributes that are not
//     configured become unknown;
//  4. each attribute's plan modifiers run in schema order: UseStateForUnknown, the TLS provider's
//     DefaultValue modifier, a custom modifier, then the RequiresReplace rule;
//  5. the resource's own ModifyPlan.

package standin

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Kind is an attribute's Terraform type, as the Pulumi SDK sends it.
type Kind int

const (
	KindString Kind = iota
	KindInt
	KindBool
	KindStringList
	KindStringMap
	// KindObject is a nested block of at most one element, which the bridge flattens into an object.
	KindObject
)

// ReplaceFunc decides, once the planned value differs from the prior one, whether the change forces a
// replacement (the framework's RequiresReplace and RequiresReplaceIf).
type ReplaceFunc func(state, plan, config resource.PropertyValue) bool

// RequiresReplace replaces on any change.
func RequiresReplace(_, _, _ resource.PropertyValue) bool { return true }

// Attr is one attribute of a resource's schema.
type Attr struct {
	Key resource.PropertyKey // the Pulumi name, as the SDK sends it
	TF  string               // the Terraform name, for messages
	Kind
	Fields []*Attr // of a KindObject

	Required, Optional, Computed bool
	Sensitive                    bool // returned as a secret
	WriteOnly                    bool // used while creating, never kept in the state

	Default            *resource.PropertyValue // the framework's `Default:`
	DefaultValue       *resource.PropertyValue // the TLS provider's DefaultValue plan modifier
	UseStateForUnknown bool
	Modify             func(p *Plan) error // a custom attribute plan modifier
	Replace            ReplaceFunc

	Validate   func(v resource.PropertyValue) []string // on known, non-null configured values
	Deprecated string
}

func (a *Attr) isInput() bool { return a.Required || a.Optional }

// Failure is a Check failure: the Pulumi property it is about (empty for the whole resource) and why.
type Failure struct {
	Property resource.PropertyKey
	Reason   string
}

// Env is what a resource may use while it runs: the time, and a way to warn the user.
type Env interface {
	Warn(ctx context.Context, message string)
}

// Resource is one resource type of a stand-in provider.
type Resource struct {
	Token string
	// SchemaVersion is the Terraform schema version, which the bridge records as `__meta`.
	SchemaVersion int
	Attrs         []*Attr
	// ConfigValidators check the configuration as a whole (ExactlyOneOf and the like).
	ConfigValidators []func(config resource.PropertyMap) []Failure
	// ModifyPlan is the resource's ModifyPlan; it may add replacement reasons.
	ModifyPlan func(p *Plan) error
	// Create computes the computed attributes of a fully known plan. The configuration is given for the
	// write-only attributes, which a plan never holds.
	Create func(ctx context.Context, env Env, plan, config resource.PropertyMap) (resource.PropertyMap, error)
	// Read refreshes a state (nil: the state is returned unchanged).
	Read func(state resource.PropertyMap) resource.PropertyMap
	// Import builds a state from an ID (nil: import is not supported).
	Import func(id string) (resource.PropertyMap, error)
}

// Plan is a plan being computed: the prior state (nil when creating), the configuration and the planned
// state, and the attributes whose change forces a replacement.
type Plan struct {
	Prior, Config, Planned resource.PropertyMap
	Replace                map[resource.PropertyKey]bool
}

// Attr finds an attribute by its Pulumi name.
func (r *Resource) Attr(key resource.PropertyKey) *Attr {
	for _, a := range r.Attrs {
		if a.Key == key {
			return a
		}
	}
	return nil
}

// Check validates a configuration as the framework's ValidateResourceConfig does. It returns the
// configuration unchanged (the bridge fills no defaults in Check), with the sensitive inputs marked
// secret, and the failures.
func (r *Resource) Check(ctx context.Context, env Env, news resource.PropertyMap) (resource.PropertyMap, []Failure) {
	var failures []Failure
	for _, a := range r.Attrs {
		v := Get(news, a.Key)
		if v.IsNull() {
			if a.Required {
				failures = append(failures, Failure{a.Key, fmt.Sprintf(
					"Missing required argument: The argument %q is required, but no definition was found.", a.TF)})
			}
			continue
		}
		if !a.isInput() {
			failures = append(failures, Failure{a.Key, fmt.Sprintf(
				"Invalid Configuration for Read-Only Attribute: Cannot set value for %q, "+
					"as the provider has marked it as read-only.", a.TF)})
			continue
		}
		failures = append(failures, checkKind(a, a.Key, a.TF, v)...)
		if a.Deprecated != "" {
			env.Warn(ctx, fmt.Sprintf("Attribute Deprecated: %s is deprecated: %s", a.Key, a.Deprecated))
		}
	}
	if len(failures) == 0 {
		for _, validate := range r.ConfigValidators {
			failures = append(failures, validate(news)...)
		}
	}
	return r.MarkSecretInputs(news), failures
}

// checkKind checks a configured value's type, then the attribute's validators.
func checkKind(a *Attr, key resource.PropertyKey, path string, v resource.PropertyValue) []Failure {
	if v.IsComputed() || (v.IsOutput() && !v.OutputValue().Known) {
		return nil
	}
	wrong := func(want string) []Failure {
		return []Failure{{key, fmt.Sprintf("Invalid value for %s: expected a %s, got a %s", path, want, typeName(v))}}
	}
	switch a.Kind {
	case KindString:
		if !v.IsString() {
			return wrong("string")
		}
	case KindInt:
		if !v.IsNumber() {
			return wrong("number")
		}
		if !isWholeNumber(v.NumberValue()) {
			return []Failure{{key, fmt.Sprintf("Invalid value for %s: %v is not a whole number", path, v.NumberValue())}}
		}
	case KindBool:
		if !v.IsBool() {
			return wrong("bool")
		}
	case KindStringList:
		if !v.IsArray() {
			return wrong("list of strings")
		}
		for i, item := range v.ArrayValue() {
			item = Unwrap(item)
			if !item.IsNull() && !IsUnknown(item) && !item.IsString() {
				return []Failure{{key, fmt.Sprintf("Invalid value for %s[%d]: expected a string, got a %s", path, i, typeName(item))}}
			}
			if item.IsNull() {
				return []Failure{{key, fmt.Sprintf("Invalid value for %s[%d]: null value found in list", path, i)}}
			}
		}
	case KindStringMap:
		if !v.IsObject() {
			return wrong("map of strings")
		}
		for k, item := range v.ObjectValue() {
			item = Unwrap(item)
			if !item.IsNull() && !IsUnknown(item) && !item.IsString() {
				return []Failure{{key, fmt.Sprintf("Invalid value for %s[%q]: expected a string, got a %s", path, k, typeName(item))}}
			}
		}
	case KindObject:
		if !v.IsObject() {
			return wrong("object")
		}
		var failures []Failure
		for _, f := range a.Fields {
			fv := Get(v.ObjectValue(), f.Key)
			if fv.IsNull() {
				continue
			}
			failures = append(failures, checkKind(f, key, path+"."+f.TF, fv)...)
		}
		return failures
	}
	if a.Validate != nil && !IsUnknown(v) {
		var failures []Failure
		for _, reason := range a.Validate(v) {
			failures = append(failures, Failure{key, "Invalid Attribute Value: " + reason})
		}
		return failures
	}
	return nil
}

// normalize brings a configured value to the form the state keeps: objects keep only their schema's
// fields and no nulls.
func normalize(a *Attr, v resource.PropertyValue) resource.PropertyValue {
	v = Unwrap(v)
	if a.Kind != KindObject || !v.IsObject() {
		return v
	}
	out := resource.PropertyMap{}
	for _, f := range a.Fields {
		fv := Get(v.ObjectValue(), f.Key)
		if !fv.IsNull() {
			out[f.Key] = normalize(f, fv)
		}
	}
	return resource.NewObjectProperty(out)
}

// Plan computes the planned state from the prior state (nil when creating) and the configuration.
func (r *Resource) Plan(prior, config resource.PropertyMap) (*Plan, error) {
	p := &Plan{Prior: prior, Config: config, Planned: resource.PropertyMap{}, Replace: map[resource.PropertyKey]bool{}}

	// 1. and 2.: the proposed new state, with the defaults.
	for _, a := range r.Attrs {
		if a.WriteOnly {
			continue
		}
		cv := Get(config, a.Key)
		switch {
		case a.isInput() && !cv.IsNull():
			p.Planned[a.Key] = normalize(a, cv)
		case a.isInput() && a.Default != nil:
			p.Planned[a.Key] = *a.Default
		case a.Computed && prior != nil:
			p.Planned[a.Key] = Get(prior, a.Key)
		default:
			p.Planned[a.Key] = Null()
		}
	}

	// 3.: a change (or a creation) makes the unconfigured computed attributes unknown.
	changed := prior == nil
	for _, a := range r.Attrs {
		if !a.WriteOnly && !Equal(p.Planned[a.Key], Get(prior, a.Key)) {
			changed = true
		}
	}
	if changed {
		for _, a := range r.Attrs {
			if a.Computed && !a.WriteOnly && a.Default == nil && Get(config, a.Key).IsNull() {
				p.Planned[a.Key] = Unknown()
			}
		}
	}

	// 4.: the attribute plan modifiers.
	for _, a := range r.Attrs {
		if a.WriteOnly {
			continue
		}
		cv := Get(config, a.Key)
		if a.UseStateForUnknown && prior != nil && !Get(prior, a.Key).IsNull() &&
			IsUnknown(p.Planned[a.Key]) && !IsUnknown(cv) {
			p.Planned[a.Key] = Get(prior, a.Key)
		}
		if a.DefaultValue != nil && cv.IsNull() &&
			(IsUnknown(p.Planned[a.Key]) || p.Planned[a.Key].IsNull()) {
			p.Planned[a.Key] = *a.DefaultValue
		}
		if a.Modify != nil {
			if err := a.Modify(p); err != nil {
				return nil, err
			}
		}
		if a.Replace != nil && prior != nil {
			state := Get(prior, a.Key)
			if !Equal(p.Planned[a.Key], state) && a.Replace(state, p.Planned[a.Key], cv) {
				p.Replace[a.Key] = true
			}
		}
	}

	// 5.: the resource's ModifyPlan.
	if r.ModifyPlan != nil {
		if err := r.ModifyPlan(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Changed lists the attributes whose planned value differs from the prior one.
func (r *Resource) Changed(p *Plan) []resource.PropertyKey {
	set := map[resource.PropertyKey]bool{}
	for _, a := range r.Attrs {
		if !a.WriteOnly && !Equal(p.Planned[a.Key], Get(p.Prior, a.Key)) {
			set[a.Key] = true
		}
	}
	return SortedKeys(set)
}

// Outputs turns a state into the properties the bridge returns: every non-null attribute, the sensitive
// ones as secrets, and `__meta` with the schema version when it is not 0.
func (r *Resource) Outputs(state resource.PropertyMap, withMeta bool) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, a := range r.Attrs {
		if a.WriteOnly {
			continue
		}
		v := Get(state, a.Key)
		if v.IsNull() {
			continue
		}
		if a.Sensitive {
			v = resource.MakeSecret(v)
		}
		out[a.Key] = v
	}
	if withMeta && r.SchemaVersion > 0 {
		out["__meta"] = Str(fmt.Sprintf(`{"schema_version":"%d"}`, r.SchemaVersion))
	}
	return out
}

// MarkSecretInputs marks the sensitive inputs of a configuration secret, as the bridge's Check does.
func (r *Resource) MarkSecretInputs(inputs resource.PropertyMap) resource.PropertyMap {
	out := inputs.Copy()
	for k, v := range out {
		if a := r.Attr(k); a != nil && a.Sensitive && !v.IsNull() && !v.IsSecret() {
			out[k] = resource.MakeSecret(v)
		}
	}
	return out
}

// InputsOf extracts the inputs from a state, for an import, which has no prior inputs.
func (r *Resource) InputsOf(state resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, a := range r.Attrs {
		if v := Get(state, a.Key); a.isInput() && !a.WriteOnly && !v.IsNull() {
			out[a.Key] = v
		}
	}
	return r.MarkSecretInputs(out)
}

// ValidateKnown reports whether a state (or, inputsOnly, a plan's inputs) is known, naming what is not.
func (r *Resource) ValidateKnown(state resource.PropertyMap, inputsOnly bool) error {
	var unknown []string
	for _, a := range r.Attrs {
		if (a.isInput() || !inputsOnly) && IsUnknown(Get(state, a.Key)) {
			unknown = append(unknown, string(a.Key))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s: values not known after apply: %s", r.Token, strings.Join(unknown, ", "))
	}
	return nil
}
