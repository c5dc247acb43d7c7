/**
 * A real Active Directory domain controller for the identity tests: Debian's Samba (4.17), provisioned
 * afresh in a temp dir (about 6 s, so no template cache), serving LDAP/LDAPS only, in a network namespace
 * of its own (`mmdc<pid>`) reached from the root namespace over a veth (10.93.0.1 here, 10.93.0.10 there).
 * A JVM in the root namespace resolves `dc1.corp.test` with `-Djdk.net.hosts.file=<hostsFile>`.
 *
 * Command-line clients (`runClient`) stay in the root namespace, so their traffic crosses the veth as the
 * JVM's does; they resolve the DC through `hostsFile` bind-mounted over /etc/hosts in a private mount
 * namespace (`unshare --mount`), so the machine's /etc/hosts is never edited.
 *
 * People are managed over LDAPS as Administrator, as an AD admin tool would, so those calls need the DC
 * running. AD password complexity stays on: a password needs 7+ characters from three of upper case,
 * lower case, digits and symbols, and must not contain the sAMAccountName nor any 3+ character part of
 * the display name ("Given Surname").
 *
 * Cleanup: `close()` in afterAll. If the test process exits without it, an exit hook kills samba and
 * removes the namespace and dir; if it is killed outright, samba still ends (it runs with `-i`, which
 * exits on EOF of the stdin pipe we hold), and the next start removes namespaces and dirs left by dead pids.
 * One DC per process at a time: the subnet is fixed.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { makeCertificateAuthority, makeServerCertificate } from "./certificates";
import { pidAlive, removeNamespaces, removeStaleNamespaces } from "./netns";

export const realm = "CORP.TEST";
export const netbiosDomain = "CORP";
export const dnsDomain = "corp.test";
export const hostname = `dc1.${dnsDomain}`;
export const address = "10.93.0.10";
/** The root namespace's end of the veth. */
export const hostAddress = "10.93.0.1";
export const baseDn = "DC=corp,DC=test";

/** Meets AD complexity, and holds what a realm must pass through unexpanded: `"`, `\` and a Keycloak env reference. */
export const defaultBindPassword = 'Bind"Pa\\ss$(env:KC_BOOTSTRAP_ADMIN_PASSWORD)-2024';
export const defaultAdminPassword = "Adm1n-Passw0rd!";

const namespacePrefix = "mmdc";
const startTimeoutMs = 30_000;
/** UF_ACCOUNTDISABLE in userAccountControl. */
const accountDisable = 0x2;
/** UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD: the bind account must not expire mid-suite. */
const serviceAccountControl = 0x200 | 0x10000;

export interface Person {
    readonly username: string;
    readonly givenName: string;
    readonly surname: string;
    readonly mail: string;
    /** Numeric string; left out, the person has no employeeID at all. */
    readonly employeeId?: string;
    readonly password: string;
    /** Member of Chat-Users; default true. */
    readonly chatUser?: boolean;
}

export interface DomainControllerOptions {
    readonly bindPassword?: string;
    readonly adminPassword?: string;
}

export interface LdifEntry {
    readonly dn: string;
    /** Values by attribute name, as the server spells the name. */
    readonly attributes: Readonly<Record<string, readonly string[] | undefined>>;
}

let active: DomainController | undefined;

/** Provisions a fresh domain, starts it, and creates the OUs, Chat-Users and the bind account. */
export async function startDomainController(options: DomainControllerOptions = {}): Promise<DomainController> {
    if (active) {
        throw new Error("a domain controller is already running in this process (the 10.93.0.0/24 subnet is fixed)");
    }
    removeStaleLeftovers();
    const dc = new DomainController(options);
    active = dc;
    try {
        dc.provision();
        await dc.start();
        dc.populate();
    } catch (error) {
        await dc.close();
        throw error;
    }
    return dc;
}

export class DomainController {
    readonly realm = realm;
    readonly domain = netbiosDomain;
    readonly hostname = hostname;
    readonly address = address;
    readonly hostAddress = hostAddress;
    readonly url = `ldaps://${hostname}:636`;
    readonly baseDn = baseDn;
    readonly usersDn = `OU=Staff,${baseDn}`;
    readonly groupsDn = `OU=Groups,${baseDn}`;
    readonly groupDn = `CN=Chat-Users,OU=Groups,${baseDn}`;
    readonly serviceAccountsDn = `OU=Service Accounts,${baseDn}`;
    readonly bindDn = `CN=svc-keycloak,OU=Service Accounts,${baseDn}`;
    readonly adminDn = `CN=Administrator,CN=Users,${baseDn}`;
    readonly bindPassword: string;
    readonly adminPassword: string;
    readonly namespace = `${namespacePrefix}${process.pid}`;
    /** The root namespace's end of the veth. */
    readonly hostLink = `${namespacePrefix}${process.pid}h`.slice(0, 15);
    readonly dir: string;
    readonly hostsFile: string;
    readonly logPath: string;
    readonly caPath: string;
    readonly caPem: string;
    private readonly confPath: string;
    private readonly tlsDir: string;
    private child: ChildProcess | undefined;
    private closed = false;
    private readonly exitHook = () => this.closeSync();

    constructor(options: DomainControllerOptions) {
        this.bindPassword = options.bindPassword ?? defaultBindPassword;
        this.adminPassword = options.adminPassword ?? defaultAdminPassword;
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${this.namespace}-`));
        process.on("exit", this.exitHook);
        this.confPath = path.join(this.dir, "etc", "smb.conf");
        this.logPath = path.join(this.dir, "samba.log");
        this.tlsDir = path.join(this.dir, "tls");
        fs.mkdirSync(this.tlsDir, { mode: 0o700 });
        const ca = makeCertificateAuthority(this.tlsDir, "corp-test-ca");
        this.caPath = ca.certificatePath;
        this.caPem = ca.certificate;
        makeServerCertificate(this.tlsDir, ca, hostname, [hostname]);
        // Samba refuses a TLS key that others may read.
        fs.chmodSync(path.join(this.tlsDir, `${hostname}.key`), 0o600);
        this.hostsFile = path.join(this.dir, "hosts");
        // The machine's entries too: with jdk.net.hosts.file set, the JVM resolves nothing else (localhost).
        fs.writeFileSync(
            this.hostsFile,
            `${fs.readFileSync("/etc/hosts", "utf8").trimEnd()}\n${address} ${hostname}\n`,
        );
    }

    /** `samba-tool domain provision`, then our own smb.conf: LDAP only, everything under `dir`. */
    provision(): void {
        run("samba-tool", [
            "domain",
            "provision",
            `--targetdir=${this.dir}`,
            `--realm=${realm}`,
            `--domain=${netbiosDomain}`,
            "--host-name=dc1",
            "--server-role=dc",
            "--dns-backend=NONE",
            `--adminpass=${this.adminPassword}`,
        ]);
        fs.writeFileSync(this.confPath, this.smbConf());
        this.makeNamespace();
    }

    private smbConf(): string {
        const d = this.dir;
        const settings: Record<string, string> = {
            "netbios name": "DC1",
            realm,
            workgroup: netbiosDomain,
            "server role": "active directory domain controller",
            // Keycloak needs LDAP(S) only; no smbd, winbindd, KDC or DNS to start or to wait for.
            "server services": "ldap",
            "private dir": `${d}/private`,
            "state directory": `${d}/state`,
            "cache directory": `${d}/cache`,
            "lock directory": d,
            "binddns dir": `${d}/bind-dns`,
            // Defaults are under /run/samba, shared by every DC on the machine.
            "pid directory": `${d}/run`,
            "ncalrpc dir": `${d}/run/ncalrpc`,
            "winbindd socket directory": `${d}/run/winbindd`,
            "ntp signd socket directory": `${d}/run/ntp_signd`,
            interfaces: address,
            "bind interfaces only": "yes",
            "tls enabled": "yes",
            "tls keyfile": path.join(this.tlsDir, `${hostname}.key`),
            "tls certfile": path.join(this.tlsDir, `${hostname}.crt`),
            "tls cafile": this.caPath,
            // Samba otherwise accepts a replaced password for 60 more minutes, also on LDAP simple binds.
            "old password allowed period": "0",
            "log level": "1",
        };
        const lines = Object.entries(settings).map(([key, value]) => `\t${key} = ${value}`);
        return `[global]\n${lines.join("\n")}\n`;
    }

    private makeNamespace(): void {
        ip("netns", "add", this.namespace);
        ip("link", "add", this.hostLink, "type", "veth", "peer", "name", "eth0", "netns", this.namespace);
        ip("address", "add", `${hostAddress}/24`, "dev", this.hostLink);
        ip("link", "set", this.hostLink, "up");
        ip("-n", this.namespace, "address", "add", `${address}/24`, "dev", "eth0");
        ip("-n", this.namespace, "link", "set", "eth0", "up");
        ip("-n", this.namespace, "link", "set", "lo", "up");
    }

    /** Starts samba on the current state and waits until LDAPS completes a verified TLS handshake. */
    async start(): Promise<void> {
        if (this.running) {
            return;
        }
        const log = fs.openSync(this.logPath, "a");
        const child = spawn(
            "ip",
            ["netns", "exec", this.namespace, "samba", "-i", "-M", "single", "-s", this.confPath],
            {
                stdio: ["pipe", log, log],
            },
        );
        fs.closeSync(log);
        child.on("error", (error) => fs.appendFileSync(this.logPath, `could not run samba: ${error.message}\n`));
        // Unref'd, so a test that forgets close() still lets node exit, and samba with it (stdin EOF).
        child.unref();
        (child.stdin as unknown as { unref(): void }).unref();
        this.child = child;
        await this.waitForTls(child);
    }

    private async waitForTls(child: ChildProcess): Promise<void> {
        const deadline = Date.now() + startTimeoutMs;
        while (!(await tlsHandshake(this.caPem))) {
            if (child.exitCode !== null || child.signalCode !== null) {
                throw new Error(`samba exited (${child.exitCode ?? child.signalCode}):\n${this.logTail()}`);
            }
            if (Date.now() > deadline) {
                throw new Error(`LDAPS did not come up in ${startTimeoutMs} ms:\n${this.logTail()}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }

    get running(): boolean {
        return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
    }

    /** Stops samba (SIGTERM, then SIGKILL after 10 s) and waits for it; the state stays for `start()`. */
    async stop(): Promise<void> {
        const child = this.child;
        this.child = undefined;
        if (!child || child.exitCode !== null || child.signalCode !== null) {
            return;
        }
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.kill("SIGTERM");
        await exited;
        clearTimeout(force);
    }

    /** Stops samba, removes the namespace (and with it the veth) and the dir. Safe to call twice. */
    async close(): Promise<void> {
        await this.stop();
        this.closeSync();
    }

    private closeSync(): void {
        if (this.closed) {
            return;
        }
        this.closed = true;
        this.child?.kill("SIGKILL");
        removeNamespaces([this.namespace]);
        fs.rmSync(this.dir, { recursive: true, force: true });
        process.removeListener("exit", this.exitHook);
        if (active === this) {
            active = undefined;
        }
    }

    logTail(lines = 40): string {
        const text = fs.existsSync(this.logPath) ? fs.readFileSync(this.logPath, "utf8") : "";
        return text.split("\n").slice(-lines).join("\n");
    }

    /**
     * Runs a client in the root network namespace with `dc1.corp.test` resolving to the DC. Only PATH and
     * `env` reach it, so no LDAPTLS_* of the caller's leaks in.
     */
    runClient(
        argv: readonly string[],
        options: { env?: NodeJS.ProcessEnv; input?: string } = {},
    ): SpawnSyncReturns<string> {
        const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
        return spawnSync(
            "unshare",
            ["--mount", "--propagation", "private", "sh", "-c", script, this.hostsFile, ...argv],
            {
                encoding: "utf8",
                input: options.input,
                env: { PATH: process.env.PATH, ...options.env },
            },
        );
    }

    /** ldapsearch/ldapmodify/ldapdelete over LDAPS as Administrator, trusting the DC's CA; throws on failure. */
    private admin(tool: string, args: readonly string[], input?: string): string {
        const credentials = ["-x", "-H", this.url, "-D", this.adminDn, "-w", this.adminPassword];
        const result = this.runClient([tool, ...credentials, ...args], { env: { LDAPTLS_CACERT: this.caPath }, input });
        if (result.status !== 0) {
            throw new Error(`${tool} ${args.join(" ")} failed (${result.status}): ${result.stderr}${result.stdout}`);
        }
        return result.stdout;
    }

    private modify(ldif: string): void {
        this.admin("ldapmodify", [], ldif);
    }

    /** Entries under `base` matching `filter`, as Administrator. */
    search(base: string, filter: string, attributes: readonly string[] = []): LdifEntry[] {
        return parseLdif(this.admin("ldapsearch", ["-LLL", "-o", "ldif-wrap=no", "-b", base, filter, ...attributes]));
    }

    /** The production layout: OU=Staff, OU=Groups with Chat-Users, OU=Service Accounts with the bind account. */
    populate(): void {
        const unit = (dn: string) => ldifRecord(dn, [["objectClass", "organizationalUnit"]]);
        const group = ldifRecord(this.groupDn, [
            ["objectClass", "group"],
            ["sAMAccountName", "Chat-Users"],
        ]);
        const bindAccount = ldifRecord(this.bindDn, [
            ["objectClass", "user"],
            ["sAMAccountName", "svc-keycloak"],
            ["userPrincipalName", `svc-keycloak@${dnsDomain}`],
            ["unicodePwd", unicodePwd(this.bindPassword)],
            ["userAccountControl", String(serviceAccountControl)],
        ]);
        const records = [unit(this.usersDn), unit(this.groupsDn), unit(this.serviceAccountsDn), group, bindAccount];
        this.admin("ldapadd", [], records.join("\n"));
    }

    /** The DN of `username` (by sAMAccountName), or undefined when there is none. */
    findDn(username: string): string | undefined {
        return this.search(this.baseDn, `(sAMAccountName=${escapeFilter(username)})`, ["1.1"])[0]?.dn;
    }

    private dnOf(username: string): string {
        const dn = this.findDn(username);
        if (!dn) {
            throw new Error(`no account ${username} in ${realm}`);
        }
        return dn;
    }

    /** A person in OU=Staff, enabled, with cn "Given Surname", in Chat-Users unless `chatUser: false`. */
    addPerson(person: Person): string {
        const cn = `${person.givenName} ${person.surname}`;
        const dn = `CN=${escapeDnValue(cn)},${this.usersDn}`;
        const attributes: [string, string | Buffer][] = [
            ["objectClass", "user"],
            ["sAMAccountName", person.username],
            ["userPrincipalName", `${person.username}@${dnsDomain}`],
            ["givenName", person.givenName],
            ["sn", person.surname],
            ["displayName", cn],
            ["mail", person.mail],
            ["unicodePwd", unicodePwd(person.password)],
            // With the password in the same add, AD accepts a normal, enabled account straight away.
            ["userAccountControl", "512"],
        ];
        if (person.employeeId !== undefined) {
            attributes.push(["employeeID", person.employeeId]);
        }
        this.admin("ldapadd", [], ldifRecord(dn, attributes));
        if (person.chatUser ?? true) {
            this.modify(ldifChange(this.groupDn, "add", "member", [dn]));
        }
        return dn;
    }

    userAccountControl(username: string): number {
        const dn = this.dnOf(username);
        const value = this.search(dn, "(objectClass=*)", ["userAccountControl"])[0]?.attributes.userAccountControl?.[0];
        return Number(value);
    }

    disable(username: string): void {
        this.setAttribute(username, "userAccountControl", String(this.userAccountControl(username) | accountDisable));
    }

    enable(username: string): void {
        this.setAttribute(username, "userAccountControl", String(this.userAccountControl(username) & ~accountDisable));
    }

    remove(username: string): void {
        this.admin("ldapdelete", [this.dnOf(username)]);
    }

    /** An administrator's reset, as AD's "Reset password": complexity applies, no old password needed. */
    setPassword(username: string, password: string): void {
        this.modify(ldifChange(this.dnOf(username), "replace", "unicodePwd", [unicodePwd(password)]));
    }

    /** Replaces the attribute's values; `null` deletes the attribute. */
    setAttribute(username: string, attribute: string, value: string | readonly string[] | null): void {
        const dn = this.dnOf(username);
        if (value === null) {
            this.modify(ldifChange(dn, "delete", attribute, []));
        } else {
            this.modify(ldifChange(dn, "replace", attribute, typeof value === "string" ? [value] : value));
        }
    }
}

function ip(...args: string[]): void {
    const result = spawnSync("ip", args, { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`ip ${args.join(" ")} failed (the DC needs root and iproute2): ${result.stderr}`);
    }
}

function run(command: string, args: string[]): void {
    const result = spawnSync(command, args, { encoding: "utf8" });
    if (result.status !== 0) {
        const hint = result.error ? ` (${result.error.message}; is Debian's samba installed?)` : "";
        throw new Error(`${command} ${args[0]} ${args[1]} failed${hint}: ${result.stdout}${result.stderr}`);
    }
}

function tlsHandshake(ca: string): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = tls.connect({ host: address, port: 636, servername: hostname, ca, timeout: 2000 });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.once("secureConnect", () => done(true));
        socket.once("error", () => done(false));
        socket.once("timeout", () => done(false));
    });
}

/** Namespaces and dirs of test processes that died without cleaning up (ours included: pids get reused). */
function removeStaleLeftovers(): void {
    const stale = (name: string, pattern: RegExp) => {
        const pid = pattern.exec(name)?.[1];
        return pid !== undefined && (Number(pid) === process.pid || !pidAlive(Number(pid)));
    };
    removeStaleNamespaces(/^mmdc(\d+)$/);
    for (const entry of fs.readdirSync(os.tmpdir())) {
        if (stale(entry, /^mmdc(\d+)-\w{6}$/)) {
            fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
        }
    }
}

/** AD takes a password set over LDAP as unicodePwd: the quoted password in UTF-16LE. */
function unicodePwd(password: string): Buffer {
    return Buffer.from(`"${password}"`, "utf16le");
}

/** RFC 2849: a value that is not a safe string goes base64 (`::`). */
function ldifLine(attribute: string, value: string | Buffer): string {
    if (
        typeof value === "string" &&
        /^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value) &&
        !value.endsWith(" ")
    ) {
        return `${attribute}: ${value}`;
    }
    return `${attribute}:: ${Buffer.from(value).toString("base64")}`;
}

function ldifRecord(dn: string, attributes: readonly (readonly [string, string | Buffer])[]): string {
    return [ldifLine("dn", dn), ...attributes.map(([name, value]) => ldifLine(name, value))].join("\n") + "\n";
}

function ldifChange(
    dn: string,
    operation: "add" | "replace" | "delete",
    attribute: string,
    values: readonly (string | Buffer)[],
): string {
    const lines = [ldifLine("dn", dn), "changetype: modify", `${operation}: ${attribute}`];
    return [...lines, ...values.map((value) => ldifLine(attribute, value)), "-"].join("\n") + "\n";
}

/** Entries of `ldapsearch -LLL -o ldif-wrap=no` output, attribute names as the server spells them. */
export function parseLdif(text: string): LdifEntry[] {
    return text.split(/\n\n+/).flatMap((block) => {
        const attributes: Record<string, string[]> = {};
        for (const line of block.split("\n")) {
            const match = /^([\w;.-]+)(::?) ?(.*)$/.exec(line);
            if (match) {
                const value = match[2] === "::" ? Buffer.from(match[3], "base64").toString("utf8") : match[3];
                (attributes[match[1]] ??= []).push(value);
            }
        }
        const { dn, ...rest } = attributes;
        return dn ? [{ dn: dn[0], attributes: rest }] : [];
    });
}

/** RFC 4514 escaping of an attribute value inside a DN. */
export function escapeDnValue(value: string): string {
    return value
        .replace(/[\\,+"<>;=]/g, (character) => `\\${character}`)
        .replace(/^[ #]/, (character) => `\\${character}`)
        .replace(/ $/, "\\ ");
}

/** RFC 4515 escaping of a value inside a search filter. */
export function escapeFilter(value: string): string {
    return value.replace(/[*()\\\0]/g, (character) => `\\${character.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
