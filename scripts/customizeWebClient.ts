/**
 * The web-client edit of the image build (config/customImage.ts): `node customize-web-client.js <client
 * directory> <replacements.json>`. Runs in a build stage on a copy of Mattermost's /mattermost/client.
 * Every `find` must occur exactly `count` times across the client's text files, or nothing is written
 * and the build fails: the compiled bundles change with every release, and a silent miss would ship
 * the upstream text. Compressed twins (.gz, .br) of an edited file are written again, so a server or
 * proxy that prefers them cannot serve the old text. Node built-ins only: it runs without npm.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

export interface Replacement {
    readonly find: string;
    readonly replace: string;
    readonly count: number;
}

export interface EditResult {
    /** Files changed, relative to the client directory, sorted. */
    readonly changedFiles: readonly string[];
    /** One line per replacement whose count was wrong; when any, nothing was written. */
    readonly problems: readonly string[];
}

const textExtensions = new Set([".js", ".json", ".html", ".css", ".map", ".txt"]);

function textFiles(directory: string, relative = ""): string[] {
    const files: string[] = [];
    for (const entry of fs.readdirSync(path.join(directory, relative), { withFileTypes: true })) {
        const entryPath = path.join(relative, entry.name);
        // Plugins' own client code is theirs: it is installed at start and not part of this edit.
        if (entry.isDirectory() && entryPath !== "plugins") {
            files.push(...textFiles(directory, entryPath));
        } else if (entry.isFile() && textExtensions.has(path.extname(entry.name))) {
            files.push(entryPath);
        }
    }
    return files.sort();
}

function occurrences(text: string, find: string): number {
    return text.split(find).length - 1;
}

export function parseReplacements(text: string): Replacement[] {
    const parsed = JSON.parse(text) as unknown;
    const valid =
        Array.isArray(parsed) &&
        parsed.every(
            (item: unknown) =>
                item !== null &&
                typeof item === "object" &&
                typeof (item as Replacement).find === "string" &&
                (item as Replacement).find !== "" &&
                typeof (item as Replacement).replace === "string" &&
                Number.isInteger((item as Replacement).count),
        );
    if (!valid) {
        throw new Error("replacements: expected a JSON list of {find, replace, count}");
    }
    return parsed as Replacement[];
}

export function editWebClient(clientDirectory: string, replacements: readonly Replacement[]): EditResult {
    const files = textFiles(clientDirectory);
    const contents = new Map(files.map((file) => [file, fs.readFileSync(path.join(clientDirectory, file), "utf8")]));
    const problems: string[] = [];
    for (const { find, count } of replacements) {
        let found = 0;
        for (const text of contents.values()) {
            found += occurrences(text, find);
        }
        if (found !== count) {
            problems.push(
                `${JSON.stringify(find)} occurs ${found} time(s) in ${clientDirectory}, not ${count}: the web client changed. Look at its files again and update webClientReplacements`,
            );
        }
    }
    if (problems.length > 0) {
        return { changedFiles: [], problems };
    }
    const changedFiles: string[] = [];
    for (const [file, original] of contents) {
        const edited = replacements.reduce((text, { find, replace }) => text.split(find).join(replace), original);
        if (edited === original) {
            continue;
        }
        const absolute = path.join(clientDirectory, file);
        fs.writeFileSync(absolute, edited);
        if (fs.existsSync(`${absolute}.gz`)) {
            fs.writeFileSync(`${absolute}.gz`, zlib.gzipSync(edited, { level: 9 }));
        }
        if (fs.existsSync(`${absolute}.br`)) {
            fs.writeFileSync(`${absolute}.br`, zlib.brotliCompressSync(edited));
        }
        changedFiles.push(file);
    }
    return { changedFiles, problems };
}

function main(argv: readonly string[]): number {
    const [clientDirectory, replacementsFile] = argv;
    if (!clientDirectory || !replacementsFile) {
        console.error("usage: customize-web-client.js <client directory> <replacements.json>");
        return 2;
    }
    const result = editWebClient(clientDirectory, parseReplacements(fs.readFileSync(replacementsFile, "utf8")));
    for (const problem of result.problems) {
        console.error(problem);
    }
    if (result.problems.length > 0) {
        return 1;
    }
    console.log(`Edited ${result.changedFiles.length} file(s): ${result.changedFiles.join(", ")}`);
    return 0;
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
