/**
 * The servers the chat suite runs beside the program's renders (tests/chat/): Mattermost Team Edition and
 * SeaweedFS, each built from its published Go module in a wrapper module under `tests/toolchain/` (whose
 * go.mod says why that version). Mattermost needs its translations, e-mail templates and fonts beside it
 * at run time; they come from the same module and are copied into the tool's directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { binDir, ensureTools, toolDir } from "./build";
import type { GoRunner, GoToolRecipe } from "./recipe";

const mattermostModule = "github.com/mattermost/mattermost/server/v8";
const mattermostVersion = "v8.0.0-20260113162330-9e1d4c2072c0";
/** The commit and its time, from the module proxy's answer for that version. */
export const mattermostCommit = "9e1d4c2072c08ec08828317a277427ecac71f136";
const mattermostCommitTime = "2026-01-13T16:23:30Z";
/** What the server reports as its version (model.CurrentVersion of the public module it is built with). */
export const mattermostServerVersion = "11.4.0";

const seaweedfsModule = "github.com/seaweedfs/seaweedfs";
const seaweedfsVersion = "v0.0.0-20261109003541-7506e5f91cd6";
/** What `weed version` reports of that commit: the release the stacks' seaweedfsImage pins. */
export const seaweedfsRelease = "4.53";

/** The directories Mattermost looks up from its working directory at start. */
export const mattermostAssetDirs = ["i18n", "templates", "fonts"] as const;

function copyMattermostAssets(dir: string, buildDir: string, go: GoRunner): void {
    const moduleDir = go(["list", "-m", "-f", "{{.Dir}}", mattermostModule], buildDir).trim();
    for (const asset of mattermostAssetDirs) {
        fs.cpSync(path.join(moduleDir, asset), path.join(dir, "assets", asset), { recursive: true });
    }
    // The module cache is read-only; the copies need not be.
    for (const entry of fs.readdirSync(path.join(dir, "assets"), { recursive: true, withFileTypes: true })) {
        fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
    }
}

export const mattermostRecipe: GoToolRecipe = {
    name: "mattermost",
    version: mattermostVersion,
    wrapper: "mattermost",
    // mmctl too, the image's client of the local-mode socket (the admin token's commands use it); and
    // our probe of the server's own config code, which the settings validation is checked against.
    binaries: [
        { pkg: `${mattermostModule}/cmd/mattermost`, out: "mattermost" },
        { pkg: `${mattermostModule}/cmd/mmctl`, out: "mmctl" },
        { pkg: "mattermost-platform/toolchain/mattermost/settingsprobe", out: "settingsprobe" },
    ],
    // As the server's Makefile stamps a Team Edition build: no enterprise build tags, not enterprise-ready.
    ldflags: [
        `-X github.com/mattermost/mattermost/server/public/model.BuildNumber=${mattermostVersion}`,
        `-X github.com/mattermost/mattermost/server/public/model.BuildDate=${mattermostCommitTime}`,
        `-X github.com/mattermost/mattermost/server/public/model.BuildHash=${mattermostCommit}`,
        "-X github.com/mattermost/mattermost/server/public/model.BuildEnterpriseReady=false",
    ],
    finish: copyMattermostAssets,
    hooksSource: __filename,
    note: `a main-branch commit reporting ${mattermostServerVersion}: the module proxy here serves no release of the server (see tests/toolchain/mattermost/go.mod)`,
};

export const seaweedfsRecipe: GoToolRecipe = {
    name: "seaweedfs",
    version: seaweedfsVersion,
    wrapper: "seaweedfs",
    binaries: [{ pkg: `${seaweedfsModule}/weed`, out: "weed" }],
    ldflags: ["-s", "-w", `-X ${seaweedfsModule}/weed/util/version.COMMIT=${seaweedfsVersion.slice(-12)}`],
    env: { CGO_ENABLED: "0" },
};

export const peerRecipes: readonly GoToolRecipe[] = [mattermostRecipe, seaweedfsRecipe];

export interface MattermostBuild {
    readonly binary: string;
    readonly mmctl: string;
    /** tests/toolchain/mattermost/settingsprobe: the server's settings schema and config loading. */
    readonly settingsProbe: string;
    /** Holds i18n/, templates/ and fonts/: the server's working directory links to them. */
    readonly assets: string;
}

function log(line: string): void {
    process.stderr.write(`toolchain: ${line}\n`);
}

/** The built Mattermost server, built first if it is missing or stale. */
export function mattermostBuild(): MattermostBuild {
    ensureTools([mattermostRecipe], log);
    return {
        binary: path.join(binDir(mattermostRecipe), "mattermost"),
        mmctl: path.join(binDir(mattermostRecipe), "mmctl"),
        settingsProbe: path.join(binDir(mattermostRecipe), "settingsprobe"),
        assets: path.join(toolDir(mattermostRecipe), "assets"),
    };
}

/** The built `weed`, built first if it is missing or stale. */
export function seaweedfsBinary(): string {
    ensureTools([seaweedfsRecipe], log);
    return path.join(binDir(seaweedfsRecipe), "weed");
}
