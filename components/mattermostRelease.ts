import * as pulumi from "@pulumi/pulumi";
import { parseVersion } from "../config/images";
import { upgradeProblem } from "../config/upgrade";

/**
 * The Mattermost release the stack runs, kept in the stack's own state: on an update Pulumi hands the
 * provider's `check` the inputs of the last `pulumi up` beside the new ones, so the move from the
 * release last deployed to the new one is checked at preview, with nothing read from outside the state
 * (a StackReference to the stack itself would show as drift at every refresh after an upgrade). The
 * record is nothing outside Pulumi: create and update only store the inputs, and a refresh reads them
 * back unchanged.
 */
export interface ReleaseInputs {
    /** The release this `pulumi up` deploys. */
    readonly version: string;
    /** The config key that names it, in full (`mattermost:mattermostImage`), for the message. */
    readonly versionKey: string;
    /** mattermostUpgradeFrom: the release the database holds, when not the one last deployed. */
    readonly upgradeFrom?: string;
}

/** Why the move from `olds` (the last deployed inputs, empty on a first deployment) to `news` is refused. */
export function releaseCheck(olds: Partial<ReleaseInputs>, news: ReleaseInputs): string | undefined {
    const from = parseVersion(news.upgradeFrom || (olds.version ?? ""));
    const to = parseVersion(news.version);
    return from && to ? upgradeProblem(from, to, news.versionKey) : undefined;
}

const releaseProvider: pulumi.dynamic.ResourceProvider = {
    check(olds: Partial<ReleaseInputs>, news: ReleaseInputs) {
        const problem = releaseCheck(olds, news);
        return Promise.resolve({ inputs: news, failures: problem ? [{ property: "version", reason: problem }] : [] });
    },
    diff(_id: string, olds: ReleaseInputs, news: ReleaseInputs) {
        // mattermostUpgradeFrom only steers the check: setting or removing it is no change of the release.
        return Promise.resolve({ changes: olds.version !== news.version });
    },
    create(inputs: ReleaseInputs) {
        return Promise.resolve({ id: "mattermost-release", outs: inputs });
    },
    update(_id: string, _olds: ReleaseInputs, news: ReleaseInputs) {
        return Promise.resolve({ outs: news });
    },
};

/**
 * Fails the preview (and an `up --skip-preview` before anything that depends on it) when the new release
 * skips an Extended Support Release or goes back a release line, with the steps to take instead.
 */
export class MattermostRelease extends pulumi.dynamic.Resource {
    declare public readonly version: pulumi.Output<string>;

    constructor(name: string, inputs: ReleaseInputs, opts?: pulumi.CustomResourceOptions) {
        super(releaseProvider, name, { ...inputs }, opts, "mattermost", "MattermostRelease");
    }
}
