/**
 * The trust bundle (DESIGN decision 6): the company's CA certificates plus the CAs the program creates,
 * delivered to every pod that makes TLS calls. Pure: parsing, checking and rendering only.
 */
import { X509Certificate } from "node:crypto";

/** Where pods mount the bundle, and the file in it. */
export const trustMountPath = "/etc/mattermost/trust";
export const trustBundleFile = "ca-bundle.pem";
export const trustBundlePath = `${trustMountPath}/${trustBundleFile}`;

/**
 * Go (Mattermost) reads every file in each SSL_CERT_DIR directory on top of its default bundle file;
 * keeping /etc/ssl/certs in the list keeps the public roots trusted next to the company's.
 */
export const goTrustEnvironment: Readonly<Record<string, string>> = {
    SSL_CERT_DIR: `/etc/ssl/certs:${trustMountPath}`,
};

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

export interface ParsedCertificates {
    readonly certificates: readonly string[];
    readonly problems: readonly string[];
}

function describe(certificate: X509Certificate): string {
    const commonName = /CN=([^\n]+)/.exec(certificate.subject)?.[1];
    return commonName ? `CN=${commonName}` : certificate.subject.replace(/\n/g, ", ");
}

/**
 * Splits PEM text into CA certificates, and says what is wrong with anything that is not a valid,
 * current CA certificate. `now` is when "current" is judged.
 */
export function parseCaCertificates(text: string, now: Date): ParsedCertificates {
    const certificates: string[] = [];
    const problems: string[] = [];
    const blocks = [...text.matchAll(pemBlock)];
    const leftover = text.replace(pemBlock, "").trim();
    if (leftover !== "") {
        problems.push("contains text that is not a PEM block. Give only -----BEGIN CERTIFICATE----- blocks");
    }
    blocks.forEach((block, index) => {
        const where = `block ${index + 1}`;
        if (block[1] !== "CERTIFICATE") {
            problems.push(`${where} is a ${block[1]}, not a CERTIFICATE. Give only the CA certificates, never a key`);
            return;
        }
        let certificate: X509Certificate;
        try {
            certificate = new X509Certificate(block[0]);
        } catch {
            problems.push(
                `${where} does not parse as an X.509 certificate. Export the CA certificate again in PEM form`,
            );
            return;
        }
        const name = `${where} (${describe(certificate)})`;
        if (!certificate.ca) {
            problems.push(`${name} is not a CA certificate. Give the certificate of the CA that issued it`);
        } else if (new Date(certificate.validTo) < now) {
            problems.push(`${name} expired on ${certificate.validTo}. Give the CA's current certificate`);
        } else if (new Date(certificate.validFrom) > now) {
            problems.push(`${name} is not valid before ${certificate.validFrom}`);
        } else {
            certificates.push(`${block[0].replace(/\r\n/g, "\n").trim()}\n`);
        }
    });
    return { certificates, problems };
}

/** One PEM file of every certificate, in the given order (company CAs first, then the program's). */
export function renderTrustBundle(certificates: readonly string[]): string {
    return certificates.map((certificate) => `${certificate.trim()}\n`).join("");
}
