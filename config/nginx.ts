/**
 * Renders nginx.conf for the failover front of the Mattermost pair (DESIGN decision 4). Pure: plain
 * typed input, text out. Every number here has its reason next to it, because each one was chosen
 * against a failure mode of the original design.
 */

export interface NginxConfInput {
    /**
     * One per CPU of the container's limit, rounded up: `auto` would count the node's CPUs, and workers
     * beyond the limit only take turns on it.
     */
    readonly workerProcesses: number;
    /** Port the Service sends traffic to; unprivileged, since the image runs as non-root. */
    readonly listenPort: number;
    /** Port of the nginx liveness/readiness endpoint, kept off the public port. */
    readonly healthPort: number;
    /**
     * The file holding the servers of the Mattermost upstream (the primary, and the backup as `backup`),
     * written by the failover guard beside nginx, which takes the primary out and puts it back.
     */
    readonly upstreamFile: string;
    /** Base URL of the in-cluster Keycloak Service, e.g. http://keycloak.chat.svc.cluster.local:8080. */
    readonly keycloakUrl: string;
    /** DNS server nginx asks for Keycloak's address at request time. */
    readonly dnsResolver: string;
    /** Largest request body in bytes: Mattermost's FileSettings.MaxFileSize. */
    readonly maxBodyBytes: number;
    /** Writable directory for the pid file and temporary bodies (an emptyDir in the pod). */
    readonly runtimeDir: string;
    /** When logs are shipped: UDP syslog addresses of the Filebeat sidecar, for access and error logs. */
    readonly syslog?: { readonly access: string; readonly error: string };
}

/**
 * How long nginx waits for a quick read's answer (see $quick_read) before passing it to the backup: well
 * above what Mattermost takes for one, and short enough that the backup's answer comes within 3 s of a
 * hang. The same as proxy_connect_timeout, so an unreachable primary costs a request no more either.
 */
export const quickReadTimeout = "2s";

/** Room for multipart framing, so a file of exactly MaxFileSize still uploads. */
export const multipartOverheadBytes = 1024 * 1024;

/**
 * The headers every location sends upstream. nginx inherits proxy_set_header from the server block only
 * into locations that set none of their own, so each location carries the whole list.
 */
function proxyHeaders(connection: string): string {
    return [
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $forwarded_proto;",
        "proxy_set_header X-Forwarded-Host $host;",
        "proxy_set_header X-Forwarded-Port $forwarded_port;",
        // "" keeps upstream connections alive for reuse; "upgrade" hands a websocket over.
        `proxy_set_header Connection ${connection};`,
    ]
        .map((line) => `            ${line}`)
        .join("\n");
}

/** JSON access lines and the error log, to the Filebeat sidecar, next to the console. */
function syslogLines(input: NginxConfInput): string {
    if (!input.syslog) {
        return "";
    }
    return `
    log_format shipped escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr",'
                                   '"forwarded_for":"$http_x_forwarded_for","request":"$request",'
                                   '"status":$status,"bytes_sent":$body_bytes_sent,"request_time":$request_time,'
                                   '"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status",'
                                   '"upstream_response_time":"$upstream_response_time","user_agent":"$http_user_agent"}';
    access_log syslog:server=${input.syslog.access},tag=nginx,nohostname shipped;
    error_log syslog:server=${input.syslog.error},tag=nginx,nohostname warn;`;
}

export function renderNginxConf(input: NginxConfInput): string {
    const run = input.runtimeDir.replace(/\/+$/, "");
    const bodyLimit = input.maxBodyBytes + multipartOverheadBytes;
    return `# Rendered by the mattermost Pulumi program (config/nginx.ts). Change the renderer, not this file.
worker_processes ${input.workerProcesses};
pid ${run}/nginx.pid;
error_log /dev/stderr warn;
daemon off;
# At a reload (the failover guard's), old workers get this long to finish, then close what they hold:
# requests and websockets stuck on a hung primary, and websockets left on the backup after failback.
worker_shutdown_timeout 5s;

events {
    worker_connections 4096;
}

http {
    default_type application/octet-stream;
    server_tokens off;
    client_body_temp_path ${run}/client_body;
    proxy_temp_path ${run}/proxy;
    fastcgi_temp_path ${run}/fastcgi;
    uwsgi_temp_path ${run}/uwsgi;
    scgi_temp_path ${run}/scgi;

    log_format upstreamlog '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                           'upstream=$upstream_addr upstream_status=$upstream_status '
                           'request_time=$request_time upstream_time=$upstream_response_time';
    access_log /dev/stdout upstreamlog;${syslogLines(input)}

    # The edge (Route or Ingress) terminates TLS and sets X-Forwarded-Proto; keep it, or fall back to ours.
    map $http_x_forwarded_proto $forwarded_proto {
        default $http_x_forwarded_proto;
        "" $scheme;
    }
    map $forwarded_proto $forwarded_port {
        https 443;
        default 80;
    }

    # Requests nginx may give up on quickly and pass to the backup (location @quick_read): GET and HEAD of
    # the API and the web app's static files, which Mattermost answers in milliseconds. A hung or
    # unreachable primary then costs such a request ${quickReadTimeout} instead of the time until the failover
    # guard's reload cuts it (about 8 s, lost). Left on the server's own timeouts: every other method (nginx
    # never replays one that reached the primary, so a quick timeout would only fail it), and the GETs
    # that legitimately think for longer before their first byte: the system console's statistics,
    # the support packet, the ping that tests the database and file store, downloads of exports, jobs and
    # compliance reports, the image proxy, the link redirects, the marketplace and the version check
    # (remote servers), the server's log, and files (downloads stream from S3 and may pause between two
    # reads). Matched on the path as Mattermost reads it ($uri: decoded, slashes merged, dot segments
    # resolved, so no spelling of a slow path passes for a quick one), then the query as sent; the
    # regular expressions are tried in order.
    map "$request_method $uri $args" $quick_read {
        default 0;
        "~^(GET|HEAD) /api/v4/(analytics/|system/support_packet|exports/|jobs/[^/ ]+/download|compliance/reports/[^/ ]+/download|image[/ ]|redirect_location|plugins/marketplace|latest_version|logs|files/)" 0;
        "~^(GET|HEAD) /api/v4/system/ping (.*&)?get_server_status=" 0;
        "~^(GET|HEAD) /(api/v4|static)/" 1;
    }

    # Keycloak is looked up per request, so nginx starts (and keeps serving chat) while Keycloak is absent.
    resolver ${input.dnsResolver} valid=30s ipv6=off;
    resolver_timeout 5s;

    upstream mattermost {
        # The primary (one failure keeps it out for 10 s) and the backup as "backup": Team Edition has no
        # clustering, so the backup only serves while the primary is out. Or the backup alone, while the
        # failover guard holds a hung primary out. A failure is what proxy_next_upstream names: a refused
        # connection, a 502-504, or no answer within the timeouts. The backup is never counted out.
        include ${input.upstreamFile};
        # The servers' failures shared by all workers: each would otherwise find a hung primary by itself.
        zone mattermost 64k;
        keepalive 32;
    }

    upstream mattermost_quick {
        # The same servers for the quick reads (location @quick_read), with their failures counted apart:
        # the first that times out on a hung primary sends every later quick read straight to the backup,
        # before the guard has decided anything; but a busy, healthy primary that answers one late moves
        # only quick reads there for those 10 s, never a write or a websocket.
        include ${input.upstreamFile};
        zone mattermost_quick 64k;
        keepalive 32;
    }

    upstream mattermost_websocket {
        # The same servers, with failures counted apart from the requests': a websocket opened on the
        # backup while the primary is healthy would stay there, apart from everyone else's, and the guard
        # (which sees a healthy primary) would never move it back. Websockets leave the primary only when
        # it refuses them or the guard takes it out.
        include ${input.upstreamFile};
        zone mattermost_websocket 64k;
    }

    server {
        listen ${input.listenPort};
        server_name _;

        # One limit with Mattermost's FileSettings.MaxFileSize (${input.maxBodyBytes} bytes) plus multipart framing.
        client_max_body_size ${bodyLimit};

        proxy_http_version 1.1;
        proxy_buffers 256 16k;
        proxy_buffer_size 16k;

        # Inside the cluster a healthy pod accepts within milliseconds; waiting longer only delays failover.
        proxy_connect_timeout 2s;
        # Retry on the backup only where it is safe: nginx never passes a request that already reached an
        # upstream to the next one unless it is idempotent (no non_idempotent here), so a POST is never replayed.
        proxy_next_upstream error timeout http_502 http_503 http_504;
        proxy_next_upstream_tries 2;

        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy strict-origin-when-cross-origin always;
        add_header Strict-Transport-Security "max-age=63072000" always;

        location ~ /api/v[0-9]+/(users/)?websocket$ {
${proxyHeaders('"upgrade"')}
            proxy_set_header Upgrade $http_upgrade;
            # Mattermost pings every 60 s; a shorter idle timeout would cut healthy sockets.
            proxy_read_timeout 90s;
            proxy_send_timeout 300s;
            proxy_pass http://mattermost_websocket;
        }

        # Keycloak, as in the original system, on the chat host under /auth/. Only what browsers and
        # Mattermost need is public: realms (login, tokens, userinfo) and static resources. The admin
        # console and the master realm are reached by port-forward, never from outside.
        location ^~ /auth/realms/master/ {
            return 404;
        }
        location ^~ /auth/realms/ {
            set $keycloak ${input.keycloakUrl};
${proxyHeaders('""')}
            # Keycloak's login responses carry large cookies.
            proxy_buffer_size 128k;
            proxy_buffers 8 128k;
            proxy_pass $keycloak;
        }
        location ^~ /auth/resources/ {
            set $keycloak ${input.keycloakUrl};
${proxyHeaders('""')}
            proxy_pass $keycloak;
        }
        location ^~ /auth/ {
            return 404;
        }

        location / {
            # $quick_read's requests go to @quick_read (418 is never sent: it only names the way there).
            error_page 418 = @quick_read;
            if ($quick_read) {
                return 418;
            }
${proxyHeaders('""')}
            # Mattermost's own ReadTimeout/WriteTimeout are 300 s; nginx waits no longer than the server would.
            proxy_read_timeout 300s;
            proxy_send_timeout 300s;
            proxy_pass http://mattermost;
        }

        # A quick read waits ${quickReadTimeout} for its answer (and between two reads), then nginx passes it to
        # the backup (proxy_next_upstream timeout) and the primary counts as failed for the quick reads. Mattermost answers these in milliseconds; a wait of
        # ${quickReadTimeout} means the server is not answering, and the user gets the backup's answer within
        # about ${quickReadTimeout} of the fault rather than an error some 8 s later.
        location @quick_read {
${proxyHeaders('""')}
            proxy_read_timeout ${quickReadTimeout};
            proxy_send_timeout 300s;
            proxy_pass http://mattermost_quick;
        }
    }

    server {
        listen ${input.healthPort};
        access_log off;
        location = /healthz {
            return 200 "ok\\n";
        }
        location / {
            return 404;
        }
    }
}
`;
}
