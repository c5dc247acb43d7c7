/**
 * How the push proxy VM is provisioned over SSH (DESIGN decision 7): the files staged on it, the
 * secrets sent on stdin, and the exact commands run. Pure, so the namespace test runs the very text
 * the PushProxyHost component hands @pulumi/command.
 *
 * The steps: `prepare` makes a staging directory only the SSH user can write; the non-secret files are
 * copied into it (remote.CopyToRemote); `provision` checks them against the hashes it was rendered with,
 * reads the secrets from stdin and converges the host; `remove` undoes it. No secret is ever part of a
 * command string, an environment variable or a log line.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import {
    pushPaths,
    pushProxyListen,
    pushProxyUser,
    renderFirewalldScript,
    renderNftables,
    renderPushFrontNginx,
    renderPushProxyConfig,
    renderPushProxyUnit,
    renderUfwScript,
    shellQuote,
    ufwDeleteTaggedRules,
    firewalldZone,
} from "./pushProxy";
import type { PushHostSettings } from "./validatePush";

/** Only the SSH user can write here (mode 0700); root copies the files out before trusting them. */
export const stagingDirectory = "/var/lib/mattermost-push-proxy-staging";
/** The uploaded release tarball's name in the staging directory, when it is not downloaded. */
export const stagedTarballName = "mattermost-push-proxy.tar.gz";
const nftTable = "inet mattermost_push";
const firewallUnit = "/etc/systemd/system/mattermost-push-firewall.service";

export interface StagedFile {
    /** File name in the staging directory. */
    readonly name: string;
    readonly content: string;
}

/** The secrets of the host, each a file it installs with mode 0600 or 0640. */
export interface PushHostSecrets {
    readonly tlsKey: string;
    /** The nginx site holds the secret path prefix. */
    readonly nginxSite: string;
    readonly appleAuthKey?: string;
    readonly appleCertificate?: string;
    readonly firebaseServiceAccount?: string;
}

const secretNames = {
    tlsKey: "tls-key",
    nginxSite: "nginx-site",
    appleAuthKey: "apple-auth-key",
    appleCertificate: "apple-certificate",
    firebaseServiceAccount: "firebase-service-account",
} as const satisfies Record<keyof PushHostSecrets, string>;

export type PushHostSettingsForPlan = Pick<PushHostSettings, "host" | "firewall" | "tarball" | "proxy">;

const sha256 = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

/** The nginx site for the host: rendered with the secret prefix, so it travels with the secrets. */
export function renderPushHostSite(settings: PushHostSettingsForPlan, prefix: string): string {
    return renderPushFrontNginx({ serverName: settings.host, prefix, sendTimeoutSec: settings.proxy.sendTimeoutSec });
}

/** stdin of `provision`: one `<name> <base64>` line per secret, so no value needs quoting. */
export function renderSecretBundle(secrets: PushHostSecrets): string {
    return (Object.keys(secretNames) as (keyof PushHostSecrets)[])
        .filter((key) => secrets[key] !== undefined)
        .map((key) => `${secretNames[key]} ${Buffer.from(secrets[key] ?? "").toString("base64")}\n`)
        .join("");
}

function requiredSecretNames(settings: PushHostSettingsForPlan): string[] {
    const apple = settings.proxy.apple;
    return [
        secretNames.tlsKey,
        secretNames.nginxSite,
        ...(apple ? [apple.token ? secretNames.appleAuthKey : secretNames.appleCertificate] : []),
        ...(settings.proxy.android ? [secretNames.firebaseServiceAccount] : []),
    ];
}

/** The non-secret files, provision.sh last: it carries the hash of every other one. */
export function renderStagedFiles(settings: PushHostSettingsForPlan, tlsCertificate: string): StagedFile[] {
    const files: StagedFile[] = [
        { name: "mattermost-push-proxy.json", content: renderPushProxyConfig(settings.proxy) },
        { name: "mattermost-push-proxy.service", content: renderPushProxyUnit() },
        { name: "mattermost-push-firewall.service", content: renderFirewallUnit() },
        { name: "firewall.nft", content: renderNftables(settings.firewall) },
        { name: "firewall-ufw.sh", content: renderUfwScript(settings.firewall) },
        { name: "firewall-firewalld.sh", content: renderFirewalldScript(settings.firewall) },
        { name: "tls.crt", content: tlsCertificate },
    ];
    return [...files, { name: "provision.sh", content: renderProvisionScript(settings, files) }];
}

/** Loads the push host's nftables table at boot, after the distribution's own rules. */
function renderFirewallUnit(): string {
    return `# Rendered by the mattermost Pulumi program (config/pushHost.ts).
[Unit]
Description=Firewall rules of the Mattermost push proxy
After=nftables.service
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft --file ${pushPaths.nftables}

[Install]
WantedBy=multi-user.target
`;
}

export interface PushHostCommands {
    /** Waits for SSH (the connection retries) and makes the staging directory. */
    readonly prepare: string;
    /** Deletes the staging directory, when the host leaves the stack. */
    readonly unprepare: string;
    /** Checks provision.sh against its hash, then runs it as root; the secrets come on stdin. */
    readonly provision: string;
    /** Stops and removes everything provision installed. */
    readonly remove: string;
}

export function renderPushHostCommands(files: readonly StagedFile[]): PushHostCommands {
    const provisionScript = files.find((file) => file.name === "provision.sh");
    if (!provisionScript) {
        throw new Error("renderPushHostCommands needs the staged files, provision.sh among them");
    }
    const provisionPath = `${stagingDirectory}/provision.sh`;
    return {
        prepare: `sudo -n install -d -m 0700 -o "$(id -un)" -g "$(id -gn)" ${stagingDirectory}`,
        unprepare: `sudo -n rm -rf ${stagingDirectory}`,
        provision: `echo '${sha256(provisionScript.content)}  ${provisionPath}' | sha256sum --check --quiet --strict && sudo -n /bin/bash ${provisionPath}`,
        remove: `sudo -n /bin/bash -c ${shellQuote(renderRemoveScript())}`,
    };
}

/** For an uploaded tarball: it must exist and be the pinned one, checked before anything is touched. */
export function tarballFileProblem(tarball: PushHostSettings["tarball"]): string | undefined {
    if (!tarball.file) {
        return undefined;
    }
    if (!fs.existsSync(tarball.file)) {
        return `mattermost:pushProxyTarballFile: ${tarball.file} does not exist on this machine. Download the release tarball there, or empty the key to have the VM download pushProxyTarballUrl.`;
    }
    const actual = sha256(fs.readFileSync(tarball.file));
    if (tarball.sha256 && actual !== tarball.sha256) {
        return `mattermost:pushProxyTarballFile: ${tarball.file} has sha256 ${actual}, not pushProxyTarballSha256 (${tarball.sha256}). Download the release again, or correct the checksum from the release's checksums.txt.`;
    }
    return undefined;
}

const nginxRoot = "/etc/nginx/";
/** A path of the front's relative to /etc/nginx, where the candidate copy of it is checked. */
function inNginx(vmPath: string): string {
    if (!vmPath.startsWith(nginxRoot)) {
        throw new Error(`${vmPath} is outside ${nginxRoot}, so the candidate check would not see it`);
    }
    return vmPath.slice(nginxRoot.length);
}
const nginxDirectory = (vmPath: string) => vmPath.replace(/\/[^/]+$/, "");

function renderProvisionScript(settings: PushHostSettingsForPlan, files: readonly StagedFile[]): string {
    const uploaded = settings.tarball.file !== undefined;
    const staged = [...files.map((file) => file.name), ...(uploaded ? [stagedTarballName] : [])];
    const apple = settings.proxy.apple;
    const secretTargets: [string, string | undefined][] = [
        [secretNames.appleAuthKey, apple?.token ? pushPaths.appleAuthKey : undefined],
        [secretNames.appleCertificate, apple && !apple.token ? pushPaths.appleCertificate : undefined],
        [secretNames.firebaseServiceAccount, settings.proxy.android ? pushPaths.firebaseServiceAccount : undefined],
    ];
    return `#!/usr/bin/env bash
# Rendered by the mattermost Pulumi program (config/pushHost.ts). Converges the push VM to the rendered
# state and changes nothing when it is there already. Secrets arrive on stdin, one "<name> <base64>" line
# each, and land only in files of mode 0600 or 0640.
set -euo pipefail
umask 077
export LC_ALL=C

staging=${stagingDirectory}
tarball_sha256='${settings.tarball.sha256}'
tarball_url=${uploaded ? "''" : shellQuote(settings.tarball.url ?? "")}
proxy_user=${pushProxyUser}
install_dir=${pushPaths.installDirectory}
release="$install_dir/releases/$tarball_sha256"
state_dir=${pushPaths.stateDirectory}
changed=()

fail() {
    echo "mattermost-push provision: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "must run as root (the command runs it with sudo -n)"
[ -n "$tarball_sha256" ] || fail "no tarball checksum: set mattermost:pushProxyTarballSha256"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The secrets first, before any other command can read stdin.
mkdir "$work/secrets"
while read -r name data; do
    case "$name" in
        ${Object.values(secretNames).join(" | ")}) ;;
        *) fail "unexpected line on stdin (a secret named '$name')" ;;
    esac
    printf '%s' "$data" | base64 --decode >"$work/secrets/$name"
done
exec </dev/null
for name in ${requiredSecretNames(settings).join(" ")}; do
    [ -s "$work/secrets/$name" ] || fail "the secret '$name' did not arrive on stdin"
done

# The staged files, copied out of the SSH user's reach, must be the ones this run rendered.
for name in ${staged.join(" ")}; do
    cp -- "$staging/$name" "$work/$name" || fail "$staging/$name is missing: the copy step did not run"
done
(cd "$work" && sha256sum --check --quiet --strict) <<'SUMS' || fail "the staged files differ from the rendered ones"
${files.map((file) => `${sha256(file.content)}  ${file.name}`).join("\n")}
SUMS

# install_file SOURCE TARGET MODE OWNER GROUP: replaces TARGET only when its content or mode differs, by a
# rename, so a run cut short leaves the old file or the new one, never half of one.
install_file() {
    if [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c '%a %U %G' "$2")" = "$3 $4 $5" ]; then
        return 0
    fi
    install -m "$3" -o "$4" -g "$5" "$1" "$2.new"
    mv -f -- "$2.new" "$2"
    changed+=("$2")
}

# Whether a service must restart or reload is decided against what it last took up successfully, not
# against what this run changed: a run that installed a file and then failed before the restart leaves
# the record of the old one, so the next run restarts even though it changes no file.
install -d -m 0700 -o root -g root "$state_dir"
# fingerprint PATH...: one hash of what the paths hold (a link's target, a file's content, or nothing).
fingerprint() {
    local item
    for item in "$@"; do
        if [ -L "$item" ]; then
            printf '%s -> %s\n' "$item" "$(readlink "$item")"
        elif [ -f "$item" ]; then
            printf '%s %s\n' "$item" "$(sha256sum <"$item" | cut -d' ' -f1)"
        else
            printf '%s absent\n' "$item"
        fi
    done | sha256sum | cut -d' ' -f1
}
# applied NAME FINGERPRINT: whether the last successful apply of NAME took up exactly this.
applied() {
    [ "$(cat "$state_dir/$1" 2>/dev/null || true)" = "$2" ]
}
# record NAME FINGERPRINT: called only once the apply has succeeded.
record() {
    printf '%s\n' "$2" >"$state_dir/$1.new"
    mv -f -- "$state_dir/$1.new" "$state_dir/$1"
}

# Packages: nginx for the front, curl for the download and the health check.
install_packages() {
    if command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
    elif command -v dnf >/dev/null; then
        dnf install -y -q "$@"
    else
        fail "$* missing and no apt-get or dnf to install it: install it on the VM first"
    fi
}
command -v nginx >/dev/null || install_packages nginx
command -v curl >/dev/null || install_packages curl

getent passwd "$proxy_user" >/dev/null ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent \\
        --shell "$(command -v nologin || echo /usr/sbin/nologin)" "$proxy_user"

# The release, verified, in a directory named by its checksum; "current" switches atomically.
if [ ! -x "$release/bin/mattermost-push-proxy" ]; then
    if [ -n "$tarball_url" ]; then
        curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 --max-time 300 \\
            --output "$work/proxy.tar.gz" "$tarball_url" || fail "cannot download $tarball_url"
    else
        cp -- "$work/${stagedTarballName}" "$work/proxy.tar.gz"
    fi
    echo "$tarball_sha256  $work/proxy.tar.gz" | sha256sum --check --quiet --strict ||
        fail "the tarball's sha256 is $(sha256sum "$work/proxy.tar.gz" | cut -d' ' -f1), not the pinned $tarball_sha256"
    install -d -m 0755 "$install_dir" "$install_dir/releases"
    rm -rf "$release.partial"
    mkdir "$release.partial"
    tar --extract --gzip --file "$work/proxy.tar.gz" --directory "$release.partial" \\
        --strip-components=1 --no-same-owner
    [ -x "$release.partial/bin/mattermost-push-proxy" ] || fail "the tarball has no bin/mattermost-push-proxy"
    chmod -R u=rwX,go=rX "$release.partial"
    chmod 0755 "$release.partial"
    mv -T "$release.partial" "$release"
fi
if [ "$(readlink "$install_dir/current" || true)" != "releases/$tarball_sha256" ]; then
    ln -sfn "releases/$tarball_sha256" "$install_dir/current.new"
    mv -T "$install_dir/current.new" "$install_dir/current"
    changed+=("$install_dir/current")
fi

# The proxy's configuration and credentials: readable by its user only.
install -d -m 0750 -o root -g "$proxy_user" ${pushPaths.configDirectory}
install_file "$work/mattermost-push-proxy.json" ${pushPaths.config} 640 root "$proxy_user"
${secretTargets
    .map(([name, target]) =>
        target
            ? `install_file "$work/secrets/${name}" ${target} 640 root "$proxy_user"`
            : `rm -f ${pushPaths.configDirectory}/${name}.* # not configured (any more)`,
    )
    .join("\n")}
install_file "$work/mattermost-push-proxy.service" ${pushPaths.unit} 644 root root
install_file "$work/mattermost-push-firewall.service" ${firewallUnit} 644 root root
units=$(fingerprint ${pushPaths.unit} ${firewallUnit})
if ! applied systemd-units "$units"; then
    systemctl daemon-reload
    record systemd-units "$units"
fi

# The firewall, before the front opens: the host's own manager where one is active, else our own table.
firewall_manager=nftables
if systemctl is-active --quiet firewalld; then
    firewall_manager=firewalld
elif command -v ufw >/dev/null && ufw status | grep -q '^Status: active'; then
    firewall_manager=ufw
fi
if [ "$firewall_manager" != nftables ]; then
    bash "$work/firewall-$firewall_manager.sh"
    # A table of ours from before the manager was turned on would keep CIDRs it no longer has.
    if command -v nft >/dev/null && nft list table ${nftTable} >/dev/null 2>&1; then
        nft delete table ${nftTable}
    fi
    systemctl disable --quiet mattermost-push-firewall.service
else
    # Checked before it lands: the boot unit loads the live file, and a refused one would leave 443 open.
    nft --check --file "$work/firewall.nft" || fail "nft refuses the rendered rules; the live ones are unchanged"
    install_file "$work/firewall.nft" ${pushPaths.nftables} 644 root root
    # The file and the table in the kernel, so a table changed or deleted by hand is loaded again too.
    nft_state() {
        {
            fingerprint ${pushPaths.nftables}
            nft list table ${nftTable} 2>/dev/null || true
        } | sha256sum | cut -d' ' -f1
    }
    if ! applied nftables "$(nft_state)"; then
        nft --file ${pushPaths.nftables}
        record nftables "$(nft_state)"
        changed+=("nft table ${nftTable}")
    fi
    systemctl enable --quiet mattermost-push-firewall.service
fi

# The proxy: restarted unless it runs on exactly what it reads, then checked through its own endpoint.
# The proxy's JSON has no checker of its own; it is checked above against the hash of the render.
systemctl enable --quiet mattermost-push-proxy.service
proxy_inputs=$(fingerprint "$install_dir/current" ${[pushPaths.config, pushPaths.unit, ...secretTargets.flatMap(([, target]) => (target ? [target] : []))].join(" ")})
if ! applied mattermost-push-proxy "$proxy_inputs" || ! systemctl is-active --quiet mattermost-push-proxy.service; then
    since=$(date +%s)
    systemctl restart mattermost-push-proxy.service
    healthy=no
    for _ in $(seq 1 30); do
        if curl --fail --silent --max-time 2 http://${pushProxyListen}/version >/dev/null; then
            healthy=yes
            break
        fi
        sleep 1
    done
    [ "$healthy" = yes ] || fail "the push proxy does not answer on ${pushProxyListen}; see journalctl -u mattermost-push-proxy"
    # A platform whose credentials it cannot load does not stop the proxy; it only says so in its log.
    if journalctl --unit mattermost-push-proxy.service --since "@$since" --no-pager --quiet | grep -q 'Failed to initialize client'; then
        fail "the push proxy could not load the Apple or Firebase credentials; see journalctl -u mattermost-push-proxy"
    fi
    record mattermost-push-proxy "$proxy_inputs"
    changed+=("mattermost-push-proxy restarted")
fi

# The TLS front: checked by nginx as a copy of /etc/nginx with the new files, mounted over /etc/nginx in
# a mount namespace of its own (so every include and path is the live one), before any file is replaced.
install -d -m 0755 -o root -g root ${nginxDirectory(pushPaths.tlsCertificate)}
candidate="$work/nginx"
cp -a /etc/nginx "$candidate"
install -m 644 "$work/tls.crt" "$candidate/${inNginx(pushPaths.tlsCertificate)}"
install -m 600 "$work/secrets/${secretNames.tlsKey}" "$candidate/${inNginx(pushPaths.tlsKey)}"
install -m 600 "$work/secrets/${secretNames.nginxSite}" "$candidate/${inNginx(pushPaths.nginxSite)}"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$1" /etc/nginx && nginx -t -q' check "$candidate" ||
    fail "nginx refuses the new configuration; the live one is unchanged"
install_file "$work/tls.crt" ${pushPaths.tlsCertificate} 644 root root
install_file "$work/secrets/${secretNames.tlsKey}" ${pushPaths.tlsKey} 600 root root
install_file "$work/secrets/${secretNames.nginxSite}" ${pushPaths.nginxSite} 600 root root
front=$(fingerprint ${pushPaths.nginxSite} ${pushPaths.tlsCertificate} ${pushPaths.tlsKey})
if ! systemctl is-active --quiet nginx; then
    systemctl enable --now --quiet nginx
    record nginx "$front"
    changed+=("nginx started")
elif ! applied nginx "$front"; then
    systemctl reload nginx
    record nginx "$front"
    changed+=("nginx reloaded")
fi

find "$install_dir/releases" -mindepth 1 -maxdepth 1 ! -name "$tarball_sha256" -exec rm -rf {} +
echo "mattermost-push provision: \${#changed[@]} change(s)\${changed[*]:+: \${changed[*]}}"
`;
}

/** Undoes provision.sh. SSH rules added under ufw or firewalld stay: removing them could lock the deployer out. */
export function renderRemoveScript(): string {
    return `set -euo pipefail
export LC_ALL=C
systemctl disable --now --quiet mattermost-push-proxy.service 2>/dev/null || true
systemctl disable --quiet mattermost-push-firewall.service 2>/dev/null || true
rm -f ${pushPaths.unit} ${firewallUnit}
systemctl daemon-reload
rm -rf ${pushPaths.nginxSite} ${nginxDirectory(pushPaths.tlsCertificate)}
if systemctl is-active --quiet nginx; then
    nginx -t -q && systemctl reload nginx
fi
if command -v nft >/dev/null && nft list table ${nftTable} >/dev/null 2>&1; then
    nft delete table ${nftTable}
fi
if command -v ufw >/dev/null; then
${ufwDeleteTaggedRules()}
fi
if command -v firewall-cmd >/dev/null && firewall-cmd --permanent --get-zones | tr ' ' '\\n' | grep -qx ${firewalldZone}; then
    firewall-cmd --permanent --delete-zone=${firewalldZone}
    firewall-cmd --reload
fi
rm -rf ${pushPaths.configDirectory} ${pushPaths.installDirectory} ${pushPaths.stateDirectory}
if getent passwd ${pushProxyUser} >/dev/null; then
    userdel ${pushProxyUser}
fi
if getent group ${pushProxyUser} >/dev/null; then
    groupdel ${pushProxyUser}
fi
echo "mattermost-push remove: done"
`;
}
