// STAND-IN, not the real provider code: part of the stand-ins for pulumi-resource-random and
// pulumi-resource-tls, written by this project because the Go module proxy refuses the real providers'
// modules (see ../../README.md).
//
// This is the gRPC ResourceProvider service the Pulumi engine talks to, shared by both stand-ins. It
// answers as the bridged providers do on the wire: Configure accepts no secrets (the engine then strips
// secrets from what it sends and keeps the secret bit of same-named outputs itself), previews are
// supported, Check returns the inputs as given with the sensitive ones marked secret, Create and Read
// return every non-null attribute (the sensitive ones as secrets) and `__meta`, Diff returns a detailed
// diff, and what the providers do not implement answers Unimplemented.

package standin

import (
	"context"
	"fmt"
	"sort"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Provider is a stand-in provider: its package name, the version it reports and its resources.
type Provider struct {
	Name      string
	Version   string
	Resources []*Resource
}

// Serve runs the provider as a Pulumi plugin (the engine starts it with its own address as argument).
func Serve(p *Provider) error {
	return provider.Main(p.Name, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return NewServer(p, host), nil
	})
}

// Server implements pulumirpc.ResourceProviderServer for a Provider.
type Server struct {
	pulumirpc.UnimplementedResourceProviderServer
	provider *Provider
	host     *provider.HostClient
}

// NewServer makes the gRPC server of a provider; host may be nil (tests).
func NewServer(p *Provider, host *provider.HostClient) *Server {
	return &Server{provider: p, host: host}
}

// env is the Env of one call: warnings go to the engine's log for the resource.
type env struct {
	server *Server
	urn    resource.URN
}

func (e env) Warn(ctx context.Context, message string) {
	if e.server.host != nil {
		_ = e.server.host.Log(ctx, diag.Warning, e.urn, message)
	}
}

func (s *Server) resource(urn string) (*Resource, error) {
	typ := resource.URN(urn).Type().String()
	for _, r := range s.provider.Resources {
		if r.Token == typ {
			return r, nil
		}
	}
	return nil, status.Errorf(codes.InvalidArgument,
		"unknown resource type %q: the stand-in %s provider (%s) implements only %s",
		typ, s.provider.Name, s.provider.Version, s.tokens())
}

func (s *Server) tokens() string {
	var tokens []string
	for _, r := range s.provider.Resources {
		tokens = append(tokens, r.Token)
	}
	sort.Strings(tokens)
	return fmt.Sprint(tokens)
}

var unmarshalOptions = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return nil, nil
	}
	m, err := plugin.UnmarshalProperties(s, unmarshalOptions)
	if err != nil {
		return nil, err
	}
	// Secrets are not expected (Configure accepts none) but are tolerated: drop the marks.
	return Unwrap(resource.NewObjectProperty(m)).ObjectValue(), nil
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
}

func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.provider.Version}, nil
}

func (s *Server) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	host, err := provider.NewHostClient(req.GetAddress())
	if err != nil {
		return nil, err
	}
	s.host = host
	return &emptypb.Empty{}, nil
}

func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// CheckConfig accepts any provider configuration as it is.
func (s *Server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig reports the changed configuration keys; none of them replaces the provider.
func (s *Server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	changed := map[resource.PropertyKey]bool{}
	for k, v := range news {
		if k != "version" && !Equal(v, Get(olds, k)) {
			changed[k] = true
		}
	}
	for k, v := range olds {
		if _, ok := news[k]; !ok && k != "version" && !v.IsNull() {
			changed[k] = true
		}
	}
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	var diffs []string
	for _, k := range SortedKeys(changed) {
		diffs = append(diffs, string(k))
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: diffs}, nil
}

func (s *Server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: false, SupportsPreview: true, AcceptResources: true}, nil
}

func (s *Server) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	r, err := s.resource(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	inputs, failures := r.Check(ctx, env{s, resource.URN(req.GetUrn())}, news)
	minputs, err := marshal(inputs)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: minputs}
	for _, f := range failures {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: string(f.Property), Reason: f.Reason})
	}
	return resp, nil
}

// applyIgnoreChanges sets the ignored paths of the new inputs to their values in the prior state, as the
// bridge's Diff does.
func applyIgnoreChanges(state, news resource.PropertyMap, ignoreChanges []string) (resource.PropertyMap, error) {
	if len(ignoreChanges) == 0 {
		return news, nil
	}
	out := news.Copy()
	for _, ignore := range ignoreChanges {
		path, err := resource.ParsePropertyPath(ignore)
		if err != nil {
			return nil, fmt.Errorf("invalid ignoreChanges path %q: %w", ignore, err)
		}
		root := resource.NewObjectProperty(out)
		if old, ok := path.Get(resource.NewObjectProperty(state)); ok {
			path.Set(root, old)
		} else {
			path.Delete(root)
		}
	}
	return out, nil
}

// DiffResult is the outcome of a Diff, as the bridge reports it.
func (r *Resource) Diff(state, news resource.PropertyMap) (*pulumirpc.DiffResponse, error) {
	p, err := r.Plan(state, news)
	if err != nil {
		return nil, err
	}
	changed := r.Changed(p)
	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		HasDetailedDiff: true,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
	}
	for k := range p.Replace {
		resp.Replaces = append(resp.Replaces, string(k))
	}
	sort.Strings(resp.Replaces)
	for _, k := range changed {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Diffs = append(resp.Diffs, string(k))
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case Get(state, k).IsNull():
			kind = pulumirpc.PropertyDiff_ADD
		case p.Planned[k].IsNull():
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if p.Replace[k] {
			kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
		}
		resp.DetailedDiff[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: r.Attr(k).isInput()}
	}
	return resp, nil
}

func (s *Server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	r, err := s.resource(req.GetUrn())
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	if news, err = applyIgnoreChanges(state, news, req.GetIgnoreChanges()); err != nil {
		return nil, err
	}
	return r.Diff(state, news)
}

// CreateState plans a creation and, unless it is a preview, carries it out.
func (r *Resource) CreateState(ctx context.Context, e Env, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	p, err := r.Plan(nil, news)
	if err != nil {
		return "", nil, err
	}
	if preview {
		return "", r.Outputs(p.Planned, false), nil
	}
	if err := r.ValidateKnown(p.Planned, true); err != nil {
		return "", nil, err
	}
	state, err := r.Create(ctx, e, p.Planned, news)
	if err != nil {
		return "", nil, err
	}
	if err := r.ValidateKnown(state, false); err != nil {
		return "", nil, err
	}
	return AsString(Get(state, "id")), r.Outputs(state, true), nil
}

func (s *Server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	r, err := s.resource(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	id, outputs, err := r.CreateState(ctx, env{s, resource.URN(req.GetUrn())}, news, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// ReadState refreshes a state (or imports one, when there is no state) and gives the inputs to keep.
func (r *Resource) ReadState(id string, state, inputs resource.PropertyMap) (resource.PropertyMap, resource.PropertyMap, error) {
	if len(state) == 0 {
		if r.Import == nil {
			return nil, nil, fmt.Errorf("Resource Import Not Implemented: %s does not support import", r.Token)
		}
		imported, err := r.Import(id)
		if err != nil {
			return nil, nil, err
		}
		return r.Outputs(imported, true), r.InputsOf(imported), nil
	}
	refreshed := state.Copy()
	if r.Read != nil {
		refreshed = r.Read(refreshed)
	}
	if inputs == nil {
		return r.Outputs(refreshed, true), r.InputsOf(refreshed), nil
	}
	return r.Outputs(refreshed, true), r.MarkSecretInputs(inputs), nil
}

func (s *Server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	r, err := s.resource(req.GetUrn())
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetInputs())
	if err != nil {
		return nil, err
	}
	outputs, newInputs, err := r.ReadState(req.GetId(), state, inputs)
	if err != nil {
		return nil, err
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	minputs, err := marshal(newInputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: minputs}, nil
}

// UpdateState plans an in-place update and gives the new state: the framework's Update of these
// resources copies the plan into the state.
func (r *Resource) UpdateState(state, news resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	p, err := r.Plan(state, news)
	if err != nil {
		return nil, err
	}
	if len(p.Replace) > 0 {
		return nil, fmt.Errorf("%s: the change to %v requires a replacement, not an update", r.Token, SortedKeys(p.Replace))
	}
	if !preview {
		if err := r.ValidateKnown(p.Planned, false); err != nil {
			return nil, err
		}
	}
	return r.Outputs(p.Planned, !preview), nil
}

func (s *Server) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	r, err := s.resource(req.GetUrn())
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	if news, err = applyIgnoreChanges(state, news, req.GetIgnoreChanges()); err != nil {
		return nil, err
	}
	outputs, err := r.UpdateState(state, news, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// Delete has nothing to do: these resources exist only in the state.
func (s *Server) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if _, err := s.resource(req.GetUrn()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// GetSchema is not implemented: the engine does not ask for it during preview, update, refresh or destroy
// (verified with the real CLI), and an incomplete schema would mislead the tools that do ask.
func (s *Server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return nil, status.Errorf(codes.Unimplemented,
		"the stand-in %s provider (%s) has no schema", s.provider.Name, s.provider.Version)
}
