// Ends every jest run with the plain closing line CI reads: "N passed, M failed" (", K skipped").
// Written when the process exits, so that it comes after jest's own summary. With MM_TEST_TOTALS naming
// a file, the counts are also added to it, so that .ci/run can close with the total of all its suites.
const fs = require("node:fs");

class SummaryReporter {
    onRunComplete(_contexts, results) {
        const counts = {
            passed: results.numPassedTests,
            failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
            skipped: results.numPendingTests + results.numTodoTests,
        };
        const totalsFile = process.env.MM_TEST_TOTALS;
        if (totalsFile) {
            fs.appendFileSync(totalsFile, `${JSON.stringify(counts)}\n`);
        }
        process.once("exit", () => fs.writeSync(1, `${summaryLine(counts)}\n`));
    }
}

function summaryLine({ passed, failed, skipped }) {
    return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
}

/** The closing line of every run recorded in a totals file. */
function totalLine(totalsFile) {
    const runs = fs
        .readFileSync(totalsFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    const sum = (field) => runs.reduce((total, run) => total + run[field], 0);
    return summaryLine({ passed: sum("passed"), failed: sum("failed"), skipped: sum("skipped") });
}

if (require.main === module) {
    console.log(totalLine(process.argv[2]));
}

module.exports = SummaryReporter;
