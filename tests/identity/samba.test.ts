/**
 * The Samba AD harness (tests/helpers/sambaDc.ts) against the real DC: what the Keycloak tests rely on,
 * seen by Debian's OpenLDAP clients over LDAPS from the root namespace, with certificate checks on.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { makeCertificateAuthority } from "../helpers/certificates";
import { parseLdif, startDomainController, type DomainController, type LdifEntry } from "../helpers/sambaDc";

let dc: DomainController;
let otherCaPath: string;
let otherCaDir: string;

const alice = {
    username: "asmith",
    givenName: "Alice",
    surname: "Smith",
    mail: "alice.smith@corp.test",
    employeeId: "100234",
    password: "Winter-2024!",
};

/** ldapsearch over LDAPS as `bindDn`, trusting only `caPath`. */
function ldapsearch(options: { bindDn: string; password: string; base: string; filter: string; caPath?: string }) {
    const args = ["-LLL", "-o", "ldif-wrap=no", "-x", "-H", dc.url, "-D", options.bindDn, "-w", options.password];
    return dc.runClient(["ldapsearch", "-d", "1", ...args, "-b", options.base, options.filter, "*", "memberOf"], {
        env: { LDAPTLS_CACERT: options.caPath ?? dc.caPath },
    });
}

function searchOk(options: Parameters<typeof ldapsearch>[0]): LdifEntry[] {
    const result = ldapsearch(options);
    if (result.status !== 0) {
        throw new Error(`ldapsearch failed (${result.status}): ${result.stderr.split("\n").slice(-5).join("\n")}`);
    }
    return parseLdif(result.stdout);
}

function asBindAccount(filter: string): LdifEntry[] {
    return searchOk({ bindDn: dc.bindDn, password: dc.bindPassword, base: dc.usersDn, filter });
}

/** A simple bind as the person, reading their own entry: the exit status of ldapsearch. */
function bindAs(dn: string, password: string): number | null {
    return ldapsearch({ bindDn: dn, password, base: dn, filter: "(objectClass=user)" }).status;
}

/** "connected", or the error code of the TCP connect. */
function connect(port: number): Promise<string> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: dc.address, port, timeout: 2000 });
        const done = (outcome: string) => {
            socket.destroy();
            resolve(outcome);
        };
        socket.once("connect", () => done("connected"));
        socket.once("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
        socket.once("timeout", () => done("timeout"));
    });
}

beforeAll(async () => {
    const started = Date.now();
    dc = await startDomainController();
    console.log(`domain controller up in ${Date.now() - started} ms`);
    otherCaDir = fs.mkdtempSync(path.join(os.tmpdir(), "mmdc-other-ca-"));
    otherCaPath = makeCertificateAuthority(otherCaDir, "other-ca").certificatePath;
}, 120_000);

afterAll(async () => {
    await dc?.close();
    if (otherCaDir) {
        fs.rmSync(otherCaDir, { recursive: true, force: true });
    }
});

test("the bind account finds a chat user in OU=Staff with a numeric employeeID, and not a non-member", () => {
    const dn = dc.addPerson(alice);
    dc.addPerson({
        ...alice,
        username: "bjones",
        givenName: "Bob",
        surname: "Jones",
        employeeId: undefined,
        chatUser: false,
    });
    const found = asBindAccount(`(&(objectClass=user)(memberOf=${dc.groupDn}))`);
    expect(found.map((entry) => entry.dn)).toEqual([dn]);
    expect(dn).toBe(`CN=Alice Smith,${dc.usersDn}`);
    expect(found[0].attributes).toMatchObject({
        sAMAccountName: ["asmith"],
        employeeID: ["100234"],
        givenName: ["Alice"],
        sn: ["Smith"],
        mail: ["alice.smith@corp.test"],
        memberOf: [dc.groupDn],
    });
    const [bob] = asBindAccount("(sAMAccountName=bjones)");
    expect(bob.attributes.memberOf).toBeUndefined();
    expect(bob.attributes.employeeID).toBeUndefined();
});

test("a trust store without the DC's CA fails the TLS handshake on the certificate", () => {
    const options = { bindDn: dc.bindDn, password: dc.bindPassword, base: dc.usersDn, filter: "(objectClass=*)" };
    const result = ldapsearch({ ...options, caPath: otherCaPath });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("TLS: peer cert untrusted");
    expect(ldapsearch(options).status).toBe(0);
});

test("disable sets ACCOUNTDISABLE (0x2) and the person can no longer bind; enable clears it", () => {
    const dn = dc.addPerson({ ...alice, username: "cdoe", givenName: "Carol", surname: "Doe", employeeId: "100300" });
    const accountControl = () => Number(asBindAccount("(sAMAccountName=cdoe)")[0].attributes.userAccountControl?.[0]);
    expect(accountControl() & 2).toBe(0);
    expect(bindAs(dn, alice.password)).toBe(0);
    dc.disable("cdoe");
    expect(accountControl() & 2).toBe(2);
    expect(bindAs(dn, alice.password)).toBe(49);
    dc.enable("cdoe");
    expect(accountControl() & 2).toBe(0);
    expect(bindAs(dn, alice.password)).toBe(0);
});

test("a removed person is gone", () => {
    dc.addPerson({ ...alice, username: "dgone", givenName: "Dave", surname: "Gone", employeeId: "100400" });
    expect(asBindAccount("(sAMAccountName=dgone)")).toHaveLength(1);
    dc.remove("dgone");
    expect(asBindAccount("(sAMAccountName=dgone)")).toHaveLength(0);
    expect(dc.findDn("dgone")).toBeUndefined();
});

test("after setPassword a person binds with the new password and not with the old one", () => {
    const dn = dc.addPerson({ ...alice, username: "epass", givenName: "Eve", surname: "Pass", employeeId: "100500" });
    expect(bindAs(dn, alice.password)).toBe(0);
    dc.setPassword("epass", "Spring-2025#x");
    expect(bindAs(dn, "Spring-2025#x")).toBe(0);
    expect(bindAs(dn, alice.password)).toBe(49);
});

test("setAttribute replaces and deletes a value", () => {
    dc.setAttribute("asmith", "employeeID", "100999");
    expect(asBindAccount("(sAMAccountName=asmith)")[0].attributes.employeeID).toEqual(["100999"]);
    dc.setAttribute("asmith", "employeeID", null);
    expect(asBindAccount("(sAMAccountName=asmith)")[0].attributes.employeeID).toBeUndefined();
});

test("stop() refuses LDAPS, and start() serves the same directory again", async () => {
    await dc.stop();
    expect(await connect(636)).toBe("ECONNREFUSED");
    expect(
        ldapsearch({ bindDn: dc.bindDn, password: dc.bindPassword, base: dc.usersDn, filter: "(cn=*)" }).status,
    ).toBe(255);
    await dc.start();
    expect(await connect(636)).toBe("connected");
    expect(asBindAccount("(sAMAccountName=asmith)").map((entry) => entry.dn)).toEqual([`CN=Alice Smith,${dc.usersDn}`]);
});
