/** The comparison of a rendered object with the live one, which the engine tests rely on to find drift. */
import { differences, stringMatches, withRealNames } from "../engine/helpers/compare";

describe("a rendered string against the live one", () => {
    it("takes a placeholder for any text, and only there", () => {
        expect(stringMatches("postgres://mm:<secret:databasePassword>@db/mm", "postgres://mm:s3cr3t@db/mm")).toBe(true);
        expect(stringMatches("postgres://mm:<secret:databasePassword>@db/mm", "postgres://mm:s3cr3t@db/other")).toBe(
            false,
        );
        expect(stringMatches("<certificate:ca>", "")).toBe(false);
        expect(stringMatches("a.b", "axb")).toBe(false);
    });
});

describe("a rendered object against the live one", () => {
    it("ignores what the server adds, and finds what it changed or lost", () => {
        const rendered = { spec: { replicas: 1, ports: [{ port: 80 }] } };
        expect(
            differences(rendered, { spec: { replicas: 1, ports: [{ port: 80, protocol: "TCP" }] }, status: {} }),
        ).toEqual([]);
        expect(differences(rendered, { spec: { replicas: 2, ports: [{ port: 80 }] } })).toEqual([
            ".spec.replicas: rendered 1, live 2",
        ]);
        expect(differences(rendered, { spec: { replicas: 1, ports: [] } })).toHaveLength(1);
        expect(differences(rendered, { spec: { ports: [{ port: 80 }] } })).toEqual([
            ".spec.replicas: rendered 1, not live",
        ]);
    });

    it("takes numbers and their text as one value, and an omitted empty value as the empty one", () => {
        expect(differences({ cpu: 1, env: [{ name: "A", value: "" }] }, { cpu: "1", env: [{ name: "A" }] })).toEqual(
            [],
        );
    });

    it("compares a Secret's stringData with the data the server keeps", () => {
        const live = { data: { password: Buffer.from("generated").toString("base64") } };
        expect(differences({ stringData: { password: "<secret:random:pw>" } }, live)).toEqual([]);
        expect(differences({ stringData: { password: "fixed" } }, live)).toHaveLength(1);
    });
});

it("maps rendered auto-names to the deployed ones, references included", () => {
    const names = new Map([["settings-0a1b2c3d", "settings-9f8e7d6c"]]);
    expect(
        withRealNames({ metadata: { name: "settings-0a1b2c3d" }, ref: { name: "settings-0a1b2c3d" } }, names),
    ).toEqual({
        metadata: { name: "settings-9f8e7d6c" },
        ref: { name: "settings-9f8e7d6c" },
    });
});
