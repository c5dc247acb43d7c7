/**
 * docs/benchmarks.md holds one section per benchmark command, each between its own markers, so that
 * every command rewrites its section and leaves the others as they are.
 */
import * as fs from "node:fs";
import * as prettier from "prettier";

function markers(name: string): { start: string; end: string } {
    return {
        start: `<!-- benchmark:${name}:start (written by its command; edits are overwritten) -->`,
        end: `<!-- benchmark:${name}:end -->`,
    };
}

export async function writeSection(target: string, name: string, text: string): Promise<void> {
    const { start, end } = markers(name);
    const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
    const section = `${start}\n\n${text.trim()}\n\n${end}`;
    const from = current.indexOf(start);
    const to = current.indexOf(end);
    const next =
        from >= 0 && to > from
            ? `${current.slice(0, from)}${section}${current.slice(to + end.length)}`
            : `${current.trimEnd()}${current.trim() ? "\n\n" : ""}${section}\n`;
    // Formatted as the repository's prettier check wants it.
    const options = { ...(await prettier.resolveConfig(target)), filepath: target };
    fs.writeFileSync(target, await prettier.format(next, options));
}
