// Two tiers in one run: unit tests beside the code (*.test.ts under shared/ and services/) and integration
// tests under test/integration on real PostgreSQL and Redis. Each jest worker gets its own database (made in
// global setup) and each test file its own BullMQ prefix, so files run in parallel without sharing state.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/shared', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The slow fault suites (a Redis Cluster with failover, many replicas, PostgreSQL stopped and restarted):
  // `npm run test:faults` (jest.faults.config.cjs), which .ci/run also calls.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // jose is ESM-only: let swc turn it into CommonJS like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFiles: ['<rootDir>/test/setup/worker-env.ts'],
  maxWorkers: 2,
  testTimeout: 30_000,
};
