/**
 * What one tool of the real toolchain is and how it is built from its published Go module.
 *
 * Every tool is built in a wrapper module of ours (`tests/toolchain/<wrapper>/`, with its `go.mod` and
 * `go.sum` locking every version), copied to a build directory under the cache so that nothing is ever
 * written into the clone. The binaries land in `<cache>/<name>-<version>/bin/`, keyed by the version and
 * by a hash of the recipe and its wrapper module, so a changed pin builds anew and an unchanged one is
 * reused by every later run and by CI on the same machine.
 */
export interface GoBinary {
    /** The Go package of the command, e.g. `github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`. */
    readonly pkg: string;
    /** The file name of the built binary in the tool's `bin/`. */
    readonly out: string;
}

export interface GoToolRecipe {
    /** Cache key and the name `npm run toolchain` prints, e.g. `pulumi`. */
    readonly name: string;
    /** The released version the binaries are built from, e.g. `v3.276.0`. */
    readonly version: string;
    /** The wrapper module's folder under `tests/toolchain/`. */
    readonly wrapper: string;
    readonly binaries: readonly GoBinary[];
    /** `-ldflags` for every binary (version stamps). */
    readonly ldflags?: readonly string[];
    /** Extra environment of `go build` (e.g. `CGO_ENABLED=0`). */
    readonly env?: Readonly<Record<string, string>>;
    /**
     * Runs in the build directory (a writable copy of the wrapper module) before `go build`, for modules
     * whose commands need generated files that their zip does not carry. Given the `go` runner.
     */
    readonly prepare?: (buildDir: string, go: GoRunner) => void;
    /**
     * Runs after the binaries are built, before the build is stamped complete: for files a command needs
     * beside it at run time (Mattermost's translations and templates), copied into the tool's directory.
     */
    readonly finish?: (toolDir: string, buildDir: string, go: GoRunner) => void;
    /**
     * The module that defines `prepare` and `finish` (its `__filename`): its text is part of the build's
     * hash, since a function's own text differs between the transpilers that run the recipe (tsx for
     * `npm run toolchain`, ts-jest in the suites) and would make each rebuild what the other built.
     */
    readonly hooksSource?: string;
    /** Why this version and not the one asked for, when they differ (printed by `npm run toolchain`). */
    readonly note?: string;
}

/** Runs `go <args>` in `cwd` with the toolchain's environment; returns stdout; throws on failure. */
export type GoRunner = (args: readonly string[], cwd: string, env?: Readonly<Record<string, string>>) => string;
