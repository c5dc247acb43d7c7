/** Connection strings, built in one place so that every consumer escapes them the same way. */
import type { ExternalDatabase } from "./validate";

export interface PostgresConnection {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
    readonly password: string;
    /** libpq parameters such as sslmode and connect_timeout. */
    readonly parameters: Readonly<Record<string, string>>;
}

/** A `postgres://` URL as Mattermost (lib/pq) reads it, with user, password and database percent-encoded. */
export function postgresUrl(connection: PostgresConnection): string {
    const query = Object.entries(connection.parameters)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
        .join("&");
    const credentials = `${encodeURIComponent(connection.user)}:${encodeURIComponent(connection.password)}`;
    const address = `${connection.host}:${connection.port}`;
    return `postgres://${credentials}@${address}/${encodeURIComponent(connection.database)}${query ? `?${query}` : ""}`;
}

/** The URL of the company database, verified as `sslMode` says. */
export function externalDatabaseUrl(database: ExternalDatabase, password: string): string {
    return postgresUrl({
        host: database.host,
        port: database.port,
        database: database.name,
        user: database.user,
        password,
        parameters: { sslmode: database.sslMode, connect_timeout: String(database.connectTimeout) },
    });
}
