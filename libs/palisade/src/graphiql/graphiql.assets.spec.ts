import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGraphiqlAssets } from './graphiql.assets.js';

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A project directory holding the given packages (name → version and files), for resolution from it. */
function project(packages: Record<string, { version: string; files: Record<string, string> }>): string {
  const root = mkdtempSync(join(tmpdir(), 'palisade-graphiql-'));
  for (const [name, { version, files }] of Object.entries(packages)) {
    const dir = join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, exports: { './package.json': './package.json' } }));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
  }
  return root;
}

const REACT = { version: '18.3.1', files: { 'umd/react.production.min.js': 'React' } };
const REACT_DOM = { version: '18.3.1', files: { 'umd/react-dom.production.min.js': 'ReactDOM' } };

describe('loadGraphiqlAssets', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  const from = (root: string): string => {
    roots.push(root);
    return pathToFileURL(join(root, 'app.js')).href;
  };

  it('reads the four bundles of the installed packages', () => {
    const root = project({
      react: REACT,
      'react-dom': REACT_DOM,
      graphiql: { version: '3.9.0', files: { 'graphiql.min.js': 'GraphiQL', 'graphiql.min.css': '.g{}' } },
    });
    const assets = loadGraphiqlAssets(from(root));
    expect(Object.fromEntries([...assets].map(([name, asset]) => [name, [asset.body.toString(), asset.type]]))).toEqual({
      'react.production.min.js': ['React', 'text/javascript; charset=utf-8'],
      'react-dom.production.min.js': ['ReactDOM', 'text/javascript; charset=utf-8'],
      'graphiql.min.js': ['GraphiQL', 'text/javascript; charset=utf-8'],
      'graphiql.min.css': ['.g{}', 'text/css; charset=utf-8'],
    });
  });

  it('names the missing package and what to install', () => {
    const root = project({ react: REACT, 'react-dom': REACT_DOM });
    expect(() => loadGraphiqlAssets(from(root))).toThrow(
      "GraphiqlModule: the package 'graphiql' is not installed; the page serves its browser bundle. Install graphiql@3, react@18 and react-dom@18 (npm install graphiql@3 react@18 react-dom@18).",
    );
  });

  it('refuses a major without the browser bundle (React 19 ships no umd/)', () => {
    const root = project({ react: { version: '19.0.0', files: {} }, 'react-dom': REACT_DOM });
    expect(() => loadGraphiqlAssets(from(root))).toThrow(
      /^GraphiqlModule: react@19\.0\.0 has no umd\/react\.production\.min\.js; only GraphiQL 3 and React 18 ship/,
    );
  });
});

describe('graphiql, react and react-dom are optional peers', () => {
  it('are declared as optional peer dependencies, and the entry point is exported', () => {
    const manifest = JSON.parse(readFileSync(resolve(SOURCE, '../package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      exports: Record<string, unknown>;
    };
    expect([manifest.peerDependencies.graphiql, manifest.peerDependencies.react, manifest.peerDependencies['react-dom']]).toEqual([
      '^3.0.0',
      '^18.0.0',
      '^18.0.0',
    ]);
    for (const name of ['graphiql', 'react', 'react-dom']) expect(manifest.peerDependenciesMeta[name]).toEqual({ optional: true });
    expect(manifest.exports['./graphiql']).toEqual({ types: './dist/graphiql/index.d.ts', default: './dist/graphiql/index.js' });
  });

  it('the main entry point never reaches the graphiql folder', () => {
    const index = readFileSync(resolve(SOURCE, 'index.ts'), 'utf8');
    expect(index).not.toMatch(/graphiql/i);
  });
});
