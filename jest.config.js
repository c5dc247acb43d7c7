/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testMatch: ["<rootDir>/tests/**/*.test.ts"],
    testTimeout: 60000,
    restoreMocks: true,
    reporters: ["default", "<rootDir>/tests/summaryReporter.js"],
};
