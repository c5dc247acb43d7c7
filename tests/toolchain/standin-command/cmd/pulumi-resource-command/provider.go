// STAND-IN for pulumi-resource-command 1.2.1 (see main.go and README.md): the ResourceProvider gRPC server.
//
// It follows what upstream's provider does through pulumi-go-provider's infer:
//
//   - Check applies the schema defaults (connection user root, port 22, dialErrorLimit 10, perDialTimeout 15,
//     the same for a proxy; addPreviousOutputInEnv true) and keeps secrets where they were;
//   - Diff compares the old state's input properties with the new inputs; the detailed diff has a key per
//     changed path ("create", "connection", "triggers[0]", ...). Only a path equal to a property marked
//     replaceOnChanges in the schema ("triggers") is a replacement; a changed element ("triggers[0]") is
//     turned into one by the engine, from the replaceOnChanges: ["triggers[*]"] option the SDK sets. Any other
//     change (the connection included) is an update;
//   - Create and Update in a preview run nothing; Create's stdout and stderr are then unknown, as are
//     Update's when an input changed;
//   - the state is the inputs as given (secrets kept) plus, for Command, stdout and stderr, which are not
//     secret unless the program asks (additionalSecretOutputs), as upstream;
//   - Read returns the state and inputs unchanged; Delete runs `delete` (Command) or nothing (CopyToRemote);
//   - a custom timeout of the step bounds it (dial retries stop there); Cancel stops the running steps.
package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	commandType = "command:remote:Command"
	copyType    = "command:remote:CopyToRemote"
)

// replaceOnChanges are the input properties the 1.2.1 schema marks replaceOnChanges, for both resources.
var replaceOnChanges = map[string]bool{"triggers": true}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer

	host *provider.HostClient
	// sink, when set (in tests), receives the log messages instead of the engine.
	sink func(logEntry)

	mu      sync.Mutex
	cancels map[int]context.CancelFunc
	nextOp  int
}

func newProvider(host *provider.HostClient) *commandProvider {
	return &commandProvider{host: host, cancels: map[int]context.CancelFunc{}}
}

// operation is the context of one step: bounded by its custom timeout and ended by Cancel.
func (p *commandProvider) operation(ctx context.Context, timeout float64) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	if timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, time.Duration(timeout*float64(time.Second)))
		inner := cancel
		cancel = func() { cancelTimeout(); inner() }
	}
	p.mu.Lock()
	id := p.nextOp
	p.nextOp++
	p.cancels[id] = cancel
	p.mu.Unlock()
	return ctx, func() {
		p.mu.Lock()
		delete(p.cancels, id)
		p.mu.Unlock()
		cancel()
	}
}

func (p *commandProvider) logger(ctx context.Context, urn string) *logger {
	return &logger{ctx: ctx, host: p.host, urn: resource.URN(urn), sink: p.sink}
}

var unmarshalOptions = plugin.MarshalOptions{
	KeepUnknowns:  true,
	SkipNulls:     true,
	KeepResources: true,
	KeepSecrets:   true,
}

var marshalOptions = plugin.MarshalOptions{
	KeepUnknowns: true,
	SkipNulls:    true,
	KeepSecrets:  true,
}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, unmarshalOptions)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOptions)
}

func resourceType(urn string) string {
	return string(resource.URN(urn).Type())
}

func unsupported(urn string) error {
	return status.Errorf(codes.InvalidArgument, "the stand-in command provider does not implement %s",
		resourceType(urn))
}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: providerVersion}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cancel := range p.cancels {
		cancel()
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	typ := resourceType(req.GetUrn())
	if typ != commandType && typ != copyType {
		return nil, unsupported(req.GetUrn())
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	checked, failures := checkInputs(typ, news)
	inputs, err := marshal(checked)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

func inputKeys(typ string) []resource.PropertyKey {
	if typ == copyType {
		return copyInputKeys
	}
	return commandInputKeys
}

// diffInputs is upstream's default diff: the old state's input properties against the new inputs.
func diffInputs(typ string, olds, news resource.PropertyMap, ignoreChanges []string) *pulumirpc.DiffResponse {
	for _, k := range ignoreChanges {
		key := resource.PropertyKey(k)
		if v, ok := olds[key]; ok {
			news[key] = v
		} else {
			delete(news, key)
		}
	}
	oldInputs := resource.PropertyMap{}
	for _, k := range inputKeys(typ) {
		if v, ok := olds[k]; ok {
			oldInputs[k] = v
		}
	}
	objDiff := oldInputs.Diff(news)
	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
		HasDetailedDiff: true,
	}
	if objDiff.AnyChanges() {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	for path, d := range plugin.NewDetailedDiffFromObjectDiff(objDiff, false) {
		kind := d.Kind
		if replaceOnChanges[path] {
			kind = kind.AsReplace()
		}
		resp.DetailedDiff[path] = &pulumirpc.PropertyDiff{Kind: rpcDiffKind(kind), InputDiff: d.InputDiff}
		if kind.IsReplace() {
			resp.Replaces = append(resp.Replaces, path)
		}
	}
	return resp
}

func rpcDiffKind(k plugin.DiffKind) pulumirpc.PropertyDiff_Kind {
	switch k {
	case plugin.DiffAdd:
		return pulumirpc.PropertyDiff_ADD
	case plugin.DiffAddReplace:
		return pulumirpc.PropertyDiff_ADD_REPLACE
	case plugin.DiffDelete:
		return pulumirpc.PropertyDiff_DELETE
	case plugin.DiffDeleteReplace:
		return pulumirpc.PropertyDiff_DELETE_REPLACE
	case plugin.DiffUpdateReplace:
		return pulumirpc.PropertyDiff_UPDATE_REPLACE
	default:
		return pulumirpc.PropertyDiff_UPDATE
	}
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	typ := resourceType(req.GetUrn())
	if typ != commandType && typ != copyType {
		return nil, unsupported(req.GetUrn())
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	return diffInputs(typ, olds, news, req.GetIgnoreChanges()), nil
}

// plainCommand decodes a Command's inputs or state for running; the engine checked them already.
func plainCommand(m resource.PropertyMap) (commandState, error) {
	var f failures
	s := decodeCommandState(m, &f)
	if len(f) > 0 {
		return s, fmt.Errorf("invalid inputs: %s: %s", f[0].Property, f[0].Reason)
	}
	if s.Connection == nil {
		return s, fmt.Errorf("invalid inputs: connection: missing required field")
	}
	return s, nil
}

func plainCopy(m resource.PropertyMap) (copyInputs, error) {
	var f failures
	c := decodeCopy(m, true, &f)
	if len(f) > 0 {
		return c, fmt.Errorf("invalid inputs: %s: %s", f[0].Property, f[0].Reason)
	}
	if c.Connection == nil {
		return c, fmt.Errorf("invalid inputs: connection: missing required field")
	}
	return c, nil
}

// commandOutputs is the state of a Command: its inputs as given, with stdout and stderr.
func commandOutputs(inputs resource.PropertyMap, stdout, stderr resource.PropertyValue) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, k := range commandInputKeys {
		if v, ok := inputs[k]; ok {
			out[k] = v
		}
	}
	out["stdout"] = stdout
	out["stderr"] = stderr
	return out
}

func unknownString() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	typ := resourceType(req.GetUrn())
	if typ != commandType && typ != copyType {
		return nil, unsupported(req.GetUrn())
	}
	ctx, done := p.operation(ctx, req.GetTimeout())
	defer done()
	log := p.logger(ctx, req.GetUrn())
	props, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}

	var id string
	var outputs resource.PropertyMap
	switch typ {
	case commandType:
		id, err = resource.NewUniqueHex(resource.URN(req.GetUrn()).Name(), 8, 0)
		if err != nil {
			return nil, err
		}
		if req.GetPreview() {
			outputs = commandOutputs(props, unknownString(), unknownString())
			break
		}
		s, err := plainCommand(props)
		if err != nil {
			return nil, err
		}
		if s.Create != nil {
			if err := runCommand(ctx, log, &s, *s.Create); err != nil {
				return nil, err
			}
		}
		outputs = commandOutputs(props, resource.NewStringProperty(s.Stdout), resource.NewStringProperty(s.Stderr))
	case copyType:
		outputs = props
		if req.GetPreview() {
			break
		}
		c, err := plainCopy(props)
		if err != nil {
			return nil, err
		}
		if err := copyToRemote(ctx, log, c); err != nil {
			return nil, err
		}
		if id, err = resource.NewUniqueHex("", 8, 0); err != nil {
			return nil, err
		}
	}
	properties, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: properties}, nil
}

// anyInputChanged is true when an input is unknown or differs from the old state (upstream's rule for
// making the outputs of a previewed update unknown).
func anyInputChanged(typ string, olds, news resource.PropertyMap) bool {
	for _, k := range inputKeys(typ) {
		n, hasNew := news[k]
		if hasNew && n.ContainsUnknowns() {
			return true
		}
		o, hasOld := olds[k]
		if hasOld && !n.DeepEquals(o) {
			return true
		}
		if hasNew && !hasOld && n.HasValue() {
			return true
		}
	}
	return false
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	typ := resourceType(req.GetUrn())
	if typ != commandType && typ != copyType {
		return nil, unsupported(req.GetUrn())
	}
	ctx, done := p.operation(ctx, req.GetTimeout())
	defer done()
	log := p.logger(ctx, req.GetUrn())
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	for _, k := range req.GetIgnoreChanges() {
		key := resource.PropertyKey(k)
		if v, ok := olds[key]; ok {
			news[key] = v
		}
	}

	var outputs resource.PropertyMap
	switch typ {
	case commandType:
		oldStdout, oldStderr := olds["stdout"], olds["stderr"]
		if !oldStdout.HasValue() {
			oldStdout = resource.NewStringProperty("")
		}
		if !oldStderr.HasValue() {
			oldStderr = resource.NewStringProperty("")
		}
		if req.GetPreview() {
			if anyInputChanged(typ, olds, news) {
				oldStdout, oldStderr = unknownString(), unknownString()
			}
			outputs = commandOutputs(news, oldStdout, oldStderr)
			break
		}
		s, err := plainCommand(news)
		if err != nil {
			return nil, err
		}
		// The previous outputs, for PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR.
		var f failures
		previous := decodeCommandState(olds, &f)
		s.Stdout, s.Stderr = previous.Stdout, previous.Stderr
		cmd := s.Create
		if s.Update != nil {
			cmd = s.Update
		}
		if cmd != nil {
			if err := runCommand(ctx, log, &s, *cmd); err != nil {
				return nil, err
			}
			oldStdout, oldStderr = resource.NewStringProperty(s.Stdout), resource.NewStringProperty(s.Stderr)
		}
		outputs = commandOutputs(news, oldStdout, oldStderr)
	case copyType:
		outputs = news
		if req.GetPreview() {
			break
		}
		c, err := plainCopy(news)
		if err != nil {
			return nil, err
		}
		var f failures
		old := decodeCopy(olds, true, &f)
		if c.hash() != old.hash() || c.RemotePath != old.RemotePath {
			if err := copyToRemote(ctx, log, c); err != nil {
				return nil, err
			}
		}
	}
	properties, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: properties}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	typ := resourceType(req.GetUrn())
	if typ != commandType && typ != copyType {
		return nil, unsupported(req.GetUrn())
	}
	if typ == copyType {
		// Upstream's CopyToRemote has no Delete: the copied files stay.
		return &emptypb.Empty{}, nil
	}
	ctx, done := p.operation(ctx, req.GetTimeout())
	defer done()
	props, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	s, err := plainCommand(props)
	if err != nil {
		return nil, err
	}
	if s.Delete == nil {
		return &emptypb.Empty{}, nil
	}
	if err := runCommand(ctx, p.logger(ctx, req.GetUrn()), &s, *s.Delete); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// Read (refresh) returns the state as it is: upstream implements no Read for these resources, and
// pulumi-go-provider's default returns the state and inputs unchanged.
func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	typ := resourceType(req.GetUrn())
	if typ != commandType && typ != copyType {
		return nil, unsupported(req.GetUrn())
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}
