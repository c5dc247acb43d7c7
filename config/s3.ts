/** The in-cluster S3 store of test stacks (SeaweedFS): its fixed address and its identities file. */

export const inClusterS3Service = "mattermost-s3";
export const inClusterS3Port = 8333;

export function inClusterS3Endpoint(namespace: string): string {
    return `${inClusterS3Service}.${namespace}.svc.cluster.local:${inClusterS3Port}`;
}

/** SeaweedFS's S3 identities (-s3.config): one identity, Mattermost's, allowed everything in the store. */
export function renderSeaweedIdentities(accessKey: string, secretKey: string): string {
    const identities = {
        identities: [
            {
                name: "mattermost",
                credentials: [{ accessKey, secretKey }],
                actions: ["Admin", "Read", "List", "Tagging", "Write"],
            },
        ],
    };
    return `${JSON.stringify(identities, null, 2)}\n`;
}
