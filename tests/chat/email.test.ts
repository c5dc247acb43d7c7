/**
 * E-mail through an authenticated SMTP server, its password a secret setting (mattermostSecretSettings):
 * the test stack rendered with the SMTP settings in mattermostSettings and the password encrypted in the
 * stack file; the real Mattermost started from that render sends a password-reset mail through a real
 * SMTP server (Debian's aiosmtpd) that takes mail only over STARTTLS and after AUTH with that password.
 * Its certificate is of a CA the stack trusts as companyCaCertificates, so Mattermost verifies it
 * through the rendered trust bundle (Mattermost sends no credentials over an unencrypted connection,
 * even to 127.0.0.1).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeCertificateAuthority, makeServerCertificate, type Issued } from "../helpers/certificates";
import { mattermostEnvironment } from "../helpers/mattermostServer";
import { waitFor } from "../helpers/nginxHarness";
import { renderVariant, type Rendered } from "../helpers/render";
import { startSmtpServer, type SmtpServer } from "../helpers/smtpServer";
import { StackSecrets } from "../identity/fixture";
import { Api, startChat, type Chat } from "./fixture";

const passwordPlaceholder = "mattermostSecretSettings.EmailSettings.SMTPPassword";

/** The test stack with Mattermost sending e-mail through `port` on loopback, as `login`, trusting `ca`. */
function renderWithSmtp(port: number, login: string, ca: Issued): Rendered {
    return renderVariant("test", (config) => {
        config["mattermost:mattermostSettings"] = [
            ...(config["mattermost:mattermostSettings"] as string[]),
            "EmailSettings.SendEmailNotifications=true",
            'EmailSettings.SMTPServer="127.0.0.1"',
            `EmailSettings.SMTPPort="${port}"`,
            'EmailSettings.ConnectionSecurity="STARTTLS"',
            "EmailSettings.EnableSMTPAuth=true",
            `EmailSettings.SMTPUsername="${login}"`,
            'EmailSettings.FeedbackEmail="chat@test.example.com"',
        ];
        config["mattermost:companyCaCertificates"] = ca.certificate;
        // As `pulumi config set --secret --path` writes it; the render shows the value as a placeholder.
        config["mattermost:mattermostSecretSettings"] = { "EmailSettings.SMTPPassword": { secure: "v1:x" } };
    });
}

describe("e-mail through an SMTP server that wants the password of the secret settings", () => {
    const login = "chat-mailer";
    const password = `smtp-${crypto.randomBytes(12).toString("hex")}`;
    let smtp: SmtpServer;
    let rendered: Rendered;
    let chat: Chat;

    const certificates = fs.mkdtempSync(path.join(os.tmpdir(), "smtp-ca-"));

    beforeAll(async () => {
        const ca = makeCertificateAuthority(certificates, "company-mail-ca");
        smtp = await startSmtpServer(login, password, makeServerCertificate(certificates, ca, "smtp", ["127.0.0.1"]));
        rendered = renderWithSmtp(smtp.port, login, ca);
        chat = await startChat(rendered, { secrets: new StackSecrets(rendered, { [passwordPlaceholder]: password }) });
    });
    afterAll(async () => {
        await chat?.stop();
        await smtp?.stop();
        fs.rmSync(certificates, { recursive: true, force: true });
        if (rendered) {
            fs.rmSync(rendered.dir, { recursive: true, force: true });
        }
    });

    it("gives the pair the password from its Secret, and no ConfigMap names it", () => {
        const env = mattermostEnvironment(rendered, "mattermost-1", chat.secrets);
        expect(env.MM_EMAILSETTINGS_SMTPPASSWORD).toBe(password);
        const configMaps = JSON.stringify(rendered.manifests.filter((manifest) => manifest.kind === "ConfigMap"));
        expect(configMaps).toContain("MM_EMAILSETTINGS_SMTPUSERNAME");
        expect(configMaps).not.toContain("SMTPPASSWORD");
    });

    it("sends a person's password-reset mail, logged in to the SMTP server with that password", async () => {
        const email = `${chat.siteAdmin.username}@test.example.com`;
        const { status, json } = await new Api(chat.primary).call("POST", "/users/password/reset/send", { email });
        // On failure, what the server said about mail, since its answer names no cause.
        const mailLog = () =>
            chat.primary
                .log()
                .split("\n")
                .filter((line) => /mail|smtp/i.test(line))
                .slice(-10);
        expect({ status, error: status === 200 ? undefined : { json, mailLog: mailLog() } }).toEqual({ status: 200 });
        // Mattermost mails a new person too (a welcome), so the reset is found by its subject.
        const resetMail = () => smtp.messages().find((mail) => /^Subject: .*reset/im.test(mail));
        await waitFor(() => Promise.resolve(resetMail() !== undefined), 30000, "the password-reset mail");
        expect(resetMail()).toMatch(new RegExp(`^To: .*${email.replace(/\./g, "\\.")}`, "im"));
        const attempts = smtp.events.filter((event) => event.event === "auth");
        expect(attempts.length).toBeGreaterThan(0);
        expect(attempts.every((attempt) => attempt.login === login && attempt.accepted)).toBe(true);
    });
});
