/**
 * The values Pulumi.prod.yaml ships as examples: a CA certificate and a push VM host key made for the
 * repository (their private keys were discarded), and host names under the domains reserved for
 * examples (RFC 2606). A production stack that still holds one is flagged at every preview, so the
 * example never reaches a real deployment unnoticed. A test keeps these in step with Pulumi.prod.yaml.
 */
import * as crypto from "node:crypto";

/** SHA-256 fingerprints of the example CA certificates, as Node's X509Certificate gives them. */
export const exampleCaFingerprints: readonly string[] = [
    "BB:2E:5E:14:12:06:C6:E7:67:47:68:12:2F:B1:6C:C3:8C:B0:65:E6:76:E4:95:5C:5E:19:34:0F:33:CE:1F:AF",
];

/** The example push VM host keys (`<type> <base64>`). */
export const exampleHostKeys: readonly string[] = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINbRfuMltobL5LXQ21tD7GO5y9Uid/w3fCN/3uPRcbkO",
];

/** A name under example.com, .net or .org, also as an LDAP DN (DC=example,DC=com) or a reversed id. */
const exampleDomain =
    /(^|[^a-z0-9-])example\.(com|net|org)\b|\bDC=example,\s*DC=(com|net|org)\b|\b(com|net|org)\.example\b/i;

export function namesExampleDomain(value: string): boolean {
    return exampleDomain.test(value);
}

export function isExampleCertificate(pem: string): boolean {
    return exampleCaFingerprints.includes(new crypto.X509Certificate(pem).fingerprint256);
}

export function isExampleHostKey(hostKey: string): boolean {
    const [type, key] = hostKey.trim().split(/\s+/);
    return exampleHostKeys.includes(`${type} ${key}`);
}
