import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every module specifier a source file imports or re-exports (static `import`/`export … from`, dynamic `import()`). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(
    /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier !== undefined) found.push(specifier);
  }
  return found;
}

/** Packages reached by the static imports of `entry` and of every library file it loads (type-only imports included). */
function packagesReachedFrom(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of specifiers(file)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return packages;
}

describe('@nestjs/swagger is an optional peer', () => {
  it('is never imported by a module the main entry point loads (a consumer without it still loads @palisade/nest)', () => {
    const reached = [...packagesReachedFrom(resolve(SOURCE, 'index.ts'))];
    expect(reached.length).toBeGreaterThan(5);
    expect(reached.filter((name) => name.startsWith('@nestjs/swagger'))).toEqual([]);
  });

  it('is imported by the @palisade/nest/openapi entry point', () => {
    expect([...packagesReachedFrom(resolve(SOURCE, 'openapi/index.ts'))]).toContain('@nestjs/swagger');
  });

  it('is declared as an optional peer dependency', () => {
    const manifest = JSON.parse(readFileSync(resolve(SOURCE, '../package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      exports: Record<string, unknown>;
    };
    expect(manifest.peerDependencies['@nestjs/swagger']).toBe('^12.0.0');
    expect(manifest.peerDependenciesMeta['@nestjs/swagger']).toEqual({ optional: true });
    expect(manifest.exports['./openapi']).toEqual({ types: './dist/openapi/index.d.ts', default: './dist/openapi/index.js' });
  });
});
