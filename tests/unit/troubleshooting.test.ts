import { badInputs } from "../../config/troubleshooting";
import { validateStackConfig } from "../../config/validate";
import { completeStackConfig } from "../helpers/stackFixtures";

describe("the catalogue of bad input", () => {
    it("has at least 30 entries, each a different problem", () => {
        expect(badInputs.length).toBeGreaterThanOrEqual(30);
        expect(new Set(badInputs.map((entry) => entry.problem)).size).toBe(badInputs.length);
    });

    it.each(["test", "prod"] as const)("starts from a %s stack that is valid when complete", (stack) => {
        const { raw, secretKeys } = completeStackConfig(stack);
        const result = validateStackConfig(raw, secretKeys);
        expect([...result.errors, ...result.missingSecrets, ...result.missingValues]).toEqual([]);
    });

    it.each(badInputs.map((entry) => [entry.problem, entry] as const))(
        "%s: answered with its message",
        (_problem, entry) => {
            const { raw, secretKeys } = completeStackConfig(entry.base);
            const changed: Record<string, string | undefined> = { ...raw, ...entry.change };
            for (const key of Object.keys(entry.change)) {
                if (entry.plainText) {
                    secretKeys.delete(key);
                }
                if (entry.encrypted) {
                    secretKeys.add(key);
                }
            }
            const result = validateStackConfig(changed, secretKeys);
            const messages = [
                ...result.errors,
                ...result.missingSecrets.map((missing) => missing.message),
                ...result.missingValues.map((missing) => missing.message),
            ];
            expect(messages).toEqual([entry.message]);
        },
    );
});
