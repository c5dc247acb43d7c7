/**
 * The connection strings the program builds, used by lib/pq (Mattermost's driver, from Debian's Go
 * packages) against a real PostgreSQL on loopback, with passwords full of URL-special characters.
 */
import { externalDatabaseUrl, postgresUrl } from "../../config/database";
import { buildGoProbe, runProbe } from "../helpers/goProbes";
import { sqlLiteral, startPostgres, type PostgresServer } from "../helpers/postgresServer";

let server: PostgresServer;
let dbping: string;

beforeAll(async () => {
    dbping = buildGoProbe("dbping");
    server = await startPostgres();
    server.sql("CREATE DATABASE mattermost");
}, 120000);

afterAll(() => server?.stop());

function connect(url: string) {
    return runProbe(dbping, [], { PATH: process.env.PATH, DATABASE_URL: url });
}

describe.each([
    ["mattermost", "p@ss:w/rd?#% x"],
    ["mm_user", "100%&=+;'\"\\ ünïcode"],
    ["chat", "%41%zz@@//??##"],
])("user %s with password %j", (user, password) => {
    beforeAll(() => {
        server.sql(`CREATE ROLE ${user} LOGIN PASSWORD ${sqlLiteral(password)}`);
        server.sql(`GRANT ALL ON DATABASE mattermost TO ${user}`);
    });

    it("connects with the URL the program builds", async () => {
        const url = postgresUrl({
            host: "127.0.0.1",
            port: server.port,
            database: "mattermost",
            user,
            password,
            parameters: { sslmode: "disable", connect_timeout: "10" },
        });
        expect(await connect(url)).toEqual({ status: 0, output: `connected as ${user}` });
    });

    it("is refused with a wrong password, so the check above means something", async () => {
        const url = postgresUrl({
            host: "127.0.0.1",
            port: server.port,
            database: "mattermost",
            user,
            password: `${password}-wrong`,
            parameters: { sslmode: "disable" },
        });
        const result = await connect(url);
        expect(result.status).toBe(1);
        expect(result.output).toContain("password authentication failed");
    });
});

it("fails when the password is pasted into the URL without escaping", async () => {
    const password = "p@ss:w/rd?#% x";
    const naive = `postgres://mattermost:${password}@127.0.0.1:${server.port}/mattermost?sslmode=disable`;
    expect((await connect(naive)).status).not.toBe(0);
});

it("builds the external database URL with the configured sslmode and timeout", async () => {
    const url = externalDatabaseUrl(
        {
            mode: "external",
            host: "127.0.0.1",
            port: server.port,
            name: "mattermost",
            user: "mattermost",
            sslMode: "disable",
            connectTimeout: 5,
        },
        "p@ss:w/rd?#% x",
    );
    expect(await connect(url)).toEqual({ status: 0, output: "connected as mattermost" });
});
