/**
 * The realm-apply program's pure parts: where secrets are filled in, and when a stored object already is
 * what the file says. Its behaviour against Keycloak itself is proven by the identity suite
 * (tests/identity/realm.test.ts), against the real server.
 */
import { matches, resolveSecrets } from "../../scripts/realmApply";
import { renderRealm, realmSecretVariables } from "../../config/realm";

const directory = {
    urls: ["ldaps://dc1.corp.test:636"],
    // Values from the stack file that look like placeholders stay text: only secret fields are filled.
    bindDn: "CN=$(env:MATTERMOST_CLIENT_SECRET),OU=Service Accounts,DC=corp,DC=test",
    usersDn: "OU=Staff,DC=corp,DC=test",
    idAttribute: "employeeID",
};
const tricky = 'a"b\\c$(env:MATTERMOST_CLIENT_SECRET)d';
const environment = {
    [realmSecretVariables.clientSecret]: "client-secret",
    [realmSecretVariables.deprovisionClientSecret]: "deprovision-secret",
    [realmSecretVariables.adBindPassword]: tricky,
    [realmSecretVariables.testUserPassword]: "test-password",
};

function realm() {
    const text = renderRealm({
        siteUrl: "https://chat.example.com",
        ssoMode: "gitlab",
        ssoSessionIdleMinutes: 30,
        ssoSessionMaxHours: 10,
        directory,
        testUsers: [{ username: "alice", id: "1001", email: "alice@example.com", name: "Alice $(env:X)" }],
    });
    return JSON.parse(text) as Record<string, any>;
}

describe("the realm's secrets", () => {
    it("are filled in at the secret fields only, once, whatever characters they hold", () => {
        const resolved = resolveSecrets(realm(), environment) as Record<string, any>;
        const clients = Object.fromEntries(resolved.clients.map((client: any) => [client.clientId, client.secret]));
        expect(clients).toEqual({ mattermost: "client-secret", "mattermost-deprovision": "deprovision-secret" });
        const [ad] = resolved.components["org.keycloak.storage.UserStorageProvider"];
        // Not substituted again, and no JSON escaping to get wrong: the value is a string of the parsed realm.
        expect(ad.config.bindCredential).toEqual([tricky]);
        expect(ad.config.bindDn).toEqual([directory.bindDn]);
        const alice = resolved.users.find((user: any) => user.username === "alice");
        expect(alice.credentials[0].value).toBe("test-password");
        expect(alice.lastName).toBe("$(env:X)");
    });

    it("names the missing variable and the field that needs it", () => {
        const { [realmSecretVariables.adBindPassword]: _omitted, ...partial } = environment;
        expect(() => resolveSecrets(realm(), partial)).toThrow(
            "component active-directory: bindCredential refers to the secret AD_BIND_PASSWORD, which is not set",
        );
    });

    it("leave the realm text itself unchanged", () => {
        const before = JSON.stringify(realm());
        const parsed = realm();
        resolveSecrets(parsed, environment);
        expect(JSON.stringify(parsed)).toBe(before);
    });
});

describe("an object already as the file says", () => {
    it("has every value the file gives, whatever else Keycloak stores beside them", () => {
        expect(matches({ a: "1", b: { c: true } }, { a: "1", b: { c: true, d: 2 }, id: "x" })).toBe(true);
        expect(matches({ a: "1" }, { a: "2" })).toBe(false);
        expect(matches({ b: { c: true } }, { b: {} })).toBe(false);
    });

    it("compares lists of plain values as sets, and other lists in order", () => {
        expect(matches(["x", "y"], ["y", "x"])).toBe(true);
        expect(matches(["x", "y"], ["x"])).toBe(false);
        expect(matches([{ n: 1 }, { n: 2 }], [{ n: 2 }, { n: 1 }])).toBe(false);
    });
});
