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
function queryString(parameters: Readonly<Record<string, string>>): string {
    return Object.entries(parameters)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
        .join("&");
}

export function postgresUrl(connection: PostgresConnection): string {
    const query = queryString(connection.parameters);
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

/**
 * The JDBC URL Keycloak's PostgreSQL driver reads; credentials travel separately (KC_DB_USERNAME and
 * KC_DB_PASSWORD). With certificate checks on, pgjdbc uses the JVM's default trust store, which
 * Keycloak fills from KC_TRUSTSTORE_PATHS (the trust bundle) next to the JDK's public roots.
 */
export function jdbcPostgresUrl(connection: Omit<PostgresConnection, "user" | "password">): string {
    const verifies = ["verify-ca", "verify-full"].includes(connection.parameters.sslmode ?? "");
    const parameters: Record<string, string> = {
        ...connection.parameters,
        ...(verifies ? { sslfactory: "org.postgresql.ssl.DefaultJavaSSLFactory" } : {}),
    };
    const query = queryString(parameters);
    return `jdbc:postgresql://${connection.host}:${connection.port}/${encodeURIComponent(connection.database)}${query ? `?${query}` : ""}`;
}
