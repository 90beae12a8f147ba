import { Module, type DynamicModule } from '@nestjs/common';
import { CSP_NONCE } from '../headers/content-security-policy.js';
import { describe } from '../common/duration.js';
import { loadGraphiqlAssets, type GraphiqlAsset, type PackagedAssetName } from './graphiql.assets.js';
import type { GraphiqlOptions } from './graphiql-options.interface.js';
import { createGraphiqlController } from './graphiql.controller.js';
import { GRAPHIQL_START_SCRIPT } from './graphiql.page.js';

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['path', 'endpoint', 'title', 'throttle', 'contentSecurityPolicy']);
/** An absolute path of plain segments (`/graphiql`, `/tools/graphiql`), no trailing slash. */
const PAGE_PATH = /^(?:\/[A-Za-z0-9._~-]+)+$/;
/** An absolute path on the same origin: `/`, not `//` (another host), no quote, space or backslash. */
const ENDPOINT_PATH = /^\/(?!\/)[A-Za-z0-9._~!$&()*+,;=:@%/-]*(?:\?[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?$/;

function fail(message: string): never {
  throw new Error(`GraphiqlModule: ${message}`);
}

function text(value: unknown, name: string, fallback: string, pattern: RegExp | undefined, expected: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || (pattern !== undefined && !pattern.test(value))) fail(`${name} is ${describe(value)}; expected ${expected}.`);
  return value;
}

/**
 * A self-hosted GraphiQL page for a GraphQL API guarded by Palisade, with no CDN: GraphiQL 3 and
 * React 18 are served from the application's own `node_modules` (install `graphiql@3`, `react@18`
 * and `react-dom@18`; the library does not depend on them), read once at startup.
 *
 * The page is `@Public()` and throttled per client address like any anonymous request; it runs
 * under the `graphiql` CSP preset on its own routes only (scripts and styles by per-response
 * nonce, never `'unsafe-inline'`, connections to the same origin only), while the GraphQL
 * endpoint and every other route keep the module's policy. Turn the GraphQL driver's own page off
 * (`graphiql: false` for Apollo and Mercurius): Apollo's embeds Sandbox, and Mercurius' GraphiQL
 * loads it, from a CDN. Register it in the root module, next to `PalisadeModule`: it needs
 * Palisade's guards and its security-headers interceptor (`global: true`).
 *
 * @example
 * \@Module({
 *   imports: [
 *     PalisadeModule.forRoot({ auth: { jwt: { secret } }, global: true }),
 *     GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false }),
 *     GraphiqlModule.forRoot({ path: '/graphiql', endpoint: '/graphql' }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({})
export class GraphiqlModule {
  /**
   * Serves the page at `options.path` (default `/graphiql`) for the endpoint `options.endpoint`
   * (default `/graphql`). Synchronous on purpose: a controller's path is fixed when the app is
   * built. Throws, naming the fix, on a bad option or a missing package.
   */
  static forRoot(options: GraphiqlOptions = {}): DynamicModule {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) fail(`options are ${describe(options)}; expected an object.`);
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) fail(`unknown option '${key}'; known options: ${[...KNOWN_OPTIONS].join(', ')}.`);
    }
    const path = text(
      options.path,
      'path',
      '/graphiql',
      PAGE_PATH,
      "an absolute path such as '/graphiql' (letters, digits, '.', '_', '~', '-'; no trailing slash)",
    );
    const endpoint = text(
      options.endpoint,
      'endpoint',
      '/graphql',
      ENDPOINT_PATH,
      "an absolute path on the same origin such as '/graphql'; the page sends the user's token there, so another origin is not accepted",
    );
    const title = text(options.title, 'title', 'GraphiQL', undefined, 'a string');
    const { throttle } = options;
    const given = options.contentSecurityPolicy ?? {};
    // Directives given without a preset change the page's policy, not the module's.
    const contentSecurityPolicy = given.preset === undefined && given.useDefaults !== false ? { ...given, preset: 'graphiql' as const } : given;
    if (throttle !== undefined && (typeof throttle !== 'object' || throttle === null || Array.isArray(throttle))) {
      fail(`throttle is ${describe(throttle)}; expected tiers as @Throttle() takes them, e.g. { default: { limit: 30, ttl: '1m' } }.`);
    }
    const scripts = contentSecurityPolicy.directives?.['script-src'] ?? contentSecurityPolicy.directives?.scriptSrc;
    if (scripts === null || (scripts !== undefined && (!scripts.includes(CSP_NONCE) || scripts.includes("'unsafe-inline'")))) {
      fail(
        "contentSecurityPolicy.directives['script-src'] must hold CSP_NONCE and not 'unsafe-inline': the page loads its scripts by nonce, and no inline script may run beside them.",
      );
    }
    const assets = new Map<PackagedAssetName | 'start.js', GraphiqlAsset>(loadGraphiqlAssets());
    assets.set('start.js', Object.freeze({ body: Buffer.from(GRAPHIQL_START_SCRIPT, 'utf8'), type: 'text/javascript; charset=utf-8' }));
    const controller = createGraphiqlController({ path: path.slice(1), endpoint, title, throttle, contentSecurityPolicy, assets });
    return { module: GraphiqlModule, controllers: [controller] };
  }
}
