// STAND-IN for pulumi-resource-command 1.2.1 (see main.go and README.md): messages to the engine, as
// upstream sends them through pulumi-go-provider's logger. Command output lines and dial retries are status
// messages (shown in the progress display while the step runs, not kept); warnings and errors are diagnostics.
package main

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

// logEntry is one message, as the tests see it.
type logEntry struct {
	Severity  diag.Severity
	Message   string
	Ephemeral bool
}

type logger struct {
	ctx  context.Context
	host *provider.HostClient
	urn  resource.URN
	// sink, when set (in tests), receives every message instead of the engine.
	sink func(logEntry)
}

func (l *logger) send(sev diag.Severity, msg string, ephemeral bool) {
	if l == nil {
		return
	}
	if l.sink != nil {
		l.sink(logEntry{Severity: sev, Message: msg, Ephemeral: ephemeral})
		return
	}
	if l.host == nil {
		return
	}
	if ephemeral {
		_ = l.host.LogStatus(l.ctx, sev, l.urn, msg)
	} else {
		_ = l.host.Log(l.ctx, sev, l.urn, msg)
	}
}

func (l *logger) infoStatus(msg string) { l.send(diag.Info, msg, true) }
func (l *logger) debug(msg string)      { l.send(diag.Debug, msg, false) }
func (l *logger) warning(msg string)    { l.send(diag.Warning, msg, false) }
func (l *logger) error(msg string)      { l.send(diag.Error, msg, false) }
