/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testMatch: ["<rootDir>/tests/**/*.test.ts"],
    // The real-software suites have their own configs (jest.engine.config.js, jest.identity.config.js,
    // jest.chat.config.js).
    testPathIgnorePatterns: [
        "/node_modules/",
        "<rootDir>/tests/engine/",
        "<rootDir>/tests/identity/",
        "<rootDir>/tests/chat/",
    ],
    testTimeout: 60000,
    restoreMocks: true,
    reporters: ["default", "<rootDir>/tests/summaryReporter.js"],
};
