/**
 * The README's command blocks that the engine tests run as written: each follows a marker comment
 * `<!-- run by tests/engine: NAME -->` and is the next ```bash block.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { projectDir } from "./pulumiCli";

export function readmeBlock(name: string): string {
    const readme = fs.readFileSync(path.join(projectDir, "README.md"), "utf8");
    const marker = `<!-- run by tests/engine: ${name} -->`;
    const at = readme.indexOf(marker);
    if (at < 0) {
        throw new Error(`README.md has no block marked ${marker}`);
    }
    const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(at));
    if (!block?.[1]) {
        throw new Error(`README.md has no bash block after ${marker}`);
    }
    return block[1];
}
