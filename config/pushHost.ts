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

# install_file SOURCE TARGET MODE OWNER GROUP: replaces TARGET only when its content or mode differs.
install_file() {
    if [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c '%a %U %G' "$2")" = "$3 $4 $5" ]; then
        return 0
    fi
    install -m "$3" -o "$4" -g "$5" "$1" "$2"
    changed+=("$2")
}
was_changed() {
    local item wanted
    for item in "\${changed[@]}"; do
        for wanted in "$@"; do
            [ "$item" = "$wanted" ] && return 0
        done
    done
    return 1
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
if was_changed ${pushPaths.unit} ${firewallUnit}; then
    systemctl daemon-reload
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
    install_file "$work/firewall.nft" ${pushPaths.nftables} 644 root root
    nft --check --file ${pushPaths.nftables} || fail "nft refuses the rendered rules"
    if was_changed ${pushPaths.nftables} || ! nft list table ${nftTable} >/dev/null 2>&1; then
        nft --file ${pushPaths.nftables}
        changed+=("nft table ${nftTable}")
    fi
    systemctl enable --quiet mattermost-push-firewall.service
fi

# The proxy: restarted only when something it reads changed, then checked through its own endpoint.
systemctl enable --quiet mattermost-push-proxy.service
if was_changed "$install_dir/current" ${[pushPaths.config, pushPaths.unit, ...secretTargets.flatMap(([, target]) => (target ? [target] : []))].join(" ")} ||
    ! systemctl is-active --quiet mattermost-push-proxy.service; then
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
    changed+=("mattermost-push-proxy restarted")
fi

# The TLS front: the new files take effect only when nginx accepts them, otherwise the old ones stay.
install -d -m 0755 -o root -g root ${pushPaths.tlsCertificate.replace(/\/[^/]+$/, "")}
for target in ${pushPaths.nginxSite} ${pushPaths.tlsCertificate} ${pushPaths.tlsKey}; do
    if [ -f "$target" ]; then cp -p -- "$target" "$work/previous.$(basename "$target")"; fi
done
install_file "$work/tls.crt" ${pushPaths.tlsCertificate} 644 root root
install_file "$work/secrets/${secretNames.tlsKey}" ${pushPaths.tlsKey} 600 root root
install_file "$work/secrets/${secretNames.nginxSite}" ${pushPaths.nginxSite} 600 root root
if ! nginx -t -q; then
    for target in ${pushPaths.nginxSite} ${pushPaths.tlsCertificate} ${pushPaths.tlsKey}; do
        if [ -f "$work/previous.$(basename "$target")" ]; then
            cp -p -- "$work/previous.$(basename "$target")" "$target"
        else
            rm -f -- "$target"
        fi
    done
    fail "nginx refuses the new configuration; the previous one is back in place"
fi
if ! systemctl is-active --quiet nginx; then
    systemctl enable --now --quiet nginx
    changed+=("nginx started")
elif was_changed ${pushPaths.nginxSite} ${pushPaths.tlsCertificate} ${pushPaths.tlsKey}; then
    systemctl reload nginx
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
rm -rf ${pushPaths.nginxSite} ${pushPaths.tlsCertificate.replace(/\/[^/]+$/, "")}
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
rm -rf ${pushPaths.configDirectory} ${pushPaths.installDirectory}
if getent passwd ${pushProxyUser} >/dev/null; then
    userdel ${pushProxyUser}
fi
if getent group ${pushProxyUser} >/dev/null; then
    groupdel ${pushProxyUser}
fi
echo "mattermost-push remove: done"
`;
}
