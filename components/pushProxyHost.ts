import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createHash } from "node:crypto";
import {
    renderPushHostCommands,
    renderPushHostSite,
    renderSecretBundle,
    renderStagedFiles,
    stagedTarballName,
    stagingDirectory,
} from "../config/pushHost";
import type { PushSecrets } from "../config/stack";
import type { PushHostSettings } from "../config/validatePush";
import { lasting } from "./meta";
import { privateServerCertificate } from "./privateCa";

export const pushProxyHostType = "mattermost:vm:PushProxyHost";

export interface PushProxyHostArgs {
    readonly settings: PushHostSettings;
    readonly secrets: PushSecrets;
    /** Production keeps the prefix and the CA's key from being rotated by accident (`lasting`). */
    readonly production: boolean;
}

/**
 * The push proxy on its own VM (DESIGN decision 7), provisioned over SSH: mattermost-push-proxy on
 * loopback behind an nginx TLS front that proxies only send_push and ack under a secret path prefix,
 * and a firewall admitting 443 only from the Mattermost servers. What runs on the VM is rendered by
 * config/pushHost.ts; this component only creates the credentials and hands the text to @pulumi/command.
 */
export class PushProxyHost extends pulumi.ComponentResource {
    /** The CA that signed the front's certificate: Mattermost trusts it to verify the front. */
    public readonly caCertificate: pulumi.Output<string>;
    /** https://<host>/<secret prefix>, Mattermost's PushNotificationServer. A secret. */
    public readonly url: pulumi.Output<string>;
    public readonly host: string;

    constructor(name: string, args: PushProxyHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super(pushProxyHostType, name, {}, opts);
        const { settings, secrets } = args;
        const parent = { parent: this };

        // The proxy authenticates nobody; beyond the firewall, only callers that know this prefix reach it.
        const prefix = new random.RandomPassword(
            `${name}-prefix`,
            { length: 32, special: false },
            lasting(this, args.production),
        );

        // The front's certificate, from a CA of its own; renewed in its last month by the next `pulumi up`,
        // which refreshes first (Pulumi.yaml).
        const issued = privateServerCertificate(
            name,
            {
                caCommonName: "Mattermost push proxy CA",
                caValidityYears: 10,
                commonName: settings.host,
                ...(settings.hostIsAddress ? { ipAddresses: [settings.host] } : { dnsNames: [settings.host] }),
            },
            this,
            args.production,
        );

        // Typed fields only: an unknown field in a connection has leaked private keys into logs.
        const connection: command.types.input.remote.ConnectionArgs = {
            host: settings.ssh.address,
            port: settings.ssh.port,
            user: settings.ssh.user,
            privateKey: secrets.sshPrivateKey,
            hostKey: settings.ssh.hostKey,
            perDialTimeout: 15,
        };

        // Waits for SSH (a new VM may still be booting), then makes the staging directory.
        const staged = issued.certificate.apply((certificate) => renderStagedFiles(settings, certificate));
        const commands = staged.apply(renderPushHostCommands);
        const prepare = new command.remote.Command(
            `${name}-prepare`,
            {
                connection: { ...connection, dialErrorLimit: -1 },
                create: commands.prepare,
                delete: commands.unprepare,
            },
            { ...parent, deleteBeforeReplace: true, customTimeouts: { create: "10m" } },
        );

        // The file names do not depend on the certificate, so the resources are known before it is.
        const fileNames = renderStagedFiles(settings, "").map((file) => file.name);
        const copies = fileNames.map(
            (fileName) =>
                new command.remote.CopyToRemote(
                    `${name}-${fileName}`,
                    {
                        connection,
                        source: staged.apply(
                            (files) =>
                                new pulumi.asset.StringAsset(
                                    files.find((file) => file.name === fileName)?.content ?? "",
                                ),
                        ),
                        remotePath: `${stagingDirectory}/${fileName}`,
                        // A new staging directory (the host was replaced) needs every file again.
                        triggers: [prepare.id],
                    },
                    { ...parent, dependsOn: [prepare] },
                ),
        );
        if (settings.tarball.file) {
            copies.push(
                new command.remote.CopyToRemote(
                    `${name}-tarball`,
                    {
                        connection,
                        source: new pulumi.asset.FileAsset(settings.tarball.file),
                        remotePath: `${stagingDirectory}/${stagedTarballName}`,
                        triggers: [prepare.id],
                    },
                    { ...parent, dependsOn: [prepare] },
                ),
            );
        }

        const secretBundle = pulumi
            .all([
                issued.privateKey,
                prefix.result,
                secrets.appleAuthKey,
                secrets.appleCertificate,
                secrets.firebaseServiceAccount,
            ])
            .apply(([tlsKey, prefixValue, appleAuthKey, appleCertificate, firebaseServiceAccount]) =>
                renderSecretBundle({
                    tlsKey,
                    nginxSite: renderPushHostSite(settings, prefixValue),
                    appleAuthKey,
                    appleCertificate,
                    firebaseServiceAccount,
                }),
            );

        const provisionHash = staged.apply((files) =>
            createHash("sha256")
                .update(files.find((file) => file.name === "provision.sh")?.content ?? "")
                .digest("hex"),
        );
        new command.remote.Command(
            `${name}-provision`,
            {
                connection,
                create: commands.provision,
                delete: commands.remove,
                stdin: pulumi.secret(secretBundle),
                // provision.sh holds the hash of every staged file and the tarball's: any change replaces
                // this step, and a new address replaces it too, so `remove` runs on the host being left.
                triggers: [provisionHash, settings.ssh.address, settings.ssh.port],
                logging: "none",
            },
            {
                ...parent,
                dependsOn: copies,
                deleteBeforeReplace: true,
                additionalSecretOutputs: ["stdout", "stderr"],
                customTimeouts: { create: "15m", delete: "5m" },
            },
        );

        this.host = settings.host;
        this.caCertificate = issued.caCertificate;
        this.url = pulumi.secret(pulumi.interpolate`https://${settings.host}/${prefix.result}`);
        this.registerOutputs({ caCertificate: this.caCertificate, url: this.url, host: this.host });
    }
}
