import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { inClusterS3Port, inClusterS3Service, renderSeaweedIdentities } from "../config/s3";
import { labels, scratchVolumes, selectorLabels, singlePodStore } from "./meta";
import { privateServerCertificate } from "./privateCa";
import type { PodDefaults } from "../config/registry";

export const s3StoreType = "mattermost:k8s:S3Store";

export interface S3StoreArgs {
    readonly namespace: string;
    /** What every pod of the stack gets: the registries' pull secrets. */
    readonly pods?: PodDefaults;
    /** Pinned SeaweedFS image. */
    readonly image: string;
}

/** Any non-root id: SeaweedFS writes only to its data directory. */
const storeUid = 1000;
const certificateDirectory = "/etc/seaweedfs/tls";
const identitiesDirectory = "/etc/seaweedfs/identities";

/**
 * An S3-compatible store for test stacks (SeaweedFS, one pod, files on an emptyDir), so a test stack
 * needs nothing outside the cluster. It serves TLS only, with a certificate from a CA this component
 * creates, so the private-CA path (trust bundle, verification on) is exercised in every test deployment.
 */
export class S3Store extends pulumi.ComponentResource {
    /** The CA that signed the store's certificate, for the trust bundle. */
    public readonly caCertificate: pulumi.Output<string>;
    public readonly accessKeyId: pulumi.Output<string>;
    public readonly secretAccessKey: pulumi.Output<string>;

    constructor(name: string, args: S3StoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super(s3StoreType, name, {}, opts);

        // A CA of its own, valid for five years and renewed by Pulumi in the last one.
        const dnsNames = [
            inClusterS3Service,
            `${inClusterS3Service}.${args.namespace}`,
            `${inClusterS3Service}.${args.namespace}.svc`,
            `${inClusterS3Service}.${args.namespace}.svc.cluster.local`,
        ];
        const issued = privateServerCertificate(
            name,
            { caCommonName: "Mattermost test S3 CA", caValidityYears: 5, commonName: dnsNames[3], dnsNames },
            this,
            // The in-cluster store is a test stack's only (refused in production), and goes with it.
            false,
        );

        const accessKey = new random.RandomPassword(
            `${name}-access-key`,
            { length: 20, special: false },
            { parent: this },
        );
        const secretKey = new random.RandomPassword(
            `${name}-secret-key`,
            { length: 40, special: false },
            { parent: this },
        );

        const tlsSecret = new k8s.core.v1.Secret(
            `${name}-tls`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "file-store") },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": issued.certificate, "tls.key": issued.privateKey },
            },
            { parent: this },
        );
        const identities = new k8s.core.v1.Secret(
            `${name}-identities`,
            {
                metadata: { namespace: args.namespace, labels: labels(name, "file-store") },
                stringData: {
                    "s3.json": pulumi
                        .all([accessKey.result, secretKey.result])
                        .apply(([id, key]) => renderSeaweedIdentities(id, key)),
                },
            },
            { parent: this },
        );

        const scratch = scratchVolumes({
            data: { mountPath: "/data", sizeLimit: "8Gi" },
            tmp: { mountPath: "/tmp", sizeLimit: "256Mi" },
        });
        const deployment = new k8s.apps.v1.Deployment(
            name,
            singlePodStore({
                name,
                deploymentName: inClusterS3Service,
                namespace: args.namespace,
                component: "file-store",
                uid: storeUid,
                pods: args.pods,
                container: {
                    name: "seaweedfs",
                    image: args.image,
                    // One process: master, volume and filer bound to loopback, and only the S3 gateway,
                    // TLS only, reachable from outside the pod. -ip.bind binds every server of the
                    // process, the filer's unauthenticated HTTP API among them, so it stays on loopback
                    // and the gateway alone binds every address; the Iceberg and Lance catalogs that
                    // SeaweedFS 4 starts beside the gateway by default are turned off. The gateway's gRPC
                    // (port + 10000) cannot be: the NetworkPolicy admits the S3 port alone (tests/chat/).
                    command: ["weed"],
                    args: [
                        "server",
                        "-dir=/data",
                        // SeaweedFS reports cluster statistics to its makers' host unless told not to.
                        "-master.telemetry=false",
                        "-ip=127.0.0.1",
                        "-ip.bind=127.0.0.1",
                        "-master.volumeSizeLimitMB=1024",
                        "-volume.max=0",
                        "-s3",
                        "-s3.ip.bind=0.0.0.0",
                        "-s3.port.iceberg=0",
                        "-s3.port.lance=0",
                        `-s3.port=${inClusterS3Port}`,
                        `-s3.config=${identitiesDirectory}/s3.json`,
                        `-s3.cert.file=${certificateDirectory}/tls.crt`,
                        `-s3.key.file=${certificateDirectory}/tls.key`,
                    ],
                    ports: [{ name: "s3", containerPort: inClusterS3Port }],
                    readinessProbe: { tcpSocket: { port: "s3" }, periodSeconds: 5 },
                    livenessProbe: { tcpSocket: { port: "s3" }, periodSeconds: 10, failureThreshold: 6 },
                    volumeMounts: [
                        ...scratch.mounts,
                        { name: "tls", mountPath: certificateDirectory, readOnly: true },
                        { name: "identities", mountPath: identitiesDirectory, readOnly: true },
                    ],
                },
                volumes: [
                    ...scratch.volumes,
                    { name: "tls", secret: { secretName: tlsSecret.metadata.name } },
                    { name: "identities", secret: { secretName: identities.metadata.name } },
                ],
            }),
            { parent: this },
        );

        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: inClusterS3Service, namespace: args.namespace, labels: labels(name, "file-store") },
                spec: {
                    selector: selectorLabels(name),
                    ports: [{ name: "s3", port: inClusterS3Port, targetPort: "s3" }],
                },
            },
            { parent: this, dependsOn: [deployment] },
        );

        this.caCertificate = issued.caCertificate;
        this.accessKeyId = pulumi.secret(accessKey.result);
        this.secretAccessKey = pulumi.secret(secretKey.result);
        this.registerOutputs({
            caCertificate: this.caCertificate,
            accessKeyId: this.accessKeyId,
            secretAccessKey: this.secretAccessKey,
        });
    }
}
