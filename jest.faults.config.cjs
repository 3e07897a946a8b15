// `npm run test:faults`: the slow fault suites under test/faults, one file at a time (each starts its own
// Redis Cluster, PostgreSQL server or many service processes; two at once would fight over two cores).
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/faults'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 300_000,
};
