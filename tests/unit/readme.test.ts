/** The README's list of npm scripts is package.json's: a script added or renamed without a line fails here. */
import * as fs from "node:fs";
import * as path from "node:path";

const projectDir = path.resolve(__dirname, "..", "..");

function documentedScripts(readme: string): Map<string, string> {
    const section = /<!-- npm-scripts:start[^>]*-->([\s\S]*?)<!-- npm-scripts:end -->/.exec(readme)?.[1];
    if (!section) {
        throw new Error("README.md has no npm-scripts section");
    }
    const rows = new Map<string, string>();
    for (const [, command, description] of section.matchAll(/^\| `npm (?:run )?([^` ]+)` +\| (.*?) *\|$/gm)) {
        if (command && description !== undefined) {
            rows.set(command, description);
        }
    }
    return rows;
}

describe("the README's npm scripts", () => {
    const readme = fs.readFileSync(path.join(projectDir, "README.md"), "utf8");
    const scripts = Object.keys(
        (JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { scripts: object }).scripts,
    );

    it("has a line for every script of package.json, and none for a script it does not have", () => {
        expect([...documentedScripts(readme).keys()].sort()).toEqual([...scripts].sort());
    });

    it("says what each one does", () => {
        const empty = [...documentedScripts(readme)].filter(([, description]) => description.length < 20);
        expect(empty).toEqual([]);
    });

    it("reads a table row the way it is written", () => {
        const sample = [
            "<!-- npm-scripts:start -->",
            "| `npm test`          | the fast suite, all of it |",
            "| `npm run docs:check` | fails when a generated part is stale |",
            "<!-- npm-scripts:end -->",
        ].join("\n");
        expect([...documentedScripts(sample).keys()]).toEqual(["test", "docs:check"]);
    });
});
