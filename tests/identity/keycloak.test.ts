/**
 * The real Keycloak of the pinned image, started from the rendered test stack's Deployment on a real
 * PostgreSQL (tests/helpers/keycloakServer.ts): its probes, its separate management port, its schema in
 * the rendered database, its issuer behind nginx's headers, and the bootstrap admin's login.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { keycloakDistDir } from "../../scripts/toolchain/keycloak";
import { makeCertificateAuthority } from "../helpers/certificates";
import {
    containerEnvironment,
    findDeployment,
    keycloakContainer,
    prepareKeycloakDatabase,
    startKeycloak,
    type Container,
    type KeycloakServer,
} from "../helpers/keycloakServer";
import { request, type HttpResult } from "../helpers/nginxHarness";
import { sqlLiteral, startPostgres, type PostgresServer } from "../helpers/postgresServer";
import { renderStack, type Rendered } from "../helpers/render";
import { renderedProgram, runProgram } from "../helpers/renderedProgram";

/** The values the test gives the container's secretKeyRef entries (the render has placeholders only). */
const secrets = {
    KC_DB_PASSWORD: "db p@ss:w/rd?#% 'x'",
    KC_BOOTSTRAP_ADMIN_PASSWORD: `admin-${crypto.randomBytes(9).toString("base64url")}`,
};

let rendered: Rendered;
let container: Container;
let renderedEnv: Record<string, string>;
let postgres: PostgresServer | undefined;
let keycloak: KeycloakServer | undefined;
let database: { database: string; user: string };
let workDir: string;
let cachedQuarkusBefore: string;
let copyQuarkusAfterFirstStart: string;
const timings: Record<string, number> = {};

/** A hash of every file under a directory (names and contents). */
function treeHash(dir: string): string {
    const hash = crypto.createHash("sha256");
    const files = fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.join(entry.parentPath, entry.name))
        .sort();
    for (const file of files) {
        hash.update(path.relative(dir, file)).update(fs.readFileSync(file));
    }
    return hash.digest("hex");
}

function server(): KeycloakServer {
    if (!keycloak) {
        throw new Error("Keycloak did not start");
    }
    return keycloak;
}

/** The public host name Keycloak is served on (KC_HOSTNAME is its full frontend URL). */
function publicHost(): string {
    return new URL(renderedEnv.KC_HOSTNAME ?? "").host;
}

/**
 * The headers the rendered nginx.conf sets in its `location ^~ /auth/realms/` block, with nginx's
 * variables as they are for a browser reaching https://<public host>/auth/realms/... from 127.0.0.1
 * through an edge that terminated TLS (and set X-Forwarded-Proto: https). An unknown variable fails.
 */
function nginxRealmHeaders(): Record<string, string> {
    const conf = rendered.file("files/nginx/nginx.conf");
    const block = /location \^~ \/auth\/realms\/ \{([^}]*)\}/.exec(conf)?.[1];
    if (!block) {
        throw new Error("the rendered nginx.conf has no `location ^~ /auth/realms/` block");
    }
    const variables: Record<string, string> = {
        $host: publicHost(),
        $remote_addr: "127.0.0.1",
        $proxy_add_x_forwarded_for: "127.0.0.1",
        $forwarded_proto: "https",
        $forwarded_port: "443",
    };
    const headers: Record<string, string> = {};
    for (const [, name, value] of block.matchAll(/proxy_set_header\s+(\S+)\s+(.*?);/g)) {
        if (!name || value === undefined) {
            continue;
        }
        const unquoted = value.replace(/^"(.*)"$/, "$1");
        headers[name] = unquoted.replace(/\$[a-z_]+/g, (variable) => {
            const known = variables[variable];
            if (known === undefined) {
                throw new Error(`nginx variable ${variable} in the /auth/realms/ headers has no value in this test`);
            }
            return known;
        });
    }
    return headers;
}

function get(port: number, requestPath: string, headers: Record<string, string> = {}): Promise<HttpResult> {
    return request(port, { path: requestPath, headers, timeout: 30000 });
}

function passwordGrant(): Promise<HttpResult> {
    const body = new URLSearchParams({
        grant_type: "password",
        client_id: "admin-cli",
        username: renderedEnv.KC_BOOTSTRAP_ADMIN_USERNAME ?? "",
        password: secrets.KC_BOOTSTRAP_ADMIN_PASSWORD,
    }).toString();
    return request(server().httpPort, {
        method: "POST",
        path: `${renderedEnv.KC_HTTP_RELATIVE_PATH}/realms/master/protocol/openid-connect/token`,
        headers: {
            ...nginxRealmHeaders(),
            "content-type": "application/x-www-form-urlencoded",
            "content-length": String(Buffer.byteLength(body)),
        },
        body,
        timeout: 30000,
    });
}

function jwtPayload(token: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

function probePaths(): string[] {
    return [container.startupProbe, container.livenessProbe, container.readinessProbe]
        .map((probe) => probe?.httpGet?.path)
        .filter((probePath): probePath is string => Boolean(probePath));
}

beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "keycloak-test-"));
    rendered = renderStack("test");
    const deployment = findDeployment(rendered.manifests);
    container = keycloakContainer(deployment);
    renderedEnv = containerEnvironment(container, secrets);
    postgres = await startPostgres();
    database = prepareKeycloakDatabase(postgres, deployment, secrets);
    const ca = makeCertificateAuthority(workDir, "test-company-ca");
    const truststore = renderedEnv.KC_TRUSTSTORE_PATHS;
    cachedQuarkusBefore = treeHash(path.join(keycloakDistDir(), "lib", "quarkus"));
    keycloak = await startKeycloak({
        deployment,
        secrets,
        database: { host: "127.0.0.1", port: postgres.port },
        files: truststore ? { [truststore]: ca.certificate } : {},
    });
    timings.copyMs = keycloak.copyMs;
    timings.firstStartMs = keycloak.startMs;
    copyQuarkusAfterFirstStart = treeHash(path.join(keycloak.home, "lib", "quarkus"));
}, 900000);

afterAll(async () => {
    if (keycloak) {
        console.log(
            `Keycloak timings: ${JSON.stringify(timings)}\nKeycloak warnings:\n${keycloak.warnings().join("\n")}`,
        );
        if (process.env.KEYCLOAK_TEST_KEEP) {
            await keycloak.stop();
            console.log(`Keycloak's directory kept (KEYCLOAK_TEST_KEEP): ${path.dirname(keycloak.logPath)}`);
        } else {
            await keycloak.remove();
        }
    }
    await postgres?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
    if (rendered) {
        fs.rmSync(rendered.dir, { recursive: true, force: true });
    }
}, 120000);

describe("Keycloak started from the rendered Deployment", () => {
    it("runs the container's args, with the ports the Deployment names", () => {
        expect(server().args).toEqual(container.args);
        expect(probePaths().length).toBeGreaterThanOrEqual(3);
    });

    it("answers the Deployment's probes (started, live, ready) on the management port", async () => {
        for (const probePath of probePaths()) {
            const result = await get(server().managementPort, probePath);
            expect({ probePath, status: result.status }).toEqual({ probePath, status: 200 });
            expect(JSON.parse(result.body)).toMatchObject({ status: "UP" });
        }
    });

    it("does not serve health on the main HTTP port: management is separate", async () => {
        const relative = renderedEnv.KC_HTTP_RELATIVE_PATH ?? "";
        for (const probePath of [`${relative}/health`, ...probePaths()]) {
            const result = await get(server().httpPort, probePath);
            expect({ probePath, status: result.status }).toEqual({ probePath, status: 404 });
        }
    });

    it("created its schema in the rendered database, owned by the rendered user", () => {
        const db = postgres as PostgresServer;
        expect(database.database).toBe("keycloak");
        expect(
            db.sql(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'realm'",
                database.database,
            ),
        ).toBe(database.user);
        expect(db.sql("SELECT name FROM realm", database.database).split("\n")).toContain("master");
        expect(Number(db.sql("SELECT count(*) FROM databasechangelog", database.database))).toBeGreaterThan(0);
        expect(db.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'realm'")).toBe("0");
    });

    it("gives the rendered KC_HOSTNAME as the master realm's issuer behind nginx's headers", async () => {
        const headers = nginxRealmHeaders();
        expect(headers["X-Forwarded-Proto"]).toBe("https");
        const relative = renderedEnv.KC_HTTP_RELATIVE_PATH ?? "";
        const result = await get(
            server().httpPort,
            `${relative}/realms/master/.well-known/openid-configuration`,
            headers,
        );
        expect(result.status).toBe(200);
        const discovery = JSON.parse(result.body) as Record<string, string>;
        expect(discovery.issuer).toBe(`${renderedEnv.KC_HOSTNAME}/realms/master`);
        expect(discovery.token_endpoint).toBe(`${renderedEnv.KC_HOSTNAME}/realms/master/protocol/openid-connect/token`);
    });

    it("lets the bootstrap admin sign in to master with a password grant on admin-cli", async () => {
        const result = await passwordGrant();
        expect(result.status).toBe(200);
        const token = (JSON.parse(result.body) as { access_token: string }).access_token;
        const claims = jwtPayload(token);
        expect(claims.iss).toBe(`${renderedEnv.KC_HOSTNAME}/realms/master`);
        expect(claims.azp).toBe("admin-cli");
        // admin-cli's access tokens are lightweight (no sub, no preferred_username); what the token is
        // worth is what the admin API lets it do: find the bootstrap admin, the user PostgreSQL has.
        const username = renderedEnv.KC_BOOTSTRAP_ADMIN_USERNAME ?? "";
        const userId = (postgres as PostgresServer).sql(
            `SELECT u.id FROM user_entity u JOIN realm r ON r.id = u.realm_id WHERE r.name = 'master' AND u.username = ${sqlLiteral(username)}`,
            database.database,
        );
        const users = await get(
            server().httpPort,
            `${renderedEnv.KC_HTTP_RELATIVE_PATH}/admin/realms/master/users?exact=true&username=${encodeURIComponent(username)}`,
            { authorization: `Bearer ${token}` },
        );
        expect(users.status).toBe(200);
        expect((JSON.parse(users.body) as { id: string; username: string }[]).map((user) => user.id)).toEqual([userId]);
    });

    it("refuses a wrong bootstrap admin password", async () => {
        const body = new URLSearchParams({
            grant_type: "password",
            client_id: "admin-cli",
            username: renderedEnv.KC_BOOTSTRAP_ADMIN_USERNAME ?? "",
            password: `${secrets.KC_BOOTSTRAP_ADMIN_PASSWORD}-wrong`,
        }).toString();
        const result = await request(server().httpPort, {
            method: "POST",
            path: `${renderedEnv.KC_HTTP_RELATIVE_PATH}/realms/master/protocol/openid-connect/token`,
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body,
            timeout: 30000,
        });
        expect(result.status).toBe(401);
    });

    it("re-augmented its private copy only: the cached distribution is as unpacked", () => {
        expect(copyQuarkusAfterFirstStart).not.toBe(cachedQuarkusBefore);
        expect(treeHash(path.join(keycloakDistDir(), "lib", "quarkus"))).toBe(cachedQuarkusBefore);
    });

    it("starts again on the same copy and database without re-augmenting, the admin still signing in", async () => {
        await server().restart();
        timings.secondStartMs = server().startMs;
        expect(treeHash(path.join(server().home, "lib", "quarkus"))).toBe(copyQuarkusAfterFirstStart);
        const result = await passwordGrant();
        expect(result.status).toBe(200);
    }, 600000);
});

describe("a stack made before the permanent admin", () => {
    it("gets its permanent admin from the realm-apply Job, whose bootstrap admin has the admin's password", async () => {
        // Such stacks gave the bootstrap admin the password that is now the permanent admin's; their
        // Secret's new KC_BOOTSTRAP_ADMIN_PASSWORD never reached Keycloak, which made its admin once.
        const keys = {
            ADMIN_PASSWORD: secrets.KC_BOOTSTRAP_ADMIN_PASSWORD,
            KC_BOOTSTRAP_ADMIN_PASSWORD: "generated-after-the-upgrade",
            MATTERMOST_CLIENT_SECRET: "client-secret",
            DEPROVISION_CLIENT_SECRET: "deprovision-secret",
            TEST_USER_PASSWORD: "test-user-password",
        };
        const program = renderedProgram(rendered, "Job", "keycloak-realm-apply", keys);
        const run = await runProgram(program, {
            KEYCLOAK_URL: server().httpUrl + new URL(program.env.KEYCLOAK_URL ?? "").pathname,
        });
        fs.rmSync(program.dir, { recursive: true, force: true });
        expect(run.lines.at(-1)).toMatchObject({ event: "realm-apply-summary" });
        expect(run.lines.at(-1)?.changes).toContain("permanent admin admin in place of bootstrap-admin");
    });
});
