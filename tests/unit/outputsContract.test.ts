/**
 * The stack outputs as a contract (config/outputs.ts): both stacks rendered, every output compared with
 * it. Removing, renaming or retyping an output, or letting a secret one go plain, fails here; so does
 * adding one without putting it in the contract (and so in the README's table).
 */
import { outputContract, type OutputContract } from "../../config/outputs";
import { renderBothStacks, type Rendered } from "../helpers/render";

const stacks: Record<string, Rendered> = renderBothStacks();

/** What the render shows of an output: its type, and whether it is secret (`{"secret": ...}`). */
function shape(value: unknown): { type: string; secret: boolean; keys?: string[] } {
    const secret = value !== null && typeof value === "object" && Object.keys(value).join() === "secret";
    const inner = secret ? (value as { secret: unknown }).secret : value;
    return {
        type: typeof inner,
        secret,
        ...(inner !== null && typeof inner === "object" ? { keys: Object.keys(inner).sort() } : {}),
    };
}

const conditions: Record<string, Record<NonNullable<OutputContract["when"]>, boolean>> = {
    // Neither stack file holds the admin token, so neither creates webhooks (the secrets audit does).
    test: { pushHost: true, testUsers: true, incomingWebhooks: false },
    prod: { pushHost: true, testUsers: false, incomingWebhooks: false },
};

describe.each(["test", "prod"])("the %s stack's outputs", (stack) => {
    it("are exactly the contract's, each with its type and secretness", () => {
        const outputs = stacks[stack].outputs;
        const expected = Object.entries(outputContract as Record<string, OutputContract>).filter(
            ([, contract]) => !contract.when || conditions[stack][contract.when],
        );
        expect(Object.keys(outputs).sort()).toEqual(expected.map(([name]) => name).sort());
        for (const [name, contract] of expected) {
            expect([name, shape(outputs[name])]).toEqual([
                name,
                {
                    type: contract.type,
                    secret: contract.secret,
                    ...(contract.keys ? { keys: [...contract.keys] } : {}),
                },
            ]);
        }
    });
});
