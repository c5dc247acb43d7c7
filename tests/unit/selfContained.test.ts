/**
 * What a reader of this repository gets must stand on its own: the README, the docs, the stack files and
 * every message the program prints name nothing outside the repository (the design notes it was built
 * from, their decision numbers, the issues it was built for). Code comments may; messages may not, so
 * the program's string literals are read with the TypeScript parser.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { projectDir, projectFiles } from "../helpers/render";
import { renderDeprovisionScript, renderGuardScript, renderRealmApplyScript } from "../../config/guard";

/** A design note outside the repository, its decision numbers, or an issue by number or title. */
const outsideReference = /\.\.\/shared\b|\bDESIGN(\.md\b| decision\b)|\b[Ii]ssues? #?\d+\b|\b[Ii]ssue "[^"]+"/;

/** The files of a path of the repository whose names end in `extension`. */
function filesUnder(relative: string, extension: string): string[] {
    return projectFiles(relative).filter((file) => file.endsWith(extension));
}

/** The texts a program's string literals and templates hold, with their line numbers. */
function literalsOf(file: string, text: string): { line: number; text: string }[] {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const found: { line: number; text: string }[] = [];
    const visit = (node: ts.Node): void => {
        if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
            found.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text });
        } else if (ts.isTemplateExpression(node)) {
            const parts = [node.head.text, ...node.templateSpans.map((span) => span.literal.text)];
            found.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: parts.join("…") });
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

function documentProblems(file: string): string[] {
    return fs
        .readFileSync(path.join(projectDir, file), "utf8")
        .split("\n")
        .flatMap((line, index) => (outsideReference.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : []));
}

function programProblems(file: string): string[] {
    return literalsOf(file, fs.readFileSync(path.join(projectDir, file), "utf8"))
        .filter(({ text }) => outsideReference.test(text))
        .map(({ line, text }) => `${file}:${line}: ${text.slice(0, 160)}`);
}

describe("what a reader gets refers to nothing outside the repository", () => {
    const documents = [
        "README.md",
        ...filesUnder("docs", ".md"),
        ...fs.readdirSync(projectDir).filter((name) => /^Pulumi(\.[A-Za-z0-9_-]+)?\.yaml$/.test(name)),
    ];
    const programs = [
        "index.ts",
        ...filesUnder("config", ".ts"),
        ...filesUnder("components", ".ts"),
        ...filesUnder("scripts", ".ts"),
    ];

    it("reads the documents and the program's sources", () => {
        expect(documents).toEqual(expect.arrayContaining(["README.md", "Pulumi.yaml", "Pulumi.prod.yaml"]));
        expect(programs).toEqual(expect.arrayContaining(["index.ts", "config/validate.ts", "scripts/render.ts"]));
    });

    it("the README, the docs and the stack files", () => {
        expect(documents.flatMap(documentProblems)).toEqual([]);
    });

    it("the program's messages and rendered texts", () => {
        expect(programs.flatMap(programProblems)).toEqual([]);
    });

    it("the programs the pods run, comments and all, as their ConfigMaps ship them", () => {
        const shipped = {
            "failover-guard.js": renderGuardScript(),
            "deprovision.js": renderDeprovisionScript(),
            "realm-apply.js": renderRealmApplyScript(),
        };
        const found = Object.entries(shipped).flatMap(([name, text]) =>
            text
                .split("\n")
                .flatMap((line, index) =>
                    outsideReference.test(line) ? [`${name}:${index + 1}: ${line.trim()}`] : [],
                ),
        );
        expect(found).toEqual([]);
    });

    it("would catch each form of reference, in a message and not in a comment", () => {
        const sample = [
            "// DESIGN decision 4 explains why (a comment: allowed)",
            'const a = "see DESIGN decision 1";',
            "const b = `read ../shared/DESIGN.md for ${reason}`;",
            'const c = "the targets (issue 6)";',
            'const d = `as issue "The real chat" ${says}`;',
        ].join("\n");
        expect(
            literalsOf("sample.ts", sample)
                .filter(({ text }) => outsideReference.test(text))
                .map(({ line }) => line),
        ).toEqual([2, 3, 4, 5]);
    });
});
