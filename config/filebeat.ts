/**
 * Log shipping to ELK (DESIGN decision 8): where each container writes the logs a Filebeat sidecar
 * reads, and the sidecar's filebeat.yml. Pure: the renderer turns typed settings into text.
 */
import * as yaml from "yaml";
import type { LogShippingSettings } from "./validate";

/** Mattermost writes its shipped log here (an emptyDir both containers mount). */
export const mattermostLogDirectory = "/mattermost/logs";
export const mattermostLogFile = `${mattermostLogDirectory}/mattermost.log`;

/** nginx sends its access and error logs as syslog over UDP to the sidecar, on the pod's loopback. */
export const nginxSyslog = { access: "127.0.0.1:5140", error: "127.0.0.1:5141" } as const;
/** Keycloak sends its JSON log the same way. */
export const keycloakSyslog = "127.0.0.1:5142";
/**
 * The largest syslog message a sender sends and the sidecar takes whole. A Keycloak event with its stack
 * trace runs past Keycloak's default 2048 bytes and Filebeat's default 10 KiB, and JSON cut short is no
 * longer JSON. Below 65,507 bytes, the most one UDP datagram over IPv4 carries.
 */
export const syslogMaxMessageBytes = 65000;

/** Filebeat's registry, so a restarted sidecar does not ship everything again. */
export const filebeatDataDirectory = "/usr/share/filebeat/data";
export const filebeatConfigDirectory = "/etc/filebeat";
export const filebeatConfigFile = `${filebeatConfigDirectory}/filebeat.yml`;

/**
 * Mattermost's logger target for the shipped file (LogSettings.AdvancedLoggingJSON): JSON lines,
 * info and above, rotated at 50 MB with three old files kept, so the emptyDir stays small.
 */
export function mattermostFileTarget(): Record<string, unknown> {
    return {
        "shipped-file": {
            type: "file",
            format: "json",
            levels: [
                { id: 4, name: "info" },
                { id: 3, name: "warn" },
                { id: 2, name: "error", stacktrace: true },
                { id: 1, name: "fatal", stacktrace: true },
                { id: 0, name: "panic", stacktrace: true },
            ],
            options: { filename: mattermostLogFile, max_size: 50, max_backups: 3, max_age: 2, compress: false },
            maxqueuesize: 1000,
        },
    };
}

export type LogSource =
    /** JSON lines in files. */
    | { readonly kind: "ndjsonFiles"; readonly id: string; readonly paths: readonly string[] }
    /** RFC 3164 syslog over UDP whose message is a JSON document (or text, for error logs). */
    | { readonly kind: "syslogUdp"; readonly id: string; readonly address: string; readonly json: boolean };

export interface FilebeatConfigInput {
    /** The stack (test, prod): which environment a line came from. */
    readonly environment: string;
    /** Which part of the system: mattermost, nginx, keycloak. */
    readonly component: string;
    readonly shipping: LogShippingSettings;
    readonly sources: readonly LogSource[];
}

function input(source: LogSource): Record<string, unknown> {
    if (source.kind === "ndjsonFiles") {
        return {
            type: "filestream",
            id: source.id,
            paths: [...source.paths],
            parsers: [{ ndjson: { target: "app", add_error_key: true, overwrite_keys: false } }],
        };
    }
    return {
        type: "udp",
        id: source.id,
        host: source.address,
        max_message_size: `${syslogMaxMessageBytes}B`,
        processors: [
            { syslog: { field: "message" } },
            ...(source.json
                ? [{ decode_json_fields: { fields: ["message"], target: "app", add_error_key: true } }]
                : []),
        ],
    };
}

/** filebeat.yml of one sidecar. Credentials come from the environment, never from this file. */
export function renderFilebeatConfig(config: FilebeatConfigInput): string {
    const output =
        config.shipping.output === "elasticsearch"
            ? {
                  "output.elasticsearch": {
                      hosts: [`https://${config.shipping.endpoint}`],
                      ...(config.shipping.username ? { username: "${ELK_USERNAME}", password: "${ELK_PASSWORD}" } : {}),
                      "ssl.verification_mode": "full",
                  },
              }
            : {
                  "output.logstash": {
                      hosts: [config.shipping.endpoint],
                      "ssl.enabled": true,
                      "ssl.verification_mode": "full",
                  },
              };
    const document = {
        "filebeat.inputs": config.sources.map(input),
        processors: [
            {
                add_fields: {
                    target: "mattermost_platform",
                    fields: {
                        environment: config.environment,
                        component: config.component,
                        pod: "${POD_NAME}",
                        namespace: "${POD_NAMESPACE}",
                        node: "${NODE_NAME}",
                    },
                },
            },
        ],
        ...output,
        "path.data": filebeatDataDirectory,
        "logging.to_stderr": true,
        "logging.level": "warning",
        // No HTTP endpoint: nothing in the pod needs Filebeat's stats.
        "http.enabled": false,
    };
    return `# Rendered by the mattermost Pulumi program (config/filebeat.ts). Change the renderer, not this file.\n${yaml.stringify(document, { lineWidth: 0 })}`;
}
