import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { lasting } from "./meta";

export interface IssuedServerCertificate {
    /** The CA's certificate, for the trust of whoever calls the server. */
    readonly caCertificate: pulumi.Output<string>;
    readonly certificate: pulumi.Output<string>;
    /** A secret. */
    readonly privateKey: pulumi.Output<string>;
}

/**
 * A CA of the program's own and one server certificate it signs, all P-256 (@pulumi/tls would default to
 * P-224). The server certificate lasts a year (Mozilla's limit is 366 days) and is due for renewal in
 * its last 30 days, which every `pulumi up` carries out (Pulumi.yaml refreshes first). The CA's key is
 * `lasting` in production: a renewed CA certificate keeps it, so what it signed stays trusted. Resource
 * names: <name>-ca-key, <name>-ca, <name>-server-key, <name>-server-request, <name>-server-certificate.
 */
export function privateServerCertificate(
    name: string,
    server: {
        readonly caCommonName: string;
        readonly caValidityYears: number;
        readonly commonName: string;
        readonly dnsNames?: string[];
        readonly ipAddresses?: string[];
    },
    parent: pulumi.Resource,
    production: boolean,
): IssuedServerCertificate {
    const options = { parent };
    const caKey = new tls.PrivateKey(
        `${name}-ca-key`,
        { algorithm: "ECDSA", ecdsaCurve: "P256" },
        lasting(parent, production),
    );
    const ca = new tls.SelfSignedCert(
        `${name}-ca`,
        {
            privateKeyPem: caKey.privateKeyPem,
            isCaCertificate: true,
            subject: { commonName: server.caCommonName, organization: "mattermost-platform" },
            validityPeriodHours: server.caValidityYears * 365 * 24,
            earlyRenewalHours: 365 * 24,
            allowedUses: ["cert_signing", "crl_signing"],
        },
        options,
    );
    const serverKey = new tls.PrivateKey(`${name}-server-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, options);
    const request = new tls.CertRequest(
        `${name}-server-request`,
        {
            privateKeyPem: serverKey.privateKeyPem,
            subject: { commonName: server.commonName },
            ...(server.dnsNames ? { dnsNames: server.dnsNames } : {}),
            ...(server.ipAddresses ? { ipAddresses: server.ipAddresses } : {}),
        },
        options,
    );
    const certificate = new tls.LocallySignedCert(
        `${name}-server-certificate`,
        {
            certRequestPem: request.certRequestPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            caCertPem: ca.certPem,
            validityPeriodHours: 365 * 24,
            earlyRenewalHours: 30 * 24,
            allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        },
        options,
    );
    return { caCertificate: ca.certPem, certificate: certificate.certPem, privateKey: serverKey.privateKeyPem };
}
