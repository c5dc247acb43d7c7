/** Test certificates made with Debian's openssl: a CA, and server certificates it signs. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Issued {
    readonly certificatePath: string;
    readonly keyPath: string;
    readonly certificate: string;
}

function openssl(args: string[]): void {
    execFileSync("openssl", args, { stdio: "pipe" });
}

/** A new P-256 key, unencrypted, written to `keyPath`. */
function newKey(keyPath: string): string[] {
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath];
}

export function makeCertificateAuthority(dir: string, commonName: string): Issued {
    const keyPath = path.join(dir, `${commonName}.key`);
    const certificatePath = path.join(dir, `${commonName}.crt`);
    openssl([
        "req",
        "-x509",
        ...newKey(keyPath),
        "-out",
        certificatePath,
        "-days",
        "3650",
        "-subj",
        `/CN=${commonName}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    return { keyPath, certificatePath, certificate: fs.readFileSync(certificatePath, "utf8") };
}

/** A server certificate for `names` (DNS names, or IP addresses), signed by `ca`. */
export function makeServerCertificate(dir: string, ca: Issued, commonName: string, names: string[]): Issued {
    const keyPath = path.join(dir, `${commonName}.key`);
    const requestPath = path.join(dir, `${commonName}.csr`);
    const certificatePath = path.join(dir, `${commonName}.crt`);
    const extensionsPath = path.join(dir, `${commonName}.ext`);
    const alternativeNames = names.map((name) => (/^[\d.]+$/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(",");
    fs.writeFileSync(
        extensionsPath,
        `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${alternativeNames}\n`,
    );
    openssl(["req", ...newKey(keyPath), "-out", requestPath, "-subj", `/CN=${commonName}`]);
    openssl([
        "x509",
        "-req",
        "-in",
        requestPath,
        "-CA",
        ca.certificatePath,
        "-CAkey",
        ca.keyPath,
        "-CAcreateserial",
        "-out",
        certificatePath,
        "-days",
        "30",
        "-extfile",
        extensionsPath,
    ]);
    return { keyPath, certificatePath, certificate: fs.readFileSync(certificatePath, "utf8") };
}
