/**
 * The push proxy VM's keys (DESIGN decision 7): their schemas and the rules between them. Part of
 * validateStackConfig; pure like it.
 */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { fullKey, type ConfigKeyName } from "./keys";
import type { FirewallInput, PushProxySettings } from "./pushProxy";
import { bool, cidrList, cidrsOverlap, integer, isHostName, oneOf } from "./schemas";

export interface PushHostSettings {
    /** Name or IPv4 address in PushNotificationServer and the front's certificate. */
    readonly host: string;
    readonly hostIsAddress: boolean;
    readonly ssh: { readonly address: string; readonly port: number; readonly user: string; readonly hostKey: string };
    readonly firewall: FirewallInput;
    /** Downloaded from `url`, or uploaded from `file` on the deployer's machine; verified against sha256 either way. */
    readonly tarball: { readonly sha256: string; readonly url?: string; readonly file?: string };
    readonly proxy: PushProxySettings;
}

const isIpv4 = (value: string) => ipaddr.IPv4.isValidFourPartDecimal(value);

const hostOrAddress = (example: string) =>
    z.string().refine((value) => value === "" || isHostName(value) || isIpv4(value), {
        error: `is neither a host name nor an IPv4 address. Give e.g. ${example}`,
    });

const hostKeyPattern = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}( \S.*)?$/;

export const pushFieldSchemas = {
    pushHost: hostOrAddress("push.example.com or 10.20.30.40"),
    pushSshAddress: hostOrAddress("push-admin.example.com or 10.20.30.40"),
    pushSshPort: integer(1, 65535),
    pushSshUser: z.string().regex(/^([a-z_][a-z0-9_-]{0,31})?$/, {
        error: "is not a user name. Use the login of the account with passwordless sudo, e.g. deploy",
    }),
    pushSshPrivateKey: z.string(),
    pushSshHostKey: z.string().refine((value) => value === "" || hostKeyPattern.test(value.trim()), {
        error: "is not an SSH public host key. Give one line as ssh-keyscan prints it without the host, e.g. ssh-ed25519 AAAAC3Nza...",
    }),
    pushAllowedCidrs: cidrList,
    pushDeployerCidrs: cidrList,
    pushProxyTarballUrl: z.string().regex(/^https:\/\/[^\s'"]+\.tar\.gz$/, {
        error: "is not an https URL of a .tar.gz. Give the release asset, e.g. https://github.com/mattermost/mattermost-push-proxy/releases/download/v6.5.0/mattermost-push-proxy-linux-amd64.tar.gz",
    }),
    pushProxyTarballFile: z.string().regex(/^([^\s'"]+\.tar\.gz)?$/, {
        error: "is not the path of a .tar.gz file (no spaces or quotes). Give e.g. ./mattermost-push-proxy-linux-amd64.tar.gz",
    }),
    pushProxyTarballSha256: z.string().regex(/^([0-9a-f]{64})?$/, {
        error: "is not a sha256. Give the 64 lower-case hex digits from the release's checksums.txt",
    }),
    pushAppleTopic: z.string().regex(/^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)?$/, {
        error: "is not a bundle id. Give the iOS app's, e.g. com.example.chat",
    }),
    pushApplePlatform: z.string().regex(/^[a-z_]+$/, { error: "is not a platform name, e.g. apple_rn" }),
    pushAppleKeyId: z.string().regex(/^([A-Z0-9]{10})?$/, {
        error: "is not an APNs key id (10 upper-case letters and digits, as in AuthKey_<id>.p8)",
    }),
    pushAppleTeamId: z.string().regex(/^([A-Z0-9]{10})?$/, {
        error: "is not an Apple team id (10 upper-case letters and digits)",
    }),
    pushAppleAuthKey: z.string(),
    pushAppleCertificate: z.string(),
    pushAppleDevelopment: bool("pushAppleDevelopment"),
    pushAndroidPlatform: z.string().regex(/^([a-z_]+)?$/, { error: "is not a platform name, e.g. android_rn" }),
    pushFirebaseServiceAccount: z.string(),
    pushThrottlePerSec: integer(1, 100000),
    pushSendTimeoutSec: integer(1, 600),
    pushRetryTimeoutSec: integer(1, 600),
    pushNotificationContents: oneOf(["generic_no_channel", "generic", "full", "id_loaded"]),
};

type PushFields = { [K in keyof typeof pushFieldSchemas]: z.output<(typeof pushFieldSchemas)[K]> };

export interface PushReport {
    problem(key: ConfigKeyName, message: string): void;
    missingSecret(key: ConfigKeyName, message: string): void;
    /** A value that may stay unset for the offline render but not for `pulumi up`. */
    missingValue(key: ConfigKeyName, message: string): void;
}

/**
 * @param hasSecret whether a secret key is set (its value is never looked at here)
 * @returns the VM's settings, or undefined when pushHost is empty (no push notifications)
 */
export function validatePush(
    f: PushFields,
    hasSecret: (key: ConfigKeyName) => boolean,
    report: PushReport,
): PushHostSettings | undefined {
    if (f.pushHost === "") {
        return undefined;
    }
    const requireSecret = (key: ConfigKeyName, why: string) => {
        if (!hasSecret(key)) {
            report.missingSecret(
                key,
                `${fullKey(key)}: is required ${why} and is not set. Set it with: pulumi config set --secret ${key} -- "$(cat <file>)"`,
            );
        }
    };
    if (f.pushSshUser === "") {
        report.problem(
            "pushSshUser",
            "is required with pushHost. Set the account with passwordless sudo the program logs in as: pulumi config set pushSshUser deploy",
        );
    }
    if (f.pushSshHostKey === "") {
        report.problem(
            "pushSshHostKey",
            "is required with pushHost: without a pinned host key, whatever answers at the address would be sent the push credentials. Read it on the VM's console (or with ssh-keyscan over a network you trust) and set: pulumi config set pushSshHostKey 'ssh-ed25519 AAAA...'",
        );
    }
    requireSecret("pushSshPrivateKey", "with pushHost");
    if (f.pushAllowedCidrs.length === 0) {
        report.problem(
            "pushAllowedCidrs",
            "is empty, so no Mattermost server could reach the push proxy. List the cluster's egress addresses: pulumi config set --path 'pushAllowedCidrs[0]' 10.20.0.0/24",
        );
    }
    for (const deployer of f.pushDeployerCidrs) {
        const allowed = f.pushAllowedCidrs.find((cidr) => cidrsOverlap(cidr, deployer));
        if (allowed) {
            report.problem(
                "pushDeployerCidrs",
                `"${deployer}" overlaps "${allowed}" of pushAllowedCidrs: under firewalld, traffic from a source of the push zone is judged by that zone, which admits only 443, so the deployer's SSH would be locked out. Keep the two apart`,
            );
        }
    }
    if (f.pushDeployerCidrs.length === 0) {
        report.problem(
            "pushDeployerCidrs",
            "is empty. List where the deployer's SSH comes from, so the firewall keeps it open: pulumi config set --path 'pushDeployerCidrs[0]' 10.10.5.0/24",
        );
    }
    if (f.pushProxyTarballSha256 === "") {
        report.missingValue(
            "pushProxyTarballSha256",
            `${fullKey("pushProxyTarballSha256")}: is required with pushHost and is not set: the VM installs only a tarball it can verify. Take it from the release's checksums.txt: pulumi config set pushProxyTarballSha256 <64 hex digits>`,
        );
    }
    if (f.pushRetryTimeoutSec > f.pushSendTimeoutSec) {
        report.problem(
            "pushRetryTimeoutSec",
            `(${f.pushRetryTimeoutSec}) is longer than pushSendTimeoutSec (${f.pushSendTimeoutSec}), the budget of the whole send. Lower it, or raise pushSendTimeoutSec`,
        );
    }

    let apple: PushProxySettings["apple"];
    if (f.pushAppleTopic !== "") {
        if (f.pushAppleKeyId !== "") {
            if (f.pushAppleTeamId === "") {
                report.problem(
                    "pushAppleTeamId",
                    "is required with pushAppleKeyId (APNs token authentication). Set it: pulumi config set pushAppleTeamId <team id>",
                );
            }
            requireSecret("pushAppleAuthKey", "with pushAppleKeyId");
        } else {
            requireSecret(
                "pushAppleCertificate",
                "with pushAppleTopic and no pushAppleKeyId (certificate authentication)",
            );
        }
        apple = {
            type: f.pushApplePlatform,
            topic: f.pushAppleTopic,
            token: f.pushAppleKeyId ? { keyId: f.pushAppleKeyId, teamId: f.pushAppleTeamId } : undefined,
            development: f.pushAppleDevelopment,
        };
    } else if (f.pushAppleKeyId !== "" || f.pushAppleTeamId !== "") {
        report.problem(
            "pushAppleTopic",
            "is empty while pushAppleKeyId or pushAppleTeamId is set. Set the iOS app's bundle id: pulumi config set pushAppleTopic com.example.chat",
        );
    }
    if (f.pushAndroidPlatform !== "") {
        requireSecret("pushFirebaseServiceAccount", "with pushAndroidPlatform (empty it for no Android pushes)");
    }
    if (!apple && f.pushAndroidPlatform === "") {
        report.problem(
            "pushAppleTopic",
            "is empty and pushAndroidPlatform too, so the push proxy would have nowhere to send. Configure the iOS app (pushAppleTopic) or the Android app (pushAndroidPlatform), or empty pushHost for no push notifications",
        );
    }

    return {
        host: f.pushHost,
        hostIsAddress: isIpv4(f.pushHost),
        ssh: {
            address: f.pushSshAddress || f.pushHost,
            port: f.pushSshPort,
            user: f.pushSshUser,
            hostKey: f.pushSshHostKey.trim(),
        },
        firewall: { allowedCidrs: f.pushAllowedCidrs, deployerCidrs: f.pushDeployerCidrs, sshPort: f.pushSshPort },
        tarball: {
            sha256: f.pushProxyTarballSha256,
            ...(f.pushProxyTarballFile ? { file: f.pushProxyTarballFile } : { url: f.pushProxyTarballUrl }),
        },
        proxy: {
            apple,
            android: f.pushAndroidPlatform ? { type: f.pushAndroidPlatform } : undefined,
            throttlePerSec: f.pushThrottlePerSec,
            sendTimeoutSec: f.pushSendTimeoutSec,
            retryTimeoutSec: f.pushRetryTimeoutSec,
        },
    };
}
