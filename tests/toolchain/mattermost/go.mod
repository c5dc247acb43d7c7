// Mattermost Team Edition, built from its Go module: the server the chat suite runs (tests/chat/).
// No release of the server module is served by the module proxy reachable here (neither a release
// branch nor a release tag's commit), only this commit of the main branch from 2026-01-13, between the
// 11.3 and 11.4 releases (it reports 11.4.0). The public module is the one of the same day's main branch:
// the server is developed against its in-tree copy through a go.work, and the v0.1.20 its go.mod names
// lacks settings the server reads. The replace is the server module's own: replaces of a dependency do
// not apply to the modules that build it.
// The checksum database answers neither module version here, so go.sum alone locks them (written once
// with GONOSUMDB=github.com/mattermost/mattermost; -mod=readonly builds check every hash against it).
module mattermost-platform/toolchain/mattermost

go 1.26.6

require (
	github.com/mattermost/mattermost/server/public v0.1.22-0.20260113165922-8e4cadbc88ee
	github.com/mattermost/mattermost/server/v8 v8.0.0-20260113162330-9e1d4c2072c0
)

replace github.com/olekukonko/tablewriter => github.com/olekukonko/tablewriter v0.0.5
