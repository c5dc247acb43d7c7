/**
 * The real Keycloak of the identity suite (`npm run test:identity`): the same release as the image the
 * program deploys (`keycloakImage` in config/keys.ts), as Keycloak publishes it on Maven Central
 * (`org.keycloak:keycloak-quarkus-dist`, the distribution the image is made from).
 *
 * Fetched with Maven's own client, so the archive lands in Maven's cache (`~/.m2/repository`) with its
 * checksum checked, then unpacked into the toolchain cache:
 *   <root>/keycloak-<version>/dist/    the unpacked distribution (never run in place: see the harness)
 *   <root>/keycloak-<version>/recipe   the hash it was unpacked from (written last, so a cut unpack redoes it)
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configKeys } from "../../config/keys";
import { cacheRoot } from "./build";

/** The tag of the pinned image, e.g. `26.5.5` of `quay.io/keycloak/keycloak:26.5.5`. */
function imageTag(image: string): string {
    const tag = /:([^:/@]+)(@.*)?$/.exec(image)?.[1];
    if (!tag || !/^\d+\.\d+\.\d+$/.test(tag)) {
        throw new Error(`keycloakImage's default ${image} has no release tag (x.y.z) to fetch the distribution of`);
    }
    return tag;
}

export const keycloakVersion: string = imageTag(configKeys.keycloakImage.default);

/** The Maven coordinates of the distribution: `groupId:artifactId:version:packaging`. */
export const keycloakArtifact = `org.keycloak:keycloak-quarkus-dist:${keycloakVersion}:tar.gz`;

/**
 * Pinned, rather than whatever the Maven of the machine resolves `dependency:` to; 3.x copies an artifact
 * named on the command line without a project.
 */
const dependencyPlugin = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

export const keycloakName = "keycloak";

export function keycloakDir(): string {
    return path.join(cacheRoot(), `${keycloakName}-${keycloakVersion}`);
}

/** The unpacked distribution: `bin/kc.sh`, `lib/`, `conf/`, `providers/`... */
export function keycloakDistDir(): string {
    return path.join(keycloakDir(), "dist");
}

function stampPath(): string {
    return path.join(keycloakDir(), "recipe");
}

/** The hash of what the unpacked tree depends on: the artifact, the plugin that fetches it and this code. */
export function keycloakRecipeHash(): string {
    return (
        crypto
            .createHash("sha256")
            // This module's text, not fetchAndUnpack's own: a function's text differs between tsx and ts-jest,
            // which would make the suites fetch again what `npm run toolchain` fetched.
            .update(JSON.stringify({ keycloakArtifact, dependencyPlugin, source: fs.readFileSync(__filename, "utf8") }))
            .digest("hex")
    );
}

export function isKeycloakFetched(): boolean {
    const stamp = stampPath();
    return (
        fs.existsSync(stamp) &&
        fs.readFileSync(stamp, "utf8").trim() === keycloakRecipeHash() &&
        fs.existsSync(path.join(keycloakDistDir(), "bin", "kc.sh"))
    );
}

function fetchAndUnpack(log: (line: string) => void): void {
    const started = Date.now();
    log(`fetching Keycloak ${keycloakVersion} (${keycloakArtifact}) with Maven (cache: ${keycloakDir()})`);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "keycloak-fetch-"));
    try {
        // In a directory of its own, so Maven never sees (or writes into) a project; `-C` fails on a
        // checksum that does not match Central's instead of only warning.
        // Maven runs on its own JDK (the machine's default). Its output (with -q only errors, and stray
        // colour escapes that -B does not stop in 3.8) is shown only when it fails.
        const mvn = spawnSync(
            "mvn",
            [
                "-B",
                "-q",
                "-C",
                `${dependencyPlugin}:copy`,
                `-Dartifact=${keycloakArtifact}`,
                `-DoutputDirectory=${work}`,
            ],
            { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
        );
        if (mvn.status !== 0) {
            throw new Error(
                `mvn dependency:copy of ${keycloakArtifact} failed (${mvn.status}):\n${mvn.stdout}${mvn.stderr}`,
            );
        }
        const archive = fs.readdirSync(work).find((name) => name.endsWith(".tar.gz"));
        if (!archive) {
            throw new Error(`mvn dependency:copy of ${keycloakArtifact} left no .tar.gz in ${work}`);
        }
        const fetched = Date.now();
        fs.rmSync(keycloakDir(), { recursive: true, force: true });
        const unpacking = path.join(keycloakDir(), "dist.partial");
        fs.mkdirSync(unpacking, { recursive: true });
        // The archive's one top directory is keycloak-<version>/.
        execFileSync("tar", ["-xzf", path.join(work, archive), "-C", unpacking, "--strip-components=1"], {
            stdio: ["ignore", "inherit", "inherit"],
        });
        if (!fs.existsSync(path.join(unpacking, "bin", "kc.sh"))) {
            throw new Error(`${archive} has no bin/kc.sh`);
        }
        fs.renameSync(unpacking, keycloakDistDir());
        fs.writeFileSync(stampPath(), `${keycloakRecipeHash()}\n`);
        const seconds = (ms: number) => (ms / 1000).toFixed(1);
        log(
            `fetched Keycloak ${keycloakVersion} in ${seconds(fetched - started)} s, ` +
                `unpacked in ${seconds(Date.now() - fetched)} s`,
        );
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** Fetches and unpacks the distribution unless the cache has it already; returns its directory. */
export function ensureKeycloak(log: (line: string) => void): string {
    if (!isKeycloakFetched()) {
        fetchAndUnpack(log);
    }
    return keycloakDistDir();
}

/**
 * Keycloak 26.5 supports OpenJDK 17, 21 and 25 (keycloak.org/server/supported-configurations; kc.sh itself
 * checks no version). The image runs 21, so 21 first where a machine has one; then Debian's 17; Temurin 25
 * last: measured with 26.5.5, it prints netty's sun.misc.Unsafe deprecation warnings at every launch and,
 * at every stop, jboss-threads' IllegalAccessError ("to use the thread-local-reset capability on Java 24 or
 * later, use ... --add-opens java.base/java.lang=ALL-UNNAMED"), which kc.sh does not pass and the image
 * on 21 never meets. 17 runs the same start with neither. `$KEYCLOAK_JAVA_HOME` overrides the choice.
 */
const javaHomeCandidates = [
    "/usr/lib/jvm/java-21-openjdk-amd64",
    "/usr/lib/jvm/temurin-21-jdk-amd64",
    "/usr/lib/jvm/java-17-openjdk-amd64",
    "/usr/lib/jvm/temurin-25-jdk-amd64",
];

export function keycloakJavaHome(): string {
    const candidates = [process.env.KEYCLOAK_JAVA_HOME, ...javaHomeCandidates].filter(
        (candidate): candidate is string => Boolean(candidate),
    );
    const found = candidates.find((candidate) => fs.existsSync(path.join(candidate, "bin", "java")));
    if (!found) {
        throw new Error(`No JDK for Keycloak ${keycloakVersion} (17, 21 or 25) in ${candidates.join(", ")}`);
    }
    return found;
}

/** For `npm run -s toolchain -- status`. */
export function keycloakStatus(): string {
    const state = isKeycloakFetched() ? "fetched" : "not fetched";
    let java: string;
    try {
        java = keycloakJavaHome();
    } catch (error) {
        java = String(error);
    }
    return `${keycloakName} ${keycloakVersion}: ${state} (${keycloakDistDir()}; JAVA_HOME ${java})`;
}
