/**
 * Writes the settings schemas the validation holds `mattermostSettings` to (config/mattermostSchema.ts):
 *
 * - `config/mattermost/settings/<major.minor>.json`, one per release a stack may pin: every setting with
 *   the kind of value it takes, from that release's `@mattermost/types` (the `AdminConfig` type, read
 *   with the TypeScript compiler; the packages are devDependencies named `mattermost-types-<minor>`).
 *   The fast suite fails while a file disagrees with its package; the chat suite compares the 11.4
 *   package with the real 11.4 server's own config struct.
 * - `config/mattermost/settingsSecrets.json`: what the real server masks as secret (`Config.Sanitize`),
 *   from tests/toolchain/mattermost/settingsprobe (`--secrets` only, since it builds the server).
 *
 *   npm run -s settings-schema                 write the per-release files
 *   npm run -s settings-schema -- --secrets    and the secrets file
 *   npm run -s settings-schema -- --check      exit 1 if a per-release file is not what its package says
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { stableJson } from "../config/mattermostSettings";
import type { ReleaseSettings, ServerSecrets } from "../config/mattermostSchema";
import { mattermostBuild, mattermostCommit, mattermostServerVersion } from "./toolchain/peers";

const projectDir = path.join(__dirname, "..");
const typesPackagePrefix = "mattermost-types-";

/** The `mattermost-types-<minor>` packages of package.json, by release line. */
export function typesPackages(): Record<string, string> {
    const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
        devDependencies: Record<string, string>;
    };
    return Object.fromEntries(
        Object.keys(manifest.devDependencies)
            .filter((name) => name.startsWith(typesPackagePrefix))
            .map((name) => [name.slice(typesPackagePrefix.length), name]),
    );
}

/** How the server's environment loader reads a value of this type (the kinds of settingsprobe). */
function kindOf(type: ts.Type, checker: ts.TypeChecker): string {
    const withoutNull = type.isUnion()
        ? type.types.filter((member) => !(member.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)))
        : [type];
    const every = (flag: ts.TypeFlags) => withoutNull.every((member) => member.flags & flag);
    if (every(ts.TypeFlags.BooleanLike)) {
        return "bool";
    }
    if (every(ts.TypeFlags.NumberLike)) {
        return "integer";
    }
    if (every(ts.TypeFlags.StringLike)) {
        return "string";
    }
    const [single] = withoutNull;
    if (withoutNull.length !== 1 || !single) {
        throw new Error(`a setting of type ${checker.typeToString(type)} has no kind`);
    }
    if (checker.isArrayType(single)) {
        const [item] = checker.getTypeArguments(single as ts.TypeReference);
        return item && item.flags & ts.TypeFlags.StringLike ? "list" : "structList";
    }
    if (single.flags & ts.TypeFlags.Object) {
        return checker.getIndexInfosOfType(single).length > 0 ? "map" : "struct";
    }
    throw new Error(`a setting of type ${checker.typeToString(type)} has no kind`);
}

/** Every section and key of `AdminConfig` in a `@mattermost/types` package, with its kind. */
export function readReleaseSettings(packageName: string): ReleaseSettings {
    const packageDir = path.join(projectDir, "node_modules", packageName);
    const version = (JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string })
        .version;
    const file = path.join(packageDir, "lib", "config.d.ts");
    const program = ts.createProgram([file], { strict: true, noEmit: true });
    const checker = program.getTypeChecker();
    const adminConfig = program
        .getSourceFile(file)
        ?.statements.find(
            (statement): statement is ts.TypeAliasDeclaration =>
                ts.isTypeAliasDeclaration(statement) && statement.name.text === "AdminConfig",
        );
    if (!adminConfig) {
        throw new Error(`${file} declares no AdminConfig`);
    }
    const sections: Record<string, Record<string, string>> = {};
    for (const section of checker.getTypeAtLocation(adminConfig.name).getProperties()) {
        const keys: Record<string, string> = {};
        for (const key of checker.getTypeOfSymbolAtLocation(section, adminConfig).getProperties()) {
            keys[key.name] = kindOf(checker.getTypeOfSymbolAtLocation(key, adminConfig), checker);
        }
        sections[section.name] = keys;
    }
    return { source: `@mattermost/types ${version}`, sections };
}

/** The real server's own schema and secrets, from settingsprobe. */
export function probedServer(): { sections: ReleaseSettings["sections"]; secrets: ServerSecrets } {
    const reported = JSON.parse(execFileSync(mattermostBuild().settingsProbe, ["schema"], { encoding: "utf8" })) as {
        sections: ReleaseSettings["sections"];
        secrets: string[];
    };
    return {
        sections: reported.sections,
        secrets: { source: `Mattermost ${mattermostServerVersion} (${mattermostCommit})`, secrets: reported.secrets },
    };
}

export function jsonText(value: unknown): string {
    return `${JSON.stringify(JSON.parse(stableJson(value)), null, 4)}\n`;
}

export function releaseFile(line: string): string {
    return path.join(projectDir, "config", "mattermost", "settings", `${line}.json`);
}

function main(): void {
    const stale: string[] = [];
    for (const [line, packageName] of Object.entries(typesPackages())) {
        const text = jsonText(readReleaseSettings(packageName));
        if (process.argv.includes("--check")) {
            if (!fs.existsSync(releaseFile(line)) || fs.readFileSync(releaseFile(line), "utf8") !== text) {
                stale.push(path.relative(projectDir, releaseFile(line)));
            }
        } else {
            fs.mkdirSync(path.dirname(releaseFile(line)), { recursive: true });
            fs.writeFileSync(releaseFile(line), text);
        }
    }
    if (process.argv.includes("--secrets")) {
        const file = path.join(projectDir, "config", "mattermost", "settingsSecrets.json");
        fs.writeFileSync(file, jsonText(probedServer().secrets));
    }
    if (stale.length > 0) {
        process.stderr.write(`${stale.join(", ")}: not what the packages say; run npm run -s settings-schema\n`);
        process.exit(1);
    }
}

if (require.main === module) {
    main();
}
