/**
 * Which Mattermost upgrades the pair can take in one `pulumi up`. During an upgrade the schema
 * migration Job moves the database to the new release while the primary still serves on the old one,
 * so the old release must be one the new schema stays compatible with. Mattermost promises that only
 * back to the last Extended Support Release before a release: "This backwards compatibility guarantee
 * extends to only the last ESR version ... upgrading from ESR1 to ESR2, and then ESR2 to ESR3 will
 * ensure backwards compatibility, but not from ESR1 to ESR3 directly" (docs,
 * administration-guide/upgrade/prepare-to-upgrade-mattermost, "Upgrade Best Practices"). Its release
 * policy calls a jump over an ESR "supported, but not tested"; for a pair whose old server keeps
 * serving on the migrated database, the stricter rule is the one that matters.
 */
import { formatVersion, parseVersion, type Version } from "./images";

/**
 * Mattermost's Extended Support Releases (docs, product-overview/release-policy.md). It has to grow
 * with config/mattermostSchema.ts's release lines: an ESR missing here lets a jump over it through.
 */
export const extendedSupportReleases: readonly Version[] = [
    "7.1",
    "7.8",
    "8.1",
    "9.5",
    "9.11",
    "10.5",
    "10.11",
    "11.7",
].map((line) => parseVersion(line)!);

const lineOf = (version: Version) => version.major * 1000 + version.minor;
const lineName = (version: Version) => `${version.major}.${version.minor}`;

/** "a", "a and b", "a, b and c". */
function listed(items: readonly string[]): string {
    return items.length > 1 ? `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}` : (items[0] ?? "");
}

function lastEsrBefore(version: Version): Version | undefined {
    return [...extendedSupportReleases].reverse().find((esr) => lineOf(esr) < lineOf(version));
}

/** The ESR lines to pass through, oldest first, on the way from one release to another. */
export function esrSteps(from: Version, to: Version): Version[] {
    const steps: Version[] = [];
    for (let esr = lastEsrBefore(to); esr && lineOf(esr) > lineOf(from); esr = lastEsrBefore(esr)) {
        steps.unshift(esr);
    }
    return steps;
}

/**
 * Why the database cannot go from `from` to `to` in one `pulumi up`, with the way there; undefined
 * when it can. `imageKey` is the key that names the release (mattermostImage or mattermostVersion).
 */
export function upgradeProblem(from: Version, to: Version, imageKey: string): string | undefined {
    const shownFrom = formatVersion(from);
    const shownTo = formatVersion(to);
    if (lineOf(to) < lineOf(from)) {
        return `${imageKey}: ${shownFrom} to ${shownTo} is a downgrade, and Mattermost never migrates a database back: a ${lineName(to)} server on the ${lineName(from)} schema is not supported. To go back, restore the database backup taken before the upgrade to ${lineName(from)}, then set mattermostUpgradeFrom to the release of that backup (pulumi config set mattermostUpgradeFrom ${shownTo}) and run pulumi up.`;
    }
    const steps = esrSteps(from, to);
    if (steps.length === 0) {
        return undefined;
    }
    const path = [...steps.map((esr) => `${lineName(esr)}.x`), shownTo].join(", then ");
    return `${imageKey}: ${shownFrom} to ${shownTo} skips the ${listed(steps.map(lineName))} Extended Support Release${steps.length > 1 ? "s" : ""}. Mattermost keeps a release's schema compatible only with the ESR before it, and during the upgrade the primary still serves ${shownFrom} on the migrated database. Upgrade in steps, one pulumi up each: ${path} (the latest patch of each ESR line).`;
}
