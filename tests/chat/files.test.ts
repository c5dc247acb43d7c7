/**
 * Files on S3 for real: the real Mattermost stores a person's upload in the real SeaweedFS started with
 * the rendered flags, over TLS that it verifies through the rendered trust bundle (SSL_CERT_DIR names the
 * bundle's directory beside the system's), and cannot reach the store without that bundle.
 */
import { renderStack, type Rendered } from "../helpers/render";
import { filerFiles } from "../helpers/seaweedServer";
import { adminBot, Api, createPerson, local, passwordLogin, startChat, teamWithChannel, type Chat } from "./fixture";

describe("files on the real S3 store", () => {
    let rendered: Rendered;
    let chat: Chat;
    let admin: Api;

    beforeAll(async () => {
        rendered = renderStack("test");
        chat = await startChat(rendered);
        admin = new Api(chat.primary, (await adminBot(chat.primary)).token);
    });
    afterAll(async () => {
        await chat?.stop();
    });

    it("uploads a person's file into the bucket and serves it back", async () => {
        const { teamId, channelId } = await teamWithChannel(chat.primary, "design", "uploads");
        const alice = await createPerson(chat.primary, "alice-files");
        await local(chat.primary, "POST", `/teams/${teamId}/members`, { team_id: teamId, user_id: alice.id });
        await local(chat.primary, "POST", `/channels/${channelId}/members`, { user_id: alice.id });
        const token = await passwordLogin(chat.primary, alice.username, alice.password);

        const content = `report ${Date.now()}\n`;
        const form = new FormData();
        form.append("channel_id", channelId);
        form.append("files", new Blob([content], { type: "text/plain" }), "report.txt");
        const upload = await fetch(`${chat.primary.url}/api/v4/files`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}` },
            body: form,
        });
        expect(upload.status).toBe(201);
        const fileId = ((await upload.json()) as { file_infos: { id: string }[] }).file_infos[0].id;

        const download = await fetch(`${chat.primary.url}/api/v4/files/${fileId}`, {
            headers: { authorization: `Bearer ${token}` },
        });
        expect(download.status).toBe(200);
        expect(await download.text()).toBe(content);

        const bucket = chat.secrets.mattermostSetting("MM_FILESETTINGS_AMAZONS3BUCKET");
        const stored = filerFiles(chat.store.namespace, `/buckets/${bucket}/`);
        expect(stored.filter((file) => file.endsWith(`/${fileId}/report.txt`))).toHaveLength(1);
    });

    it("passes Mattermost's own S3 connection test with the trust bundle", async () => {
        const { status, json } = await admin.call("POST", "/file/s3_test");
        expect({ status, json }).toMatchObject({ status: 200, json: { status: "OK" } });
    });

    it("cannot reach the store without the trust bundle: the certificate is not trusted", async () => {
        const handshakeErrors = () =>
            (chat.store.log().match(/TLS handshake error.*(bad certificate|unknown certificate authority)/g) ?? [])
                .length;
        const before = handshakeErrors();
        const untrusting = await chat.startServer("mattermost-2", { files: {} });
        const { status } = await new Api(untrusting, admin.token).call("POST", "/file/s3_test");
        expect(status).toBe(500);
        // minio-go's error says no more than "Error response code"; the store saw the client refuse its
        // certificate.
        expect(handshakeErrors()).toBeGreaterThan(before);
        const trusted = handshakeErrors();
        expect((await admin.call("POST", "/file/s3_test")).status).toBe(200);
        expect(handshakeErrors()).toBe(trusted);
    });
});
