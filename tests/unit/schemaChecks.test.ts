/** The value checks of config/schemas.ts on what they must let through, beside what the catalogue refuses. */
import {
    cidrListProblems,
    cronProblem,
    hostAndPortProblem,
    isHostName,
    isIpAddress,
    ldapFilterProblem,
} from "../../config/schemas";

describe("the value checks", () => {
    it.each(["*/5 * * * *", "0 3 * * mon-fri", "15,45 */2 1-15 jan-jun 0-7", "0 0 31 12 sun", "59 23 * * *"])(
        "takes the cron schedule %s",
        (schedule) => {
            expect(cronProblem(schedule)).toBeUndefined();
        },
    );

    it.each([
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "5-1 * * * *",
        "*/0 * * * *",
        "* * * *",
    ])("refuses the cron schedule %s", (schedule) => {
        expect(cronProblem(schedule)).toBeDefined();
    });

    it("tells names from mistyped addresses, and knows DNS's length", () => {
        expect(isHostName("chat.example.com")).toBe(true);
        expect(isHostName(`${"a".repeat(63)}.example.com`)).toBe(true);
        expect(isHostName(`${"a".repeat(64)}.example.com`)).toBe(false);
        expect(isHostName(`${"a".repeat(60)}.`.repeat(4) + "example.com")).toBe(false);
        expect(isHostName("10.96.0.300")).toBe(false);
        expect(isIpAddress("10.96.0.10")).toBe(true);
        expect(isIpAddress("10.96.0.300")).toBe(false);
        expect(isIpAddress("10.1")).toBe(false);
        expect(isIpAddress("fd00::10")).toBe(true);
    });

    it("takes host:port only with a port from 1 to 65535", () => {
        expect(hostAndPortProblem("s3.example.com", false)).toBeUndefined();
        expect(hostAndPortProblem("s3.example.com:65535", false)).toBeUndefined();
        expect(hostAndPortProblem("10.0.0.5:1", true)).toBeUndefined();
        expect(hostAndPortProblem("s3.example.com", true)).toContain("has no port");
        expect(hostAndPortProblem("s3.example.com:65536", false)).toContain("from 1 to 65535");
        expect(hostAndPortProblem("s3.example.com:0", false)).toContain("from 1 to 65535");
    });

    it("takes well-formed LDAP filters, escapes included", () => {
        expect(ldapFilterProblem("(memberOf=CN=Chat-Users,OU=Groups,DC=corp,DC=example,DC=com)")).toBeUndefined();
        expect(
            ldapFilterProblem("(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"),
        ).toBeUndefined();
        expect(ldapFilterProblem("(cn=Smith \\28Ops\\29)")).toBeUndefined();
        expect(ldapFilterProblem("(cn=a))(")).toBeDefined();
        expect(ldapFilterProblem("(cn=a)(cn=b)")).toBeDefined();
        expect(ldapFilterProblem("(&())")).toBeDefined();
    });

    it("takes separate networks of both families, and refuses only what admits too much or overlaps", () => {
        expect(cidrListProblems(["10.0.0.0/8", "192.168.0.0/16", "fd00:10::/64"])).toEqual([]);
        expect(cidrListProblems(["::/1", "8000::/1"])).toEqual([expect.stringContaining("every IPv6 address")]);
        expect(cidrListProblems(["fe80::1/128"])).toEqual([expect.stringContaining("link-local")]);
        expect(cidrListProblems(["10.0.0.0/8", "10.1.2.3/32"])).toEqual([expect.stringContaining("overlap")]);
    });
});
