/**
 * How another team's Pulumi program reads this stack's outputs (README, Stack outputs). The outputs it
 * may rely on, with their types and secretness, are the contract in config/outputs.ts. With the local
 * state backend the stack's full name is organization/mattermost/<stack>.
 */
import * as pulumi from "@pulumi/pulumi";

const chat = new pulumi.StackReference(new pulumi.Config().require("chatStack"));

/** Plain outputs read as they are. */
export const chatUrl = chat.requireOutput("url") as pulumi.Output<string>;
export const issuer = chat.requireOutput("keycloakIssuer") as pulumi.Output<string>;
export const services = chat.requireOutput("services") as pulumi.Output<Record<string, string>>;

/**
 * Secret outputs stay secret in the reading stack too: pass them on, never print them. The push VM's
 * outputs exist only in stacks with `pushHost`, so they are read as optional.
 */
export const pushUrl = chat.getOutput("pushUrl") as pulumi.Output<string | undefined>;
