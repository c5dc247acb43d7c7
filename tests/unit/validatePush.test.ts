import { validateStackConfig, type RawConfig } from "../../config/validate";
import { testStackConfig } from "../helpers/stackFixtures";

/** A test stack with a push VM, its secrets set and encrypted. */
const withPush: RawConfig = {
    ...testStackConfig,
    pushHost: "push.example.com",
    pushSshUser: "deploy",
    pushSshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBN+2cwAkEskfiFy+tc/j4MMK4PqCT74fTZeyJwASvY4",
    pushSshPrivateKey: "key",
    pushAllowedCidrs: '["10.60.0.0/24"]',
    pushHostCidrs: '["10.60.254.7/32"]',
    pushDeployerCidrs: '["10.10.5.0/24"]',
    pushProxyTarballSha256: "a".repeat(64),
    pushAppleTopic: "com.example.chat",
    pushAppleKeyId: "ABCDE12345",
    pushAppleTeamId: "TEAM123456",
    pushAppleAuthKey: "p8",
    pushFirebaseServiceAccount: "{}",
};
const encrypted = new Set([
    "pushSshPrivateKey",
    "pushAppleAuthKey",
    "pushAppleCertificate",
    "pushFirebaseServiceAccount",
]);
const validate = (change: RawConfig) => validateStackConfig({ ...withPush, ...change }, encrypted);

describe("the push VM's configuration", () => {
    it("turns push notifications on with a push host, and off (with no server at all) without one", () => {
        const on = validate({});
        expect(on.errors).toEqual([]);
        expect(on.settings?.push).toMatchObject({
            host: "push.example.com",
            hostIsAddress: false,
            ssh: { address: "push.example.com", port: 22, user: "deploy" },
            firewall: { allowedCidrs: ["10.60.0.0/24"], deployerCidrs: ["10.10.5.0/24"], sshPort: 22 },
            proxy: { apple: { token: { keyId: "ABCDE12345", teamId: "TEAM123456" } }, android: { type: "android_rn" } },
        });
        expect(on.settings?.mattermost.settings.EmailSettings).toMatchObject({ SendPushNotifications: true });
        // The URL holds the secret prefix: it is set from the Secret, never in the plain settings.
        expect(on.settings?.mattermost.settings.EmailSettings).not.toHaveProperty("PushNotificationServer");

        const off = validateStackConfig(testStackConfig);
        expect(off.settings?.push).toBeUndefined();
        expect(off.settings?.mattermost.settings.EmailSettings).toMatchObject({
            SendPushNotifications: false,
            PushNotificationServer: "",
        });
    });

    it("takes an IPv4 address as the push host, for the certificate's IP SAN", () => {
        expect(validate({ pushHost: "10.20.30.40" }).settings?.push?.hostIsAddress).toBe(true);
    });

    it.each<[string, RawConfig, string]>([
        [
            "a push host without a pinned host key",
            { pushSshHostKey: "" },
            "mattermost:pushSshHostKey: is required with pushHost: without a pinned host key, whatever answers at the address would be sent the push credentials. Read it on the VM's console (or with ssh-keyscan over a network you trust) and set: pulumi config set pushSshHostKey 'ssh-ed25519 AAAA...'.",
        ],
        [
            "a host key that is not one",
            { pushSshHostKey: "SHA256:abcdef" },
            'mattermost:pushSshHostKey: "SHA256:abcdef" is not an SSH public host key. Give one line as ssh-keyscan prints it without the host, e.g. ssh-ed25519 AAAAC3Nza....',
        ],
        [
            "an empty allow-list",
            { pushAllowedCidrs: "[]" },
            "mattermost:pushAllowedCidrs: is empty, so no Mattermost server could reach the push proxy. List the cluster's egress addresses: pulumi config set --path 'pushAllowedCidrs[0]' 10.20.0.0/24.",
        ],
        [
            "an empty deployer list",
            { pushDeployerCidrs: "[]" },
            "mattermost:pushDeployerCidrs: is empty. List where the deployer's SSH comes from, so the firewall keeps it open: pulumi config set --path 'pushDeployerCidrs[0]' 10.10.5.0/24.",
        ],
        [
            "a CIDR admitting everyone",
            { pushAllowedCidrs: '["0.0.0.0/0"]' },
            'mattermost:pushAllowedCidrs: "0.0.0.0/0" admits every address. List only the networks that need it.',
        ],
        [
            "a CIDR with host bits",
            { pushAllowedCidrs: '["10.60.0.5/24"]' },
            'mattermost:pushAllowedCidrs: "10.60.0.5/24" has host bits set. Write the network, 10.60.0.0/24, or a /32 for one address.',
        ],
        [
            "an address without a prefix length",
            { pushDeployerCidrs: '["10.10.5.7"]' },
            'mattermost:pushDeployerCidrs: "10.10.5.7" is not a CIDR. Give a network with its prefix length, e.g. 10.20.0.0/24 or 192.0.2.7/32.',
        ],
        [
            "a push host with a scheme",
            { pushHost: "https://push.example.com" },
            'mattermost:pushHost: "https://push.example.com" is neither a host name nor an IPv4 address. Give e.g. push.example.com or 10.20.30.40.',
        ],
        [
            "a plain-http tarball URL",
            { pushProxyTarballUrl: "http://example.com/proxy.tar.gz" },
            'mattermost:pushProxyTarballUrl: "http://example.com/proxy.tar.gz" is not an https URL of a .tar.gz. Give the release asset, e.g. https://github.com/mattermost/mattermost-push-proxy/releases/download/v6.5.0/mattermost-push-proxy-linux-amd64.tar.gz.',
        ],
        [
            "a checksum that is not a sha256",
            { pushProxyTarballSha256: "abc" },
            'mattermost:pushProxyTarballSha256: "abc" is not a sha256. Give the 64 lower-case hex digits from the release\'s checksums.txt.',
        ],
        [
            "a retry timeout longer than the whole send",
            { pushRetryTimeoutSec: "40" },
            "mattermost:pushRetryTimeoutSec: (40) is longer than pushSendTimeoutSec (30), the budget of the whole send. Lower it, or raise pushSendTimeoutSec.",
        ],
        [
            "an APNs key id without a team id",
            { pushAppleTeamId: "" },
            "mattermost:pushAppleTeamId: is required with pushAppleKeyId (APNs token authentication). Set it: pulumi config set pushAppleTeamId <team id>.",
        ],
        [
            "neither iOS nor Android",
            { pushAppleTopic: "", pushAppleKeyId: "", pushAppleTeamId: "", pushAndroidPlatform: "" },
            "mattermost:pushAppleTopic: is empty and pushAndroidPlatform too, so the push proxy would have nowhere to send. Configure the iOS app (pushAppleTopic) or the Android app (pushAndroidPlatform), or empty pushHost for no push notifications.",
        ],
        [
            "a push host without an SSH user",
            { pushSshUser: "" },
            "mattermost:pushSshUser: is required with pushHost. Set the account with passwordless sudo the program logs in as: pulumi config set pushSshUser deploy.",
        ],
    ])("refuses %s with a message naming key and fix", (_case, change, message) => {
        expect(validate(change).errors).toEqual([message]);
    });

    it("needs the credentials of each configured platform and the SSH key as secrets", () => {
        const result = validateStackConfig(
            {
                ...withPush,
                pushSshPrivateKey: undefined,
                pushAppleAuthKey: undefined,
                pushFirebaseServiceAccount: undefined,
            },
            encrypted,
        );
        expect(result.errors).toEqual([]);
        expect(result.missingSecrets.map((missing) => missing.key)).toEqual([
            "pushSshPrivateKey",
            "pushAppleAuthKey",
            "pushFirebaseServiceAccount",
        ]);
        const certificate = validateStackConfig(
            { ...withPush, pushAppleKeyId: "", pushAppleTeamId: "", pushAppleAuthKey: undefined },
            encrypted,
        );
        expect(certificate.missingSecrets.map((missing) => missing.message)).toEqual([
            'mattermost:pushAppleCertificate: is required with pushAppleTopic and no pushAppleKeyId (certificate authentication) and is not set. Set it with: pulumi config set --secret pushAppleCertificate -- "$(cat <file>)"',
        ]);
    });

    it("lets the offline render go without the tarball's checksum, but not pulumi up", () => {
        const result = validate({ pushProxyTarballSha256: "" });
        expect(result.errors).toEqual([]);
        expect(result.missingValues.map((missing) => missing.key)).toEqual(["pushProxyTarballSha256"]);
    });

    it("refuses the push credentials stored in plain text", () => {
        expect(validateStackConfig(withPush, new Set()).errors).toContain(
            "mattermost:pushAppleAuthKey: is stored in plain text in the stack file. Remove it and set it with: pulumi config set --secret pushAppleAuthKey.",
        );
    });
});
