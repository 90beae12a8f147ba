import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // SWC emits decorator metadata (esbuild does not), which Nest's dependency injection needs.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [
      { find: /^@palisade\/nest\/testing$/, replacement: source('./libs/palisade/src/testing/index.ts') },
      { find: /^@palisade\/nest\/ws$/, replacement: source('./libs/palisade/src/ws/index.ts') },
      { find: /^@palisade\/nest\/openapi$/, replacement: source('./libs/palisade/src/openapi/index.ts') },
      { find: /^@palisade\/nest\/graphiql$/, replacement: source('./libs/palisade/src/graphiql/index.ts') },
      { find: /^@palisade\/nest$/, replacement: source('./libs/palisade/src/index.ts') },
    ],
  },
  test: {
    globals: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.e2e-spec.ts'] } },
      { extends: true, test: { name: 'package', include: ['test/package/**/*.test.ts'], testTimeout: 240_000, hookTimeout: 240_000 } },
    ],
  },
});
