/**
 * The chat suite (`npm run test:chat`): the real Mattermost Team Edition and SeaweedFS (built from their
 * Go modules by `npm run -s toolchain -- build`) and a real PostgreSQL, started from the render. Needs
 * root (network namespaces) and the toolchain.
 * @type {import('jest').Config}
 */
module.exports = {
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testMatch: ["<rootDir>/tests/chat/**/*.test.ts"],
    testTimeout: 600000,
    restoreMocks: true,
    reporters: ["default", "<rootDir>/tests/summaryReporter.js"],
};
