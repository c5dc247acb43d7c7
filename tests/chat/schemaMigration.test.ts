/**
 * The schema migration Job of the render, run as the cluster runs it before the pair rolls: the real
 * server's `mattermost db migrate` on the test stack's database. The chat fixture runs it on the empty
 * database before any server starts (as the Deployments wait for the Job); this file shows what that
 * left: the whole schema, a server that starts on it, and a second run (a new Job after a change of the
 * image) that finds nothing to do.
 */
import * as fs from "node:fs";
import { renderStack, type Rendered } from "../helpers/render";
import { runSchemaMigration } from "../helpers/mattermostServer";
import { local, startChat, type Chat } from "./fixture";

describe("the schema migration Job", () => {
    let rendered: Rendered;
    let chat: Chat;

    beforeAll(async () => {
        rendered = renderStack("test");
        chat = await startChat(rendered);
    });
    afterAll(async () => {
        await chat?.stop();
        if (rendered) {
            fs.rmSync(rendered.dir, { recursive: true, force: true });
        }
    });

    it("migrated the empty database to the whole schema, on which the server started", async () => {
        const database = chat.primary.env.MM_CONFIG;
        const name = new URL(database).pathname.slice(1);
        const applied = Number(chat.postgres.sql("SELECT count(*) FROM db_migrations", name));
        expect(applied).toBeGreaterThan(100);
        expect(
            chat.postgres.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'posts'", name),
        ).toBe("1");
        const status = await local(chat.primary, "GET", "/system/ping?get_server_status=true");
        expect(status.database_status).toBe("OK");
    });

    it("finds nothing to do when it runs again on a migrated database", () => {
        const again = runSchemaMigration(rendered, chat.secrets, { host: "127.0.0.1", port: chat.postgres.port });
        expect({ status: again.status, output: again.output }).toEqual({
            status: 0,
            output: expect.stringContaining("No migrations to apply."),
        });
    });
});
