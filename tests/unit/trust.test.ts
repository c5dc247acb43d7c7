import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseCaCertificates, renderTrustBundle } from "../../config/trust";
import { validateStackConfig } from "../../config/validate";
import { testStackConfig } from "../helpers/stackFixtures";
import { makeCertificateAuthority, makeServerCertificate, type Issued } from "../helpers/certificates";

/** Judged after the certificates exist: openssl dates them from the second it makes them. */
let now: Date;
let dir: string;
let companyRoot: Issued;
let companyIssuing: Issued;
let leaf: Issued;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "trust-"));
    companyRoot = makeCertificateAuthority(dir, "Example Root CA");
    companyIssuing = makeCertificateAuthority(dir, "Example Issuing CA");
    leaf = makeServerCertificate(dir, companyRoot, "chat.example.com", ["chat.example.com"]);
    now = new Date(Date.now() + 1000);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("parseCaCertificates", () => {
    it("accepts CA certificates and keeps them in order", () => {
        const result = parseCaCertificates(`${companyRoot.certificate}\n\n${companyIssuing.certificate}`, now);
        expect(result.problems).toEqual([]);
        expect(result.certificates).toEqual([companyRoot.certificate, companyIssuing.certificate]);
    });

    it("refuses a certificate that is not a CA, naming it", () => {
        expect(parseCaCertificates(`${companyRoot.certificate}${leaf.certificate}`, now).problems).toEqual([
            "block 2 (CN=chat.example.com) is not a CA certificate. Give the certificate of the CA that issued it",
        ]);
    });

    it("refuses a private key", () => {
        const key = fs.readFileSync(companyRoot.keyPath, "utf8");
        expect(parseCaCertificates(key, now).problems).toEqual([
            "block 1 is a PRIVATE KEY, not a CERTIFICATE. Give only the CA certificates, never a key",
        ]);
    });

    it("refuses text that is not PEM, and a damaged certificate", () => {
        expect(parseCaCertificates("company-ca.pem", now).problems).toEqual([
            "contains text that is not a PEM block. Give only -----BEGIN CERTIFICATE----- blocks",
        ]);
        const damaged = companyRoot.certificate.replace(/\n[A-Za-z0-9+/]{10}/, "\nAAAAAAAAAA");
        expect(parseCaCertificates(damaged, now).problems).toEqual([
            "block 1 does not parse as an X.509 certificate. Export the CA certificate again in PEM form",
        ]);
    });

    it("refuses a CA certificate outside its validity", () => {
        const [later] = parseCaCertificates(companyRoot.certificate, new Date("2200-01-01")).problems;
        expect(later).toMatch(/^block 1 \(CN=Example Root CA\) expired on .+\. Give the CA's current certificate$/);
        const [earlier] = parseCaCertificates(companyRoot.certificate, new Date("2000-01-01")).problems;
        expect(earlier).toMatch(/^block 1 \(CN=Example Root CA\) is not valid before /);
    });

    it("is reported against the configuration key", () => {
        const result = validateStackConfig({ ...testStackConfig, companyCaCertificates: leaf.certificate });
        expect(result.errors).toEqual([
            "mattermost:companyCaCertificates: block 1 (CN=chat.example.com) is not a CA certificate. Give the certificate of the CA that issued it.",
        ]);
    });
});

describe("renderTrustBundle", () => {
    it("writes every certificate once, each ending in a newline", () => {
        const bundle = renderTrustBundle([companyRoot.certificate.trim(), `${companyIssuing.certificate}\n\n`]);
        expect(bundle).toBe(`${companyRoot.certificate.trim()}\n${companyIssuing.certificate.trim()}\n`);
    });
});
