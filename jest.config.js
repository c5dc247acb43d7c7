/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testMatch: ["<rootDir>/tests/**/*.test.ts"],
    // The real-software suite has its own config (jest.engine.config.js) and needs the toolchain.
    testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/engine/"],
    testTimeout: 60000,
    restoreMocks: true,
    reporters: ["default", "<rootDir>/tests/summaryReporter.js"],
};
