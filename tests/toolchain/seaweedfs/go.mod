// SeaweedFS, the in-cluster S3 store of test stacks, built from its Go module: the chat suite runs it
// (tests/chat/). The module has no release versions; this pseudo-version, the module proxy's only one
// here, reports 4.53, the release the stack's seaweedfsImage pins. The replace is SeaweedFS's own.
module mattermost-platform/toolchain/seaweedfs

go 1.26.6

require github.com/seaweedfs/seaweedfs v0.0.0-20261109003541-7506e5f91cd6

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
