/**
 * The tools stop only what they started, by process id. A stop by name (pkill, killall, pgrep piped to
 * kill) also reaches processes that only look the same: `pkill -x sshd` ends the developer's own SSH
 * session, `pkill nginx` the machine's web server. This walks every file the CI and the tests run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { projectDir, projectFiles } from "../helpers/render";

/** Every way of signalling processes chosen by name rather than by a pid the tool holds. */
const byName: readonly { readonly pattern: RegExp; readonly what: string }[] = [
    { pattern: /\bpkill\b/, what: "pkill" },
    { pattern: /\bkillall\b/, what: "killall" },
    { pattern: /\bpgrep\b[^\n]*\|\s*xargs\s+kill\b/, what: "pgrep piped to kill" },
    { pattern: /\bkill\b[^\n]*\$\(\s*pgrep\b/, what: "kill of pgrep's output" },
    { pattern: /\bkill\b[^\n]*\$\(\s*pidof\b/, what: "kill of pidof's output" },
    { pattern: /\bfuser\b[^\n]*\s-k\b/, what: "fuser -k" },
];

const ownFile = path.relative(projectDir, __filename);

/** What CI and the tests run: the CI script, the npm scripts, the programs, the tests and their fixtures. */
const walked = [".ci/run", "package.json", "scripts", "tests", "components", "config", "index.ts"]
    .flatMap(projectFiles)
    .filter((file) => /\.(ts|js|sh|json|yaml|yml|conf|go|service)$|^\.ci\/run$/.test(file) && file !== ownFile);

describe("processes stopped by the tools", () => {
    it("walks the CI script and the test files", () => {
        expect(walked).toEqual(expect.arrayContaining([".ci/run", "package.json", "tests/helpers/netns.ts"]));
    });

    it("has no stop by name in any of them", () => {
        const found = walked.flatMap((file) => {
            const text = fs.readFileSync(path.join(projectDir, file), "utf8");
            return byName.flatMap(({ pattern, what }) => {
                const match = pattern.exec(text);
                return match ? [`${file}: ${what} (${match[0]})`] : [];
            });
        });
        expect(found).toEqual([]);
    });

    it("would catch the stops by name CI once had", () => {
        const once = ["pkill -x sshd || true", "killall nginx", "kill $(pgrep postgres)", "pgrep -f x | xargs kill"];
        expect(once.filter((line) => byName.some(({ pattern }) => pattern.test(line)))).toEqual(once);
    });
});
