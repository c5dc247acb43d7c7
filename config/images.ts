/** Parsing of container image references, so that no image runs by a moving tag (or none). */

export interface ImageReference {
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

const digestPattern = /^sha256:[0-9a-f]{64}$/;
// A tag that names a release (`1.28.0`, `v10.11.10`, `16.9-alpine`), not a moving one (`latest`, `stable`, `release-10`).
const versionTagPattern = /^v?\d+(\.\d+)+([.-][0-9A-Za-z._-]+)?$/;

export function parseImage(reference: string): ImageReference {
    const [name, digest] = reference.split("@", 2) as [string, string | undefined];
    const lastSlash = name.lastIndexOf("/");
    const lastColon = name.lastIndexOf(":");
    const hasTag = lastColon > lastSlash;
    return {
        repository: hasTag ? name.slice(0, lastColon) : name,
        tag: hasTag ? name.slice(lastColon + 1) : undefined,
        digest,
    };
}

/** Why the reference names no release (no tag, a moving tag, a malformed digest), or undefined. A release
 * tag alone can still be moved by its registry: production asks for the digest too (validate.ts). */
export function imageReferenceProblem(reference: string): string | undefined {
    if (reference.trim() === "" || /\s/.test(reference)) {
        return "is not an image reference";
    }
    const image = parseImage(reference);
    if (image.digest !== undefined) {
        return digestPattern.test(image.digest)
            ? undefined
            : `has a malformed digest "${image.digest}" (expected sha256:<64 hex digits>)`;
    }
    if (image.tag === undefined) {
        return "has no tag, so it means `latest`";
    }
    if (!versionTagPattern.test(image.tag)) {
        return `has the moving tag "${image.tag}"`;
    }
    return undefined;
}

export interface Version {
    readonly major: number;
    readonly minor: number;
    readonly patch: number;
}

export function parseVersion(text: string): Version | undefined {
    const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
    if (!match) {
        return undefined;
    }
    return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

export function formatVersion(version: Version): string {
    return `${version.major}.${version.minor}.${version.patch}`;
}
