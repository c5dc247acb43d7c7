// Ends every jest run with the plain closing line CI reads: "N passed, M failed" (", K skipped").
// Written when the process exits, so that it comes after jest's own summary.
const fs = require("node:fs");

class SummaryReporter {
    onRunComplete(_contexts, results) {
        const skipped = results.numPendingTests + results.numTodoTests;
        const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
        const line = `${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`;
        process.once("exit", () => fs.writeSync(1, line));
    }
}

module.exports = SummaryReporter;
