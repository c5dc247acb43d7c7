// STAND-IN for pulumi-resource-command 1.2.1 (see main.go and README.md): the inputs of the two resources,
// their validation (Check) and the schema defaults that upstream's Check applies.
//
// Upstream decodes its inputs into typed structs (pulumi-go-provider's infer): a field of the wrong type, a
// missing required field or a field the type does not have is a check failure. The failures here name the
// property path and never its value, so a malformed connection cannot print a private key.
package main

import (
	"fmt"
	"math"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Defaults of the 1.2.1 schema (remote.Connection and remote.ProxyConnection, and remote.Command).
const (
	defaultUser           = "root"
	defaultPort           = 22
	defaultDialErrorLimit = 10
	defaultPerDialTimeout = 15
)

// The values of the remote.Logging enum; an absent value logs both streams.
const (
	logStdout          = "stdout"
	logStderr          = "stderr"
	logStdoutAndStderr = "stdoutAndStderr"
	logNone            = "none"
)

// connection is remote.Connection (with Proxy) or remote.ProxyConnection (without).
type connection struct {
	Host               *string
	Port               *float64
	User               *string
	Password           *string
	PrivateKey         *string
	PrivateKeyPassword *string
	AgentSocketPath    *string
	DialErrorLimit     *int
	PerDialTimeout     *int
	HostKey            *string
	Proxy              *connection
}

// commandInputs are the inputs of command:remote:Command; commandState adds its outputs.
type commandInputs struct {
	Connection             *connection
	Environment            map[string]string
	Create                 *string
	Update                 *string
	Delete                 *string
	Stdin                  *string
	Logging                *string
	AddPreviousOutputInEnv *bool
}

type commandState struct {
	commandInputs
	Stdout string
	Stderr string
}

// copyInputs are the inputs (and, as upstream, the whole state) of command:remote:CopyToRemote.
type copyInputs struct {
	Connection *connection
	Asset      *asset.Asset
	Archive    *archive.Archive
	RemotePath string
}

func (c *copyInputs) hash() string {
	if c.Archive != nil {
		_ = c.Archive.EnsureHash()
		return c.Archive.Hash
	}
	if c.Asset != nil {
		_ = c.Asset.EnsureHash()
		return c.Asset.Hash
	}
	return ""
}

// The input property names of each resource (their state adds stdout and stderr for Command).
var (
	commandInputKeys = []resource.PropertyKey{
		"connection", "environment", "triggers", "create", "update", "delete", "stdin", "logging",
		"addPreviousOutputInEnv",
	}
	copyInputKeys = []resource.PropertyKey{"connection", "triggers", "source", "remotePath"}

	connectionKeys = map[resource.PropertyKey]bool{
		"host": true, "port": true, "user": true, "password": true, "privateKey": true,
		"privateKeyPassword": true, "agentSocketPath": true, "dialErrorLimit": true, "perDialTimeout": true,
		"hostKey": true, "proxy": true,
	}
)

// failures collects check failures.
type failures []*pulumirpc.CheckFailure

func (f *failures) add(property, reason string) {
	*f = append(*f, &pulumirpc.CheckFailure{Property: property, Reason: reason})
}

// peel returns the value under any secret wrappers, and whether it is (or wraps) an unknown.
func peel(v resource.PropertyValue) (resource.PropertyValue, bool) {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsComputed():
			return v, true
		case v.IsOutput():
			o := v.OutputValue()
			if !o.Known {
				return v, true
			}
			v = o.Element
		default:
			return v, false
		}
	}
}

// absent is true for a property that is missing or null.
func absent(m resource.PropertyMap, k resource.PropertyKey) bool {
	v, ok := m[k]
	if !ok {
		return true
	}
	inner, unknown := peel(v)
	return !unknown && inner.IsNull()
}

func decodeString(path string, v resource.PropertyValue, f *failures) *string {
	inner, unknown := peel(v)
	switch {
	case unknown || inner.IsNull():
		return nil
	case inner.IsString():
		s := inner.StringValue()
		return &s
	}
	f.add(path, "expected a string")
	return nil
}

func decodeNumber(path string, v resource.PropertyValue, f *failures) *float64 {
	inner, unknown := peel(v)
	switch {
	case unknown || inner.IsNull():
		return nil
	case inner.IsNumber():
		n := inner.NumberValue()
		return &n
	}
	f.add(path, "expected a number")
	return nil
}

func decodeInt(path string, v resource.PropertyValue, f *failures) *int {
	n := decodeNumber(path, v, f)
	if n == nil {
		return nil
	}
	if *n != math.Trunc(*n) {
		f.add(path, "expected an integer")
		return nil
	}
	i := int(*n)
	return &i
}

func decodeBool(path string, v resource.PropertyValue, f *failures) *bool {
	inner, unknown := peel(v)
	switch {
	case unknown || inner.IsNull():
		return nil
	case inner.IsBool():
		b := inner.BoolValue()
		return &b
	}
	f.add(path, "expected a boolean")
	return nil
}

// decodeConnection reads a connection object; required reports a missing host.
func decodeConnection(path string, v resource.PropertyValue, isProxy bool, f *failures) *connection {
	inner, unknown := peel(v)
	if unknown {
		return nil
	}
	if inner.IsNull() {
		f.add(path, "missing required field")
		return nil
	}
	if !inner.IsObject() {
		f.add(path, "expected an object")
		return nil
	}
	obj := inner.ObjectValue()
	typeName := "remote.Connection"
	if isProxy {
		typeName = "remote.ProxyConnection"
	}
	for _, k := range obj.StableKeys() {
		if !connectionKeys[k] || (isProxy && k == "proxy") {
			f.add(path+"."+string(k), fmt.Sprintf("unrecognized field %q on %q", string(k), typeName))
		}
	}
	c := &connection{
		Host:               decodeString(path+".host", obj["host"], f),
		Port:               decodeNumber(path+".port", obj["port"], f),
		User:               decodeString(path+".user", obj["user"], f),
		Password:           decodeString(path+".password", obj["password"], f),
		PrivateKey:         decodeString(path+".privateKey", obj["privateKey"], f),
		PrivateKeyPassword: decodeString(path+".privateKeyPassword", obj["privateKeyPassword"], f),
		AgentSocketPath:    decodeString(path+".agentSocketPath", obj["agentSocketPath"], f),
		DialErrorLimit:     decodeInt(path+".dialErrorLimit", obj["dialErrorLimit"], f),
		PerDialTimeout:     decodeInt(path+".perDialTimeout", obj["perDialTimeout"], f),
		HostKey:            decodeString(path+".hostKey", obj["hostKey"], f),
	}
	if host, unknown := peel(obj["host"]); !unknown && host.IsNull() {
		f.add(path+".host", "missing required field")
	}
	if !isProxy {
		if _, ok := obj["proxy"]; ok && !absent(obj, "proxy") {
			c.Proxy = decodeConnection(path+".proxy", obj["proxy"], true, f)
		}
	}
	return c
}

func checkUnknownKeys(m resource.PropertyMap, allowed []resource.PropertyKey, typeName string, f *failures) {
	ok := map[resource.PropertyKey]bool{}
	for _, k := range allowed {
		ok[k] = true
	}
	for _, k := range m.StableKeys() {
		if !ok[k] {
			f.add(string(k), fmt.Sprintf("unrecognized field %q on %q", string(k), typeName))
		}
	}
}

func decodeCommonTriggers(m resource.PropertyMap, f *failures) {
	v, ok := m["triggers"]
	if !ok {
		return
	}
	inner, unknown := peel(v)
	if !unknown && !inner.IsNull() && !inner.IsArray() {
		f.add("triggers", "expected an array")
	}
}

// decodeCommand reads the inputs of a Command (extra keys, as stdout and stderr of a state, are allowed when
// state is true).
func decodeCommand(m resource.PropertyMap, state bool, f *failures) commandInputs {
	if !state {
		checkUnknownKeys(m, commandInputKeys, "remote.CommandInputs", f)
	}
	decodeCommonTriggers(m, f)
	in := commandInputs{
		Connection:             decodeConnection("connection", m["connection"], false, f),
		Create:                 decodeString("create", m["create"], f),
		Update:                 decodeString("update", m["update"], f),
		Delete:                 decodeString("delete", m["delete"], f),
		Stdin:                  decodeString("stdin", m["stdin"], f),
		Logging:                decodeString("logging", m["logging"], f),
		AddPreviousOutputInEnv: decodeBool("addPreviousOutputInEnv", m["addPreviousOutputInEnv"], f),
	}
	if in.Logging != nil {
		switch *in.Logging {
		case logStdout, logStderr, logStdoutAndStderr, logNone:
		default:
			f.add("logging", "expected one of stdout, stderr, stdoutAndStderr, none")
		}
	}
	if env, unknown := peel(m["environment"]); !unknown && !env.IsNull() {
		if !env.IsObject() {
			f.add("environment", "expected an object of strings")
		} else {
			obj := env.ObjectValue()
			in.Environment = map[string]string{}
			for _, k := range obj.StableKeys() {
				if s := decodeString("environment."+string(k), obj[k], f); s != nil {
					in.Environment[string(k)] = *s
				}
			}
		}
	}
	return in
}

func decodeCommandState(m resource.PropertyMap, f *failures) commandState {
	s := commandState{commandInputs: decodeCommand(m, true, f)}
	if v := decodeString("stdout", m["stdout"], f); v != nil {
		s.Stdout = *v
	}
	if v := decodeString("stderr", m["stderr"], f); v != nil {
		s.Stderr = *v
	}
	return s
}

// decodeCopy reads the inputs of a CopyToRemote, with upstream's checks of the source.
func decodeCopy(m resource.PropertyMap, state bool, f *failures) copyInputs {
	if !state {
		checkUnknownKeys(m, copyInputKeys, "remote.CopyToRemoteInputs", f)
	}
	decodeCommonTriggers(m, f)
	in := copyInputs{Connection: decodeConnection("connection", m["connection"], false, f)}
	if p := decodeString("remotePath", m["remotePath"], f); p != nil {
		in.RemotePath = *p
	} else if v, unknown := peel(m["remotePath"]); !unknown && v.IsNull() {
		f.add("remotePath", "missing required field")
	}
	source, unknown := peel(m["source"])
	if unknown {
		return in
	}
	switch {
	case source.IsAsset():
		in.Asset = source.AssetValue()
	case source.IsArchive():
		in.Archive = source.ArchiveValue()
	case source.IsNull():
		f.add("asset", "either asset or archive must be set")
		return in
	default:
		f.add("source", "expected an asset or an archive")
		return in
	}
	if in.Asset != nil && !in.Asset.IsPath() && !in.Asset.IsText() {
		f.add("asset", "asset must be a path-based file asset or a text asset")
	}
	if in.Archive != nil && !in.Archive.IsPath() {
		f.add("archive", "archive must be a path to a file or directory")
	}
	return in
}

// withDefaults returns v (through any secret wrapper, which it keeps) with the missing keys of an object set
// from defaults; unknown values are returned as they are.
func withDefaults(v resource.PropertyValue, set func(resource.PropertyMap)) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return resource.MakeSecret(withDefaults(v.SecretValue().Element, set))
	case v.IsObject():
		obj := v.ObjectValue().Copy()
		set(obj)
		return resource.NewObjectProperty(obj)
	}
	return v
}

func setDefault(m resource.PropertyMap, k resource.PropertyKey, v resource.PropertyValue) {
	if absent(m, k) {
		m[k] = v
	}
}

func connectionDefaults(isProxy bool) func(resource.PropertyMap) {
	return func(m resource.PropertyMap) {
		setDefault(m, "user", resource.NewStringProperty(defaultUser))
		setDefault(m, "port", resource.NewNumberProperty(defaultPort))
		setDefault(m, "dialErrorLimit", resource.NewNumberProperty(defaultDialErrorLimit))
		setDefault(m, "perDialTimeout", resource.NewNumberProperty(defaultPerDialTimeout))
		if !isProxy && !absent(m, "proxy") {
			m["proxy"] = withDefaults(m["proxy"], connectionDefaults(true))
		}
	}
}

// checkInputs validates news and returns them with the schema defaults applied, as upstream's Check does.
func checkInputs(typ string, news resource.PropertyMap) (resource.PropertyMap, failures) {
	var f failures
	out := news.Copy()
	switch typ {
	case commandType:
		decodeCommand(news, false, &f)
		setDefault(out, "addPreviousOutputInEnv", resource.NewBoolProperty(true))
	case copyType:
		decodeCopy(news, false, &f)
	default:
		f.add("", fmt.Sprintf("the stand-in command provider does not implement %s", typ))
		return news, f
	}
	if !absent(out, "connection") {
		out["connection"] = withDefaults(out["connection"], connectionDefaults(false))
	}
	sort.SliceStable(f, func(i, j int) bool { return f[i].Property < f[j].Property })
	return out, f
}
