/**
 * The push proxy host (DESIGN decision 7): mattermost-push-proxy on its own VM behind an nginx TLS front
 * and a firewall. Pure renderers of every file and rule the host gets; the component that delivers them
 * over SSH builds on these.
 */

/** Where things live on the host. */
export const pushPaths = {
    installDirectory: "/opt/mattermost-push-proxy",
    binary: "/opt/mattermost-push-proxy/current/bin/mattermost-push-proxy",
    configDirectory: "/etc/mattermost-push-proxy",
    config: "/etc/mattermost-push-proxy/mattermost-push-proxy.json",
    appleAuthKey: "/etc/mattermost-push-proxy/apple-auth-key.p8",
    appleCertificate: "/etc/mattermost-push-proxy/apple-certificate.pem",
    firebaseServiceAccount: "/etc/mattermost-push-proxy/firebase-service-account.json",
    unit: "/etc/systemd/system/mattermost-push-proxy.service",
    nginxSite: "/etc/nginx/conf.d/mattermost-push.conf",
    tlsCertificate: "/etc/nginx/mattermost-push/tls.crt",
    tlsKey: "/etc/nginx/mattermost-push/tls.key",
    nftables: "/etc/mattermost-push-proxy/firewall.nft",
    /** What provisioning last applied successfully, root's only: the next run compares the host against it. */
    stateDirectory: "/var/lib/mattermost-push-proxy",
} as const;

/** The proxy listens here only: it has no TLS and no caller authentication of its own. */
export const pushProxyListen = "127.0.0.1:8066";
export const pushProxyUser = "mattermost-push";

export interface PushProxySettings {
    /** APNs token authentication; the .p8 key itself is a secret file. */
    readonly apple?: {
        readonly type: string;
        readonly topic: string;
        /** APNs token authentication (the .p8 key), or absent for a legacy certificate. */
        readonly token?: { readonly keyId: string; readonly teamId: string };
        readonly development: boolean;
    };
    /** FCM v1; the service-account JSON is a secret file. */
    readonly android?: { readonly type: string };
    readonly throttlePerSec: number;
    readonly sendTimeoutSec: number;
    readonly retryTimeoutSec: number;
}

/** mattermost-push-proxy.json: no secret in it, only the paths of the secret files. */
export function renderPushProxyConfig(settings: PushProxySettings): string {
    const config = {
        ListenAddress: pushProxyListen,
        ThrottlePerSec: settings.throttlePerSec,
        ThrottleMemoryStoreSize: 50000,
        // nginx overwrites this header with the caller's address, so throttling is per Mattermost server.
        ThrottleVaryByHeader: "X-Forwarded-For",
        EnableMetrics: false,
        SendTimeoutSec: settings.sendTimeoutSec,
        RetryTimeoutSec: settings.retryTimeoutSec,
        EnableConsoleLog: true,
        EnableFileLog: false,
        LogFileLocation: "",
        LogFormat: "json",
        ApplePushSettings: settings.apple
            ? [
                  {
                      Type: settings.apple.type,
                      ApplePushUseDevelopment: settings.apple.development,
                      ApplePushCertPrivate: settings.apple.token ? "" : pushPaths.appleCertificate,
                      ApplePushCertPassword: "",
                      ApplePushTopic: settings.apple.topic,
                      AppleAuthKeyFile: settings.apple.token ? pushPaths.appleAuthKey : "",
                      AppleAuthKeyID: settings.apple.token?.keyId ?? "",
                      AppleTeamID: settings.apple.token?.teamId ?? "",
                  },
              ]
            : [],
        AndroidPushSettings: settings.android
            ? [
                  {
                      Type: settings.android.type,
                      AndroidApiKey: "",
                      ServiceFileLocation: pushPaths.firebaseServiceAccount,
                  },
              ]
            : [],
    };
    return `${JSON.stringify(config, null, 4)}\n`;
}

/** The systemd unit: its own user, no privileges, an absolute config path and a private /tmp. */
export function renderPushProxyUnit(): string {
    return `# Rendered by the mattermost Pulumi program (config/pushProxy.ts).
[Unit]
Description=Mattermost Push Notification Service
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${pushProxyUser}
Group=${pushProxyUser}
WorkingDirectory=${pushPaths.installDirectory}/current
# The proxy looks for its config under /tmp before the path it is given: a private /tmp closes that.
ExecStart=${pushPaths.binary} --config ${pushPaths.config}
PrivateTmp=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
LockPersonality=yes
CapabilityBoundingSet=
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

export interface PushFrontInput {
    /** The name or address Mattermost calls, as in PushNotificationServer and the certificate's SANs. */
    readonly serverName: string;
    /** The secret path prefix: without it nothing reaches the proxy. */
    readonly prefix: string;
    readonly sendTimeoutSec: number;
    /** Port and paths differ only in tests. */
    readonly listenPort?: number;
    readonly certificatePath?: string;
    readonly keyPath?: string;
    readonly upstream?: string;
    readonly logDirectory?: string;
}

/** The front's access log format: the request line and URI would carry the secret prefix, so neither is in it. */
const pushFrontLogFormat = "mattermost_push";

/**
 * The nginx TLS front (Mozilla intermediate, guideline 6.0): only the two endpoints Mattermost calls,
 * under the secret prefix, with X-Forwarded-For overwritten, since the proxy throttles on it.
 */
export function renderPushFrontNginx(input: PushFrontInput): string {
    const prefix = `/${input.prefix.replace(/^\/+|\/+$/g, "")}`;
    const upstream = input.upstream ?? pushProxyListen;
    const location = (endpoint: string) => `    location = ${prefix}/api/v1/${endpoint} {
        limit_except POST {
            deny all;
        }
        set $mattermost_push_endpoint ${endpoint};
        proxy_pass http://${upstream}/api/v1/${endpoint};
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header Connection "";
        # Above the proxy's whole send budget, retries included.
        proxy_read_timeout ${input.sendTimeoutSec + 15}s;
        client_max_body_size 64k;
    }
`;
    return `# Rendered by the mattermost Pulumi program (config/pushProxy.ts). Holds the secret prefix: mode 0600.
# The endpoint a request reached stands in for its path, which holds the prefix.
log_format ${pushFrontLogFormat} '$remote_addr [$time_local] $request_method $mattermost_push_endpoint $status '
    '$body_bytes_sent $request_time upstream=$upstream_addr $upstream_status $upstream_response_time';

server {
    listen ${input.listenPort ?? 443} ssl;
    server_name ${input.serverName};
    server_tokens off;

    ssl_certificate ${input.certificatePath ?? pushPaths.tlsCertificate};
    ssl_certificate_key ${input.keyPath ?? pushPaths.tlsKey};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    # Mozilla's list without X25519MLKEM768, which needs OpenSSL 3.5 (nginx refuses unknown groups).
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_prefer_server_ciphers off;
    ssl_session_timeout 1d;
    ssl_session_cache shared:MattermostPush:10m;
    add_header Strict-Transport-Security "max-age=63072000" always;

    set $mattermost_push_endpoint none;
    access_log ${input.logDirectory ?? "/var/log/nginx"}/mattermost-push.access.log ${pushFrontLogFormat};
    # nginx's error lines always name the request, prefix and all, and their format cannot change: they
    # go nowhere. A failed upstream still shows in the access log (its status, address and timing).
    error_log /dev/null;

${location("send_push")}
${location("ack")}
    # /metrics, /version and everything else: nothing here answers.
    location / {
        return 404;
    }
}
`;
}

export interface FirewallInput {
    /** The Mattermost pods' egress addresses: the only callers of 443. */
    readonly allowedCidrs: readonly string[];
    /** Where the deployer's SSH comes from; kept open by every firewall path. */
    readonly deployerCidrs: readonly string[];
    readonly sshPort: number;
}

const isIpv6 = (cidr: string) => cidr.includes(":");

function nftSet(name: string, type: "ipv4_addr" | "ipv6_addr", cidrs: readonly string[]): string {
    const elements = cidrs.length > 0 ? `\n        elements = { ${cidrs.join(", ")} }` : "";
    return `    set ${name} {
        type ${type}
        flags interval${elements}
    }`;
}

/**
 * The push host's own nftables table, replaced whole on every load (declare, delete, define: atomic with
 * nft -f, and never `flush ruleset`, which would wipe other tables). It only restricts: 443 from the
 * allowed CIDRs, 8066 from nowhere; SSH is never touched, so a run can never cut its own connection.
 */
export function renderNftables(input: FirewallInput): string {
    const v4 = input.allowedCidrs.filter((cidr) => !isIpv6(cidr));
    const v6 = input.allowedCidrs.filter(isIpv6);
    return `# Rendered by the mattermost Pulumi program (config/pushProxy.ts).
table inet mattermost_push {}
delete table inet mattermost_push
table inet mattermost_push {
${nftSet("push_clients_v4", "ipv4_addr", v4)}
${nftSet("push_clients_v6", "ipv6_addr", v6)}

    chain input {
        # Before other tables' input chains (priority filter), so a drop here is final.
        type filter hook input priority filter - 10; policy accept;
        iif "lo" accept
        tcp dport 443 ip saddr @push_clients_v4 accept
        tcp dport 443 ip6 saddr @push_clients_v6 accept
        tcp dport { 443, 8066 } drop
    }
}
`;
}

export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The comment tagging the ufw rules for 443 this program makes, and the firewalld zone it owns. */
export const ufwComment = "mattermost-push";
export const firewalldZone = "mattermost-push";

/** Deletes every ufw rule tagged with ufwComment, newest first so the numbers stay valid. */
export function ufwDeleteTaggedRules(): string {
    return [
        `ufw status numbered | sed -n 's/^\\[ *\\([0-9]*\\)\\].*# ${ufwComment}$/\\1/p' | sort -rn | while read -r rule; do`,
        '    ufw --force delete "$rule"',
        "done",
    ].join("\n");
}

/** ufw's way, where ufw manages the host: rules tagged with a comment, reconciled by deleting the tag's rules first. */
export function renderUfwScript(input: FirewallInput): string {
    const comment = ufwComment;
    const lines = [
        "#!/usr/bin/env bash",
        "# Rendered by the mattermost Pulumi program (config/pushProxy.ts): the push host's firewall under ufw.",
        "set -euo pipefail",
        "# SSH first, so no step below can cut the deployer off.",
        ...input.deployerCidrs.map(
            (cidr) =>
                `ufw allow from ${shellQuote(cidr)} to any port ${input.sshPort} proto tcp comment ${shellQuote(`${comment}-ssh`)}`,
        ),
        "# Changed CIDRs replace the old rules: delete every 443 rule this program made, newest first.",
        ufwDeleteTaggedRules(),
        ...input.allowedCidrs.map(
            (cidr) => `ufw allow from ${shellQuote(cidr)} to any port 443 proto tcp comment ${shellQuote(comment)}`,
        ),
        "ufw deny 443/tcp comment " + shellQuote(comment),
        "",
    ];
    return lines.join("\n");
}

/** firewalld's way: a zone of its own whose sources are exactly the allowed CIDRs. */
export function renderFirewalldScript(input: FirewallInput): string {
    const zone = firewalldZone;
    const lines = [
        "#!/usr/bin/env bash",
        "# Rendered by the mattermost Pulumi program (config/pushProxy.ts): the push host's firewall under firewalld.",
        "set -euo pipefail",
        "# Nothing here applies before the reload at the end; SSH still goes first, so a partial run never drops it.",
        ...input.deployerCidrs.map(
            (cidr) =>
                `firewall-cmd --permanent --add-rich-rule=${shellQuote(`rule family="${isIpv6(cidr) ? "ipv6" : "ipv4"}" source address="${cidr}" port protocol="tcp" port="${input.sshPort}" accept`)}`,
        ),
        `if ! firewall-cmd --permanent --get-zones | tr ' ' '\\n' | grep -qx ${shellQuote(zone)}; then`,
        `    firewall-cmd --permanent --new-zone=${shellQuote(zone)}`,
        "fi",
        "# Changed CIDRs replace the old ones: remove every source of the zone, then add the wanted ones.",
        `for source in $(firewall-cmd --permanent --zone=${shellQuote(zone)} --list-sources); do`,
        `    firewall-cmd --permanent --zone=${shellQuote(zone)} --remove-source="$source"`,
        "done",
        ...input.allowedCidrs.map(
            (cidr) => `firewall-cmd --permanent --zone=${shellQuote(zone)} --add-source=${shellQuote(cidr)}`,
        ),
        `firewall-cmd --permanent --zone=${shellQuote(zone)} --add-port=443/tcp`,
        "firewall-cmd --reload",
        "",
    ];
    return lines.join("\n");
}
