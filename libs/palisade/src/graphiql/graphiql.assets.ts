import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One file the page loads: its bytes and its media type. @internal */
export interface GraphiqlAsset {
  readonly body: Buffer;
  readonly type: string;
}

/** Where each file served beneath the page comes from: package, file inside it, media type. */
const SOURCES = {
  'react.production.min.js': ['react', 'umd/react.production.min.js', 'text/javascript; charset=utf-8'],
  'react-dom.production.min.js': ['react-dom', 'umd/react-dom.production.min.js', 'text/javascript; charset=utf-8'],
  'graphiql.min.js': ['graphiql', 'graphiql.min.js', 'text/javascript; charset=utf-8'],
  'graphiql.min.css': ['graphiql', 'graphiql.min.css', 'text/css; charset=utf-8'],
} as const satisfies Record<string, readonly [string, string, string]>;

/** Names of the files read from the `graphiql`, `react` and `react-dom` packages. @internal */
export type PackagedAssetName = keyof typeof SOURCES;

/** What to install, in every error that finds a package missing or of the wrong major. */
const INSTALL = 'Install graphiql@3, react@18 and react-dom@18 (npm install graphiql@3 react@18 react-dom@18)';

/**
 * Reads the browser bundles of GraphiQL 3 and React 18 from the application's `node_modules`
 * once, when the module is built. A missing package, or a major that ships no browser bundle
 * (GraphiQL 4+, React 19+), stops the app with the fix. @internal
 */
export function loadGraphiqlAssets(resolveFrom: string = import.meta.url): ReadonlyMap<PackagedAssetName, GraphiqlAsset> {
  const require = createRequire(resolveFrom);
  const assets = new Map<PackagedAssetName, GraphiqlAsset>();
  for (const [name, [pkg, file, type]] of Object.entries(SOURCES) as [PackagedAssetName, (typeof SOURCES)[PackagedAssetName]][]) {
    let manifest: string;
    try {
      manifest = require.resolve(`${pkg}/package.json`);
    } catch {
      throw new Error(`GraphiqlModule: the package '${pkg}' is not installed; the page serves its browser bundle. ${INSTALL}.`);
    }
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string };
    let body: Buffer;
    try {
      body = readFileSync(join(dirname(manifest), file));
    } catch {
      throw new Error(
        `GraphiqlModule: ${pkg}@${version ?? '?'} has no ${file}; only GraphiQL 3 and React 18 ship the browser bundles the page serves. ${INSTALL}.`,
      );
    }
    assets.set(name, Object.freeze({ body, type }));
  }
  return assets;
}
