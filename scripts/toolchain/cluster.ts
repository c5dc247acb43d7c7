/**
 * The tools of the local test cluster (`npm run cluster`, scripts/cluster.ts): a real kube-apiserver,
 * kube-controller-manager and kube-scheduler on an etcd, with kwok playing the kubelets of fake Nodes.
 * Each is built from its published Go module in a wrapper module under `tests/toolchain/`. Cold builds
 * measured on 2 cores shared with another build: kubernetes 469s (kube-apiserver 342s, then
 * kube-controller-manager 120s and kube-scheduler 7s on its build cache), etcd 48s, kwok 131s.
 */
import * as path from "node:path";
import { binDir, ensureTools } from "./build";
import type { GoToolRecipe } from "./recipe";

/**
 * v1.34: the Pulumi kubernetes provider is built against client-go v0.33, and a server one minor ahead
 * is within client-go's supported skew; every staging module the three commands import is served at
 * v0.34.4 (of v0.34.4, only sample-cli-plugin and sample-controller are not, and they are not needed).
 */
const kubernetesVersion = "v1.34.4";
/** The tag's date, so that `buildDate` is reproducible rather than the time of the build. */
const kubernetesReleaseDate = "2026-02-10T12:53:36Z";
const etcdVersion = "v3.6.16";
const kwokVersion = "v0.7.0";

/**
 * What `hack/lib/version.sh` stamps: the server reports these in `/version`, which clients (the Pulumi
 * provider among them) read to pick API versions. Both packages carry the variables: component-base's
 * for the servers, client-go's for their own user agent. The commit is stamped empty (rather than left
 * the source's `$Format:%H$` placeholder), since a module zip does not carry it.
 */
function kubernetesVersionStamps(): string[] {
    const [major, minor] = kubernetesVersion.slice(1).split(".");
    const stamps = {
        gitVersion: kubernetesVersion,
        gitMajor: major,
        gitMinor: minor,
        gitCommit: "",
        gitTreeState: "clean",
        buildDate: kubernetesReleaseDate,
    };
    return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) =>
        Object.entries(stamps).map(([name, value]) => `-X ${pkg}.${name}=${value}`),
    );
}

/** Static binaries, as the upstream releases are; `-s -w` as their release builds strip them. */
const staticBuild = { env: { CGO_ENABLED: "0" }, strip: ["-s", "-w"] } as const;

export const clusterRecipes: GoToolRecipe[] = [
    {
        name: "kubernetes",
        version: kubernetesVersion,
        wrapper: "kubernetes",
        // kubectl too: the README's and the demo's way to look around the deployed stack.
        binaries: ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"].map((out) => ({
            pkg: `k8s.io/kubernetes/cmd/${out}`,
            out,
        })),
        ldflags: [...staticBuild.strip, ...kubernetesVersionStamps()],
        env: staticBuild.env,
    },
    {
        name: "etcd",
        version: etcdVersion,
        wrapper: "etcd",
        // The server module's root package is the etcd command.
        binaries: [{ pkg: "go.etcd.io/etcd/server/v3", out: "etcd" }],
        // version.Version is already the release's in the source; its build script adds the commit,
        // which a module zip does not carry, so the module version stands in for it.
        ldflags: [...staticBuild.strip, `-X go.etcd.io/etcd/api/v3/version.GitSHA=${etcdVersion}`],
        env: staticBuild.env,
    },
    {
        name: "kwok",
        version: kwokVersion,
        wrapper: "kwok",
        binaries: [{ pkg: "sigs.k8s.io/kwok/cmd/kwok", out: "kwok" }],
        // As kwok's hack/releases.sh stamps a release (its source says 0.7.0 already; stamped all the same
        // so a bumped pin cannot report the old version).
        ldflags: [
            ...staticBuild.strip,
            `-X sigs.k8s.io/kwok/pkg/consts.Version=${kwokVersion}`,
            "-X sigs.k8s.io/kwok/pkg/consts.PreRelease=GA",
            `-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kubernetesVersion}`,
        ],
        env: staticBuild.env,
        note: "v0.7.0 rather than v0.8.0: built against client-go v0.33, within the skew of the v1.34 apiserver",
    },
];

/** The path of a cluster binary, built first if it is missing or stale. */
export function binary(recipeName: string, out: string): string {
    const recipe = clusterRecipes.find((r) => r.name === recipeName);
    if (!recipe?.binaries.some((b) => b.out === out)) {
        throw new Error(`no cluster tool ${recipeName}/${out} in scripts/toolchain/cluster.ts`);
    }
    ensureTools([recipe], (line) => process.stderr.write(`toolchain: ${line}\n`));
    return path.join(binDir(recipe), out);
}
