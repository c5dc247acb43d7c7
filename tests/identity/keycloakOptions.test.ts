/**
 * Keycloak ignores a `KC_*` variable that names no option of its own, so a misspelt or renamed one would
 * leave a setting at its default without a word. Every `KC_*` variable each stack renders for Keycloak
 * must be an option of the pinned Keycloak (its own `kc.sh start --help-all`, the distribution of the
 * toolchain cache), with a value among the ones it lists where it lists them.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { syslogMaxMessageBytes } from "../../config/filebeat";
import { keycloakDistDir } from "../../scripts/toolchain/keycloak";
import { findDeployment, keycloakContainer } from "../helpers/keycloakServer";
import { renderStack, type Rendered } from "../helpers/render";

interface KeycloakOption {
    readonly name: string;
    /** The values `Possible values are: ...` lists, when it lists them. */
    readonly values?: readonly string[];
}

/** The options of `kc.sh start`, as its help lists them: `--name <value>` and the text below it. */
function startOptions(): Map<string, KeycloakOption> {
    const help = spawnSync(path.join(keycloakDistDir(), "bin", "kc.sh"), ["start", "--help-all"], {
        encoding: "utf8",
        timeout: 120000,
    });
    if (help.status !== 0) {
        throw new Error(`kc.sh start --help-all failed: ${help.stderr}`);
    }
    const options = new Map<string, KeycloakOption>();
    const blocks = help.stdout.split(/\n(?=--[a-z])/);
    for (const block of blocks) {
        const name = /^--([a-z0-9-]+)/.exec(block)?.[1];
        if (!name) {
            continue;
        }
        const text = block.replace(/\s+/g, " ");
        const listed = /Possible values are: (.*?)\./.exec(text)?.[1];
        options.set(name, {
            name,
            values: listed?.split(",").map((value) => value.trim().replace(/ \(deprecated\)$/, "")),
        });
    }
    return options;
}

let options: Map<string, KeycloakOption>;
const stacks: Record<string, Rendered> = {};

beforeAll(() => {
    options = startOptions();
    for (const stack of ["test", "prod"]) {
        stacks[stack] = renderStack(stack);
    }
}, 300000);

afterAll(() => {
    for (const rendered of Object.values(stacks)) {
        fs.rmSync(rendered.dir, { recursive: true, force: true });
    }
});

function keycloakVariables(stack: string): { name: string; value?: string }[] {
    const rendered = stacks[stack];
    if (!rendered) {
        throw new Error(`stack ${stack} was not rendered`);
    }
    return (keycloakContainer(findDeployment(rendered.manifests)).env ?? []).filter((entry) =>
        entry.name.startsWith("KC_"),
    );
}

describe("the Keycloak options the stacks set", () => {
    it("reads the options of the pinned Keycloak's own help", () => {
        expect(options.get("log-syslog-output")?.values).toEqual(["default", "json"]);
        expect(options.size).toBeGreaterThan(100);
    });

    it.each(["test", "prod"])("%s: every KC_ variable is an option of Keycloak, with a value it accepts", (stack) => {
        const variables = keycloakVariables(stack);
        expect(variables.length).toBeGreaterThan(10);
        const problems = variables.flatMap(({ name, value }) => {
            const option = options.get(name.slice("KC_".length).toLowerCase().replace(/_/g, "-"));
            if (!option) {
                return [`${name} is no option of kc.sh start`];
            }
            if (
                option.values &&
                value !== undefined &&
                !value.split(",").every((one) => option.values?.includes(one))
            ) {
                return [`${name}=${value}: Keycloak takes ${option.values.join(", ")}`];
            }
            return [];
        });
        expect(problems).toEqual([]);
    });

    it("prod: sends its syslog messages up to the size the Filebeat sidecar takes, not Keycloak's default", () => {
        const variables = new Map(keycloakVariables("prod").map(({ name, value }) => [name, value]));
        expect(variables.get("KC_LOG")?.split(",")).toContain("syslog");
        expect(variables.get("KC_LOG_SYSLOG_MAX_LENGTH")).toBe(String(syslogMaxMessageBytes));
    });
});
