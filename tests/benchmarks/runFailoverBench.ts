/**
 * `npm run bench:failover [-- --write docs/benchmarks.md] [--fault-ms 15000] [--observe-ms 60000]
 * [--servers fake|real] [--save results.json] [--from results.json]`: every fault of the primary against the original design and the project's, in
 * one run, as one table side by side (method in tests/benchmarks/failoverBench.ts and docs/benchmarks.md).
 * With `--servers real`, the real Mattermost pair instead of the fakes (realServers.ts; the toolchain
 * built first), in a section of its own. Needs root (network namespaces), nginx, nftables and curl, as the
 * README's set-up installs them. About 11 minutes each. `--save` keeps the run's results as JSON;
 * `--from` writes the report of a saved run again (after a change to the report's text), running nothing.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { writeSection } from "./sections";
import { projectDir, renderStack } from "../helpers/render";
import { faults, runScenario, type ScenarioResult } from "./failoverBench";
import { RealServers } from "./realServers";
import { judge, renderKeptAliveTable, renderReport, type BenchmarkRun } from "./report";

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            write: { type: "string" },
            "fault-ms": { type: "string", default: "15000" },
            "observe-ms": { type: "string", default: "60000" },
            servers: { type: "string", default: "fake" },
            save: { type: "string" },
            from: { type: "string" },
        },
    });
    if (values.servers !== "fake" && values.servers !== "real") {
        throw new Error(`--servers ${values.servers}: give fake (the default) or real`);
    }
    const run = values.from
        ? (JSON.parse(fs.readFileSync(values.from, "utf8")) as BenchmarkRun)
        : await measureRun(values.servers, Number(values["fault-ms"]), Number(values["observe-ms"]));
    if (values.save) {
        fs.writeFileSync(values.save, `${JSON.stringify(run, null, 1)}\n`);
    }
    const report = renderReport(run, values.servers);
    console.log(`\n${report.table}\n\n${renderKeptAliveTable(run.results)}`);
    for (const verdict of judge(run.results, run.renderMs)) {
        console.log(`${verdict.met ? "met" : "MISSED"}: ${verdict.target}: ${verdict.measured}`);
    }
    if (values.write) {
        const section = values.servers === "real" ? "failover-real" : "failover";
        await writeSection(path.resolve(values.write), section, report.document);
        console.log(`\nwrote the ${section} section of ${values.write}`);
    }
}

async function measureRun(servers: "fake" | "real", faultMs: number, observeMs: number): Promise<BenchmarkRun> {
    const renderStarted = Date.now();
    const render = spawnSync(
        path.join(projectDir, "node_modules", ".bin", "tsx"),
        ["scripts/render.ts", "--stack", "prod", "--out", fs.mkdtempSync(path.join(os.tmpdir(), "bench-render-"))],
        {
            cwd: projectDir,
            encoding: "utf8",
        },
    );
    const renderMs = Date.now() - renderStarted;
    if (render.status !== 0) {
        throw new Error(`the render of prod failed: ${render.stderr}`);
    }
    console.log(`npm run render -- --stack prod: ${(renderMs / 1000).toFixed(1)} s`);

    const rendered = renderStack("test");
    const real = servers === "real" ? await RealServers.start(rendered) : undefined;
    const results: ScenarioResult[] = [];
    try {
        for (const fault of faults) {
            for (const design of ["original", "project"] as const) {
                process.stdout.write(`${design}, primary ${fault} ... `);
                const result = await runScenario(
                    {
                        design,
                        fault,
                        rendered,
                        faultMs,
                        observeMs,
                    },
                    real,
                );
                results.push(result);
                console.log("done");
                for (const failure of result.failures) {
                    console.log(`    failed GET: ${failure}`);
                }
                for (const failure of result.keptAlive?.failures ?? []) {
                    console.log(`    failed kept-alive GET: ${failure}`);
                }
            }
        }
    } finally {
        await real?.stop();
        fs.rmSync(rendered.dir, { recursive: true, force: true });
    }

    return {
        date: new Date().toISOString().slice(0, 10),
        machine: `${os.cpus().length} CPUs, ${os.type()} ${os.release()}, Node ${process.version}, ${nginxVersion()}`,
        renderMs,
        results,
    };
}

function nginxVersion(): string {
    const version = spawnSync("nginx", ["-v"], { encoding: "utf8" });
    return (version.stderr || version.stdout).trim().replace("nginx version: ", "");
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
