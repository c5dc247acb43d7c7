import * as pulumi from "@pulumi/pulumi";

export interface Registered {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
}

/**
 * Pulumi's mock runtime, recording every resource the code under test registers. Kubernetes objects
 * without a name get `<logical name>-auto`, as a stand-in for Pulumi's auto-naming.
 */
export async function recordResources(stack = "unit"): Promise<Registered[]> {
    const registered: Registered[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = args.inputs as Record<string, any>;
                registered.push({ type: args.type, name: args.name, inputs });
                let state = inputs;
                if (args.type.startsWith("kubernetes:") && inputs.metadata?.name === undefined) {
                    state = { ...inputs, metadata: { ...inputs.metadata, name: `${args.name}-auto` } };
                }
                if (args.type === "random:index/randomPassword:RandomPassword") {
                    state = { ...inputs, result: `random-${args.name}` };
                }
                if (args.type === "tls:index/privateKey:PrivateKey") {
                    state = { ...inputs, privateKeyPem: `key-${args.name}` };
                }
                if (args.type.endsWith("SignedCert")) {
                    state = { ...inputs, certPem: `certificate-${args.name}` };
                }
                return { id: `${args.name}-id`, state };
            },
            call(args) {
                return args.inputs as Record<string, unknown>;
            },
        },
        "mattermost",
        stack,
        false,
    );
    return registered;
}

/** Resolves an Output in a test. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/** Waits until the mock runtime has seen every registration started so far. */
export async function settled(): Promise<void> {
    const settings = (await import("@pulumi/pulumi/runtime/settings")) as unknown as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}

export function ofType(registered: readonly Registered[], type: string): Registered[] {
    return registered.filter((resource) => resource.type === type);
}
