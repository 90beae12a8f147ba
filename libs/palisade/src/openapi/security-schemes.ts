import type { SecuritySchemeObject } from '@nestjs/swagger';
import type { NormalizedAuthOptions } from '../auth/auth-options.normalizer.js';
import type { AuthScheme } from '../auth/principal.interface.js';
import { describe } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';
import type { PalisadeDocumentOptions } from './openapi-options.interface.js';

const COMPONENT = 'createPalisadeDocument';

/**
 * Names of the security schemes in `components.securitySchemes`: `@nestjs/swagger`'s defaults, so
 * a hand-written `@ApiBearerAuth()`, `@ApiBasicAuth()`, `@ApiOAuth2()` or `@ApiSecurity('api_key')`
 * refers to the scheme Palisade documents.
 * @internal
 */
export const SCHEME_NAMES = { jwt: 'bearer', 'api-key': 'api_key', basic: 'basic', oauth2: 'oauth2' } as const;

/** One security scheme that documents a Palisade scheme. @internal */
export interface DocumentedScheme {
  /** Key in `components.securitySchemes`. */
  readonly name: string;
  /**
   * Whether a requirement on it lists the route's scopes: always for OAuth 2.0 and OpenID Connect;
   * for HTTP bearer from OpenAPI 3.1 on (3.0 requires an empty list for other scheme types).
   */
  readonly scopes: 'always' | 'oas31' | 'never';
}

/** The security schemes of a document, from the configured authentication. @internal */
export interface DocumentSchemes {
  /** `components.securitySchemes` entries, OAuth 2.0 scopes still empty. */
  readonly components: Record<string, SecuritySchemeObject>;
  /** The schemes documenting each configured Palisade scheme, in the order they are listed. */
  readonly byScheme: ReadonlyMap<AuthScheme, readonly DocumentedScheme[]>;
}

/** Options of {@link createPalisadeDocument}, validated. @internal */
export interface NormalizedDocumentOptions {
  readonly tokenUrl: string | undefined;
  /** `true`, or discovery URL per issuer. */
  readonly openIdConnect: boolean | ReadonlyMap<string, string>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An `https://` URL, or `http://` on a loopback host. */
function isSecureUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

/** Validates the options once per document; messages name the option, the value and the fix. @internal */
export function normalizeDocumentOptions(options: PalisadeDocumentOptions | undefined): NormalizedDocumentOptions {
  const input: unknown = options ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error(`${COMPONENT}: options are ${describe(input)}; expected an object such as { tokenUrl: '/auth/token' }.`);
  }
  assertKnownKeys(input, ['tokenUrl', 'openIdConnect', 'swagger'], '', COMPONENT);
  const { tokenUrl, openIdConnect } = input as PalisadeDocumentOptions;
  if (tokenUrl !== undefined) {
    const valid = typeof tokenUrl === 'string' && tokenUrl.length > 0 && !/\s/.test(tokenUrl) && URL.canParse(tokenUrl, 'http://localhost');
    if (!valid) throw new Error(`${COMPONENT}: tokenUrl is ${describe(tokenUrl)}; expected a path or URL such as '/auth/token'.`);
  }
  let oidc: NormalizedDocumentOptions['openIdConnect'] = false;
  if (typeof openIdConnect === 'boolean') oidc = openIdConnect;
  else if (openIdConnect !== undefined) {
    if (typeof openIdConnect !== 'object' || openIdConnect === null || Array.isArray(openIdConnect)) {
      throw new Error(`${COMPONENT}: openIdConnect is ${describe(openIdConnect)}; expected true, false or { [issuer]: discoveryUrl }.`);
    }
    const map = new Map<string, string>();
    for (const [issuer, url] of Object.entries(openIdConnect)) {
      if (typeof url !== 'string' || !isSecureUrl(url)) {
        throw new Error(
          `${COMPONENT}: openIdConnect['${issuer}'] is ${typeof url === 'string' ? JSON.stringify(url) : describe(url)}; expected the issuer's discovery URL (https://, or http:// on a loopback host).`,
        );
      }
      map.set(issuer, url);
    }
    oidc = map;
  }
  return { tokenUrl, openIdConnect: oidc };
}

/** A component key (`^[A-Za-z0-9._-]+$`) for the OpenID Connect scheme of `url`. */
function oidcName(url: string, taken: ReadonlySet<string>): string {
  const base = `oidc-${new URL(url).host.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  return name;
}

/** The JWKS issuers' discovery URLs, in configuration order. */
function discoveryUrls(auth: NormalizedAuthOptions, options: NormalizedDocumentOptions): string[] {
  const issuers = [...new Set((auth.jwt?.jwks ?? []).flatMap((entry) => entry.issuers))];
  const { openIdConnect } = options;
  if (openIdConnect === false) return [];
  if (openIdConnect === true) {
    return issuers.filter(isSecureUrl).map((issuer) => `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  }
  for (const issuer of openIdConnect.keys()) {
    if (!issuers.includes(issuer)) {
      throw new Error(
        `${COMPONENT}: openIdConnect names the issuer '${issuer}', which no auth.jwt.jwks entry expects; configured issuers: ${issuers.join(', ') || '(none)'}. Fix the issuer or add the JWKS entry.`,
      );
    }
  }
  return issuers.flatMap((issuer) => {
    const url = openIdConnect.get(issuer);
    return url === undefined ? [] : [url];
  });
}

/** Builds the security schemes of the configured authentication. @internal */
export function documentSchemes(auth: NormalizedAuthOptions, options: NormalizedDocumentOptions): DocumentSchemes {
  const components: Record<string, SecuritySchemeObject> = {};
  const byScheme = new Map<AuthScheme, DocumentedScheme[]>();
  if (auth.jwt) {
    const documented: DocumentedScheme[] = [{ name: SCHEME_NAMES.jwt, scopes: 'oas31' }];
    components[SCHEME_NAMES.jwt] = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token (JWT) in `Authorization: Bearer …`.' };
    if (options.tokenUrl !== undefined) {
      components[SCHEME_NAMES.oauth2] = {
        type: 'oauth2',
        description: 'OAuth 2.0 password flow: the token endpoint returns a bearer JWT.',
        flows: { password: { tokenUrl: options.tokenUrl, scopes: {} } },
      };
      documented.push({ name: SCHEME_NAMES.oauth2, scopes: 'always' });
    }
    const taken = new Set(Object.keys(components));
    for (const url of discoveryUrls(auth, options)) {
      const name = oidcName(url, taken);
      taken.add(name);
      components[name] = { type: 'openIdConnect', openIdConnectUrl: url, description: 'Bearer JWTs from this OpenID Connect provider.' };
      documented.push({ name, scopes: 'always' });
    }
    byScheme.set('jwt', documented);
  }
  if (auth.apiKey) {
    components[SCHEME_NAMES['api-key']] = {
      type: 'apiKey',
      in: 'header',
      name: auth.apiKey.header,
      description: `An API key in the \`${auth.apiKey.header}\` header.`,
    };
    byScheme.set('api-key', [{ name: SCHEME_NAMES['api-key'], scopes: 'never' }]);
  }
  if (auth.basic) {
    components[SCHEME_NAMES.basic] = { type: 'http', scheme: 'basic', description: 'HTTP Basic (RFC 7617), UTF-8.' };
    byScheme.set('basic', [{ name: SCHEME_NAMES.basic, scopes: 'never' }]);
  }
  return { components, byScheme };
}
