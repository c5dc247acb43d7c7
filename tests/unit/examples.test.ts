/**
 * The example values Pulumi.prod.yaml ships (host names under example.com, a CA and a push VM host key
 * made for the repository) are named at every preview of a production stack until they are replaced.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exampleCaFingerprints, exampleHostKeys, isExampleHostKey, namesExampleDomain } from "../../config/examples";
import { validateStackConfig } from "../../config/validate";
import { makeCertificateAuthority } from "../helpers/certificates";
import { completeStackConfig } from "../helpers/stackFixtures";

const exampleWarning = /example\.com, a domain reserved|example CA certificate|example host key/;

describe("the example values of Pulumi.prod.yaml", () => {
    const prod = completeStackConfig("prod");

    it("are the ones the program knows as examples", () => {
        const raw = prod.raw;
        expect(exampleCaFingerprints).toEqual([
            new crypto.X509Certificate(raw.companyCaCertificates ?? "").fingerprint256,
        ]);
        expect(exampleHostKeys).toEqual([raw.pushSshHostKey]);
    });

    it("are each named at a preview of the prod stack", () => {
        const warnings = validateStackConfig(prod.raw, prod.secretKeys).warnings.filter((warning) =>
            exampleWarning.test(warning),
        );
        expect(warnings).toHaveLength(3);
        expect(warnings[0]).toMatch(/^mattermost:hostname, mattermost:databaseHost, .*mattermost:pushHost/);
        expect(warnings[1]).toMatch(/^mattermost:companyCaCertificates: holds the repository's example CA/);
        expect(warnings[2]).toMatch(/^mattermost:pushSshHostKey: is the repository's example host key/);
    });

    it("are no longer named once replaced with the company's own", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "examples-"));
        try {
            const companyCa = fs.readFileSync(makeCertificateAuthority(dir, "company-ca").certificatePath, "utf8");
            const replaced = Object.fromEntries(
                Object.entries(prod.raw).map(([key, value]) => [
                    key,
                    prod.secretKeys.has(key)
                        ? value
                        : value
                              ?.replace(/example\.com/g, "acme-corp.net")
                              .replace(/DC=example/g, "DC=acme-corp")
                              .replace(/com\.example/g, "net.acme-corp"),
                ]),
            );
            const { privateKey } = crypto.generateKeyPairSync("ed25519");
            const ownKey = crypto.createPublicKey(privateKey).export({ type: "spki", format: "der" });
            // An OpenSSH ed25519 key: its type, then the 32 bytes of the key (the last of the SPKI form).
            const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(ownKey.subarray(-32))]);
            const result = validateStackConfig(
                {
                    ...replaced,
                    companyCaCertificates: companyCa,
                    pushSshHostKey: `ssh-ed25519 ${blob.toString("base64")}`,
                },
                prod.secretKeys,
            );
            expect(result.errors).toEqual([]);
            expect(result.warnings.filter((warning) => exampleWarning.test(warning))).toEqual([]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("are not named in a test stack, whose example names are its own", () => {
        const test = completeStackConfig("test");
        expect(validateStackConfig(test.raw, test.secretKeys).warnings.filter((w) => exampleWarning.test(w))).toEqual(
            [],
        );
    });
});

describe("names under a domain reserved for examples", () => {
    it.each([
        ["chat.example.com", true],
        ["ldaps://dc1.corp.example.org:636", true],
        ["OU=Staff,DC=corp,DC=example,DC=com", true],
        ["com.example.chat", true],
        ["chat.notexample.com", false],
        ["example.company.com", false],
        ["chat.acme-corp.net", false],
    ])("%s: %s", (value, expected) => {
        expect(namesExampleDomain(value)).toBe(expected);
    });

    it("tells the example host key apart from others, whatever comment follows it", () => {
        expect(isExampleHostKey(`${exampleHostKeys[0]} root@example`)).toBe(true);
        expect(isExampleHostKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther")).toBe(false);
    });
});

function sshString(data: string | Buffer): Buffer {
    const bytes = Buffer.from(data);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
}
