/**
 * The identity suite (`npm run test:identity`): the real Keycloak (from Maven Central, cached by
 * `npm run -s toolchain -- build`), a real Samba AD domain controller in a network namespace of its own and
 * a real PostgreSQL, driven with what the render gives. Needs root (network namespaces) and the toolchain.
 * @type {import('jest').Config}
 */
module.exports = {
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
    testMatch: ["<rootDir>/tests/identity/**/*.test.ts"],
    testTimeout: 600000,
    restoreMocks: true,
    reporters: ["default", "<rootDir>/tests/summaryReporter.js"],
};
