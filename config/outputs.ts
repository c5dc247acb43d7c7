/**
 * The stack outputs other teams consume (issue 8): a contract. The README's table is generated from it
 * (npm run docs), and a test renders both stacks and fails when an output is removed, renamed, changes
 * type or stops being secret, or when one appears that is not listed here.
 */

export type OutputType = "string" | "object";

export interface OutputContract {
    readonly type: OutputType;
    readonly secret: boolean;
    readonly meaning: string;
    /** When the output exists: always, or under the named condition. */
    readonly when?: "pushHost" | "testUsers" | "incomingWebhooks";
    /** For objects: their keys, each a string. */
    readonly keys?: readonly string[];
}

export const outputContract = {
    url: { type: "string", secret: false, meaning: "the chat's public URL, `https://<hostname>`" },
    namespaceName: { type: "string", secret: false, meaning: "the namespace (OpenShift project) everything lives in" },
    mattermostEdition: { type: "string", secret: false, meaning: "`team` or `enterprise`" },
    mattermostVersion: { type: "string", secret: false, meaning: "the Mattermost release that runs, e.g. `11.6.1`" },
    services: {
        type: "object",
        secret: false,
        meaning: "in-cluster Service names",
        keys: ["keycloak", "mattermostBackup", "mattermostPrimary", "nginx"],
    },
    keycloakIssuer: {
        type: "string",
        secret: false,
        meaning: "the realm's issuer, which is also its URL: `https://<hostname>/auth/realms/mattermost`",
    },
    keycloakDiscoveryUrl: {
        type: "string",
        secret: false,
        meaning: "the realm's OpenID Connect discovery document, for other applications logging in through it",
    },
    keycloakAdminPassword: {
        type: "string",
        secret: true,
        meaning: "password of Keycloak's permanent admin `admin` (the console: README, \"Keycloak's admin console\")",
    },
    adminTokenCommands: {
        type: "string",
        secret: false,
        meaning:
            'the commands that make the system-admin bot in the primary pod and print its token, for `mattermostAdminToken` (README, "The admin token")',
    },
    trustBundlePem: {
        type: "string",
        secret: false,
        meaning: "PEM of every CA the pods trust besides the public roots (the company's, and the program's own)",
    },
    testUserPassword: {
        type: "string",
        secret: true,
        meaning: "the test users' shared password",
        when: "testUsers",
    },
    pushUrl: {
        type: "string",
        secret: true,
        meaning: "`https://<pushHost>/<secret prefix>`, Mattermost's push server; the prefix is a credential",
        when: "pushHost",
    },
    pushCaCertificate: {
        type: "string",
        secret: false,
        meaning: "PEM of the CA that signed the push front's certificate",
        when: "pushHost",
    },
    pushHost: { type: "string", secret: false, meaning: "the push VM's name or address", when: "pushHost" },
    incomingWebhookUrls: {
        type: "object",
        secret: true,
        meaning: "each declared incoming webhook's URL, by its display name (a URL is the credential to post)",
        when: "incomingWebhooks",
    },
} as const satisfies Record<string, OutputContract>;

export type OutputName = keyof typeof outputContract;
