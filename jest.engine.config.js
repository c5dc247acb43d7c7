/**
 * The real-software suite (`npm run test:engine`): the real Pulumi CLI, providers and Kubernetes API,
 * built by `npm run -s toolchain -- build`. Apart from `npm test`, which needs no toolchain and stays fast.
 * @type {import('jest').Config}
 */
module.exports = {
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testMatch: ["<rootDir>/tests/engine/**/*.test.ts"],
    testTimeout: 900000,
    restoreMocks: true,
    globalSetup: "<rootDir>/tests/engine/globalSetup.js",
    globalTeardown: "<rootDir>/tests/engine/globalTeardown.js",
    reporters: ["default", "<rootDir>/tests/summaryReporter.js"],
};
