/**
 * What the identity tests share: a rendered stack's secrets given values (the render has placeholders
 * only; one value per placeholder, so everything that shares a secret in the cluster shares it here),
 * Keycloak and PostgreSQL started from the render, the rendered realm-apply Job and deprovisioning
 * CronJob run against them, and the admin API as the tests' own eyes.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeCertificateAuthority } from "../helpers/certificates";
import {
    containerEnvironment,
    findDeployment,
    keycloakContainer,
    prepareKeycloakDatabase,
    startKeycloak,
    type KeycloakServer,
} from "../helpers/keycloakServer";
import { startPostgres, type PostgresServer } from "../helpers/postgresServer";
import { renderedProgram, runProgram, type ProgramRun } from "../helpers/renderedProgram";
import type { Rendered } from "../helpers/render";
import type { ClientSettings, PublicRoute } from "../helpers/ssoLogin";

type Manifest = Record<string, any>;

const placeholderPattern = /<secret:([^>]+)>/g;

/** A value for every placeholder of the render: `chosen` ones as given, the others random. */
export class StackSecrets {
    private readonly values = new Map<string, string>();

    constructor(
        private readonly rendered: Rendered,
        chosen: Readonly<Record<string, string>> = {},
    ) {
        for (const [name, value] of Object.entries(chosen)) {
            this.values.set(name, value);
        }
    }

    /** The text with its placeholders filled in. */
    fill(text: string): string {
        return text.replace(placeholderPattern, (_whole, name: string) => {
            if (!this.values.has(name)) {
                this.values.set(
                    name,
                    `${name.replace(/[^a-z]/gi, "").slice(-8)}-${crypto.randomBytes(12).toString("hex")}`,
                );
            }
            return this.values.get(name)!;
        });
    }

    /** Every key of the named Secrets, by key, filled in. */
    keys(...secretPrefixes: string[]): Record<string, string> {
        const keys: Record<string, string> = {};
        for (const secret of this.rendered.manifests as Manifest[]) {
            const name = String(secret.metadata?.name);
            if (secret.kind !== "Secret" || !secretPrefixes.some((prefix) => name.startsWith(prefix))) {
                continue;
            }
            for (const [key, value] of Object.entries({ ...secret.stringData } as Record<string, string>)) {
                keys[key] = this.fill(value);
            }
        }
        return keys;
    }

    /** A Mattermost setting as the pods get it: from the settings ConfigMap or the secrets Secret. */
    mattermostSetting(name: string, rendered = this.rendered): string {
        for (const manifest of rendered.manifests as Manifest[]) {
            const source =
                manifest.kind === "ConfigMap"
                    ? manifest.data
                    : manifest.kind === "Secret"
                      ? manifest.stringData
                      : undefined;
            const value = String(manifest.metadata?.name).startsWith("mattermost-") ? source?.[name] : undefined;
            if (typeof value === "string") {
                return this.fill(value);
            }
        }
        throw new Error(`the render gives Mattermost no ${name}`);
    }
}

export const identitySecrets = ["keycloak-credentials", "keycloak-realm-secrets", "deprovision-credentials"];

export interface Identity {
    readonly rendered: Rendered;
    readonly secrets: StackSecrets;
    readonly keys: Record<string, string>;
    readonly postgres: PostgresServer;
    readonly keycloak: KeycloakServer;
    readonly route: PublicRoute;
    readonly env: Record<string, string>;
    stop(): Promise<void>;
}

/** The trust bundle the render mounts for Keycloak, at the path KC_TRUSTSTORE_PATHS names. */
function trustFiles(rendered: Rendered, env: Record<string, string>): Record<string, string> {
    const bundlePath = env.KC_TRUSTSTORE_PATHS;
    if (!bundlePath) {
        return {};
    }
    const bundle = (rendered.manifests as Manifest[]).find(
        (manifest) => manifest.kind === "ConfigMap" && String(manifest.metadata?.name).startsWith("trust-bundle"),
    );
    const [file] = Object.keys(bundle?.data ?? {});
    if (!file || !bundlePath.endsWith(file)) {
        throw new Error(
            `KC_TRUSTSTORE_PATHS is ${bundlePath}, and the trust bundle ConfigMap has ${file ?? "no file"}`,
        );
    }
    return { [bundlePath]: realCertificates(bundle!.data[file] as string) };
}

/** The render's `<certificate:NAME>` placeholders (certificates the tls provider makes) as real ones. */
function realCertificates(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "identity-ca-"));
    try {
        return text.replace(/<certificate:([^>]+)>/g, (_whole, name: string) =>
            makeCertificateAuthority(dir, name.replace(/[^a-z0-9-]/gi, "-")).certificate.trim(),
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export async function startIdentity(
    rendered: Rendered,
    secrets: StackSecrets,
    options: { javaOptions?: string[] } = {},
): Promise<Identity> {
    const keys = secrets.keys(...identitySecrets);
    const deployment = findDeployment(rendered.manifests);
    const env = containerEnvironment(keycloakContainer(deployment), keys);
    const postgres = await startPostgres();
    let keycloak: KeycloakServer;
    try {
        prepareKeycloakDatabase(postgres, deployment, keys);
        const files = trustFiles(rendered, env);
        keycloak = await startKeycloak({
            deployment,
            secrets: keys,
            database: { host: "127.0.0.1", port: postgres.port },
            files,
            javaOptions: options.javaOptions,
        });
    } catch (error) {
        // A PostgreSQL left running would keep the test process alive after the failure.
        await postgres.stop();
        throw error;
    }
    return {
        rendered,
        secrets,
        keys,
        postgres,
        keycloak,
        env,
        route: { publicOrigin: new URL(env.KC_HOSTNAME).origin, origin: keycloak.httpUrl },
        async stop() {
            await keycloak.remove();
            await postgres.stop();
        },
    };
}

/** Mattermost's GitLab login settings as the render gives them to the pods. */
export function gitlabClient(identity: Identity): ClientSettings {
    const setting = (name: string) => identity.secrets.mattermostSetting(`MM_GITLABSETTINGS_${name}`);
    return {
        clientId: setting("ID"),
        clientSecret: setting("SECRET"),
        // Mattermost always sends the signup path, for login too (oauth.go).
        redirectUri: `${identity.route.publicOrigin}/signup/gitlab/complete`,
        authorizationEndpoint: setting("AUTHENDPOINT"),
        tokenEndpoint: setting("TOKENENDPOINT"),
        userEndpoint: setting("USERAPIENDPOINT"),
        scope: setting("SCOPE"),
    };
}

/** An in-cluster URL of the render, pointed at the local Keycloak (same path). */
export function local(identity: Identity, clusterUrl: string): string {
    return identity.keycloak.httpUrl + new URL(clusterUrl).pathname;
}

/** The rendered realm-apply Job's program, against the local Keycloak; `realmFile` to apply another text. */
export async function applyRealm(identity: Identity, realmText?: string): Promise<ProgramRun> {
    const program = renderedProgram(identity.rendered, "Job", "keycloak-realm-apply", identity.keys);
    const env: Record<string, string> = { KEYCLOAK_URL: local(identity, program.env.KEYCLOAK_URL) };
    if (realmText !== undefined) {
        fs.writeFileSync(program.env.REALM_FILE, realmText);
    }
    const run = await runProgram(program, env);
    fs.rmSync(program.dir, { recursive: true, force: true });
    return run;
}

/** The summary line of a realm-apply run; fails with its output when the run failed. */
export function applied(run: ProgramRun): string[] {
    const summary = run.lines.find((line) => line.event === "realm-apply-summary");
    if (run.code !== 0 || !summary?.changes) {
        throw new Error(`realm-apply failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
    return summary.changes as string[];
}

/** The tests' own look at Keycloak: the admin API as the permanent admin. */
export class AdminApi {
    constructor(
        private readonly identity: Identity,
        private readonly username = "admin",
        private readonly password = identity.keys.ADMIN_PASSWORD,
    ) {}

    async token(): Promise<string> {
        const response = await this.grant(this.username, this.password);
        if (response.status !== 200) {
            throw new Error(`admin login as ${this.username} answered ${response.status}`);
        }
        return ((await response.json()) as { access_token: string }).access_token;
    }

    grant(username: string, password: string): Promise<Response> {
        return fetch(`${this.identity.keycloak.httpUrl}/auth/realms/master/protocol/openid-connect/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
                grant_type: "password",
                client_id: "admin-cli",
                username,
                password,
            }).toString(),
        });
    }

    async call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
        const response = await fetch(`${this.identity.keycloak.httpUrl}/auth/admin/realms${path}`, {
            method,
            headers: {
                authorization: `Bearer ${token ?? (await this.token())}`,
                ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
    }

    async get(path: string): Promise<any> {
        const { status, json } = await this.call("GET", path);
        if (status !== 200) {
            throw new Error(`GET ${path} answered ${status}`);
        }
        return json;
    }

    async client(clientId: string): Promise<any> {
        const [client] = (await this.get(`/mattermost/clients?clientId=${clientId}`)) as any[];
        return client;
    }

    async user(username: string): Promise<any> {
        const [user] = (await this.get(
            `/mattermost/users?exact=true&briefRepresentation=false&username=${encodeURIComponent(username)}`,
        )) as any[];
        return user;
    }
}
