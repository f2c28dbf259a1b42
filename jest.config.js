// One jest run, five projects: pure logic, the real control plane, a real Prometheus, the Deck
// editor in jsdom, and the Deck plugin in a real browser. `npm test` runs them all; none is optional.

// ESM-only packages that Babel must turn into CommonJS for jest (client-node 1.x and its OIDC deps).
const esmPackages = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose', '@spinnaker'];
const transformIgnorePatterns = [`/node_modules/(?!(${esmPackages.join('|')})/)`];
const moduleNameMapper = { '^@istio-shift/core$': '<rootDir>/packages/core/src/index.ts', '^@istio-shift/pipelines$': '<rootDir>/packages/pipelines/src/index.ts' };

const common = { rootDir: __dirname, transformIgnorePatterns, moduleNameMapper };

module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/stage-service/src/**/*.test.ts', '<rootDir>/test/orca/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'cluster',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/stage-service/test/**/*.cluster.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/cluster/jest-global-setup.js',
      globalTeardown: '<rootDir>/test/cluster/jest-global-teardown.js',
    },
    {
      // A real Prometheus per test file (test/prometheus/harness.ts); no control plane needed.
      ...common,
      displayName: 'prometheus',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/prometheus/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'deck',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/deck-plugin/src/**/*.test.ts?(x)'],
      setupFiles: ['<rootDir>/deck-plugin/test/jest/setup-globals.js'],
      setupFilesAfterEnv: ['<rootDir>/deck-plugin/test/jest/setup-after-env.js'],
      moduleNameMapper: {
        ...moduleNameMapper,
        '^@spinnaker/(core|presentation)$': '<rootDir>/node_modules/@spinnaker/$1/dist/index.js',
        '^root/version.json$': '<rootDir>/deck-plugin/test/jest/version.json',
        '\\.(css|less)$': 'identity-obj-proxy',
      },
    },
    {
      ...common,
      displayName: 'browser',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/deck-plugin/test/browser/**/*.test.ts'],
    },
  ],
};
