import { describe, expect, it } from 'vitest';
import { normalizeAuthOptions } from '../auth/auth-options.normalizer.js';
import type { PalisadeDocumentOptions } from './openapi-options.interface.js';
import { documentSchemes, normalizeDocumentOptions } from './security-schemes.js';

const SECRET = 'unit-secret-0123456789abcdef-0123456789abcdef';

describe('normalizeDocumentOptions', () => {
  it.each([
    [{ tokenUrl: '' }, `createPalisadeDocument: tokenUrl is ""; expected a path or URL such as '/auth/token'.`],
    [{ tokenUrl: '/auth/ token' }, `createPalisadeDocument: tokenUrl is "/auth/ token"; expected a path or URL such as '/auth/token'.`],
    [{ openIdConnect: 'yes' }, `createPalisadeDocument: openIdConnect is "yes"; expected true, false or { [issuer]: discoveryUrl }.`],
    [
      { openIdConnect: { 'https://id.example.com': 'http://id.example.com/.well-known/openid-configuration' } },
      `createPalisadeDocument: openIdConnect['https://id.example.com'] is "http://id.example.com/.well-known/openid-configuration"; expected the issuer's discovery URL (https://, or http:// on a loopback host).`,
    ],
    [{ tokenUrl: '/t', scopes: [] }, 'createPalisadeDocument: unknown option scopes.'],
  ])('refuses %j, naming the option, the value and the fix', (options, message) => {
    expect(() => normalizeDocumentOptions(options as unknown as PalisadeDocumentOptions)).toThrow(message);
  });

  it('accepts a relative or absolute token URL', () => {
    expect(normalizeDocumentOptions({ tokenUrl: '/auth/token' }).tokenUrl).toBe('/auth/token');
    expect(normalizeDocumentOptions({ tokenUrl: 'https://id.example.com/token' }).tokenUrl).toBe('https://id.example.com/token');
  });
});

describe('documentSchemes', () => {
  const auth = normalizeAuthOptions({
    jwt: {
      secret: SECRET,
      issuer: 'https://id.example.com/',
      audience: 'api',
      jwks: [
        { uri: 'https://id.example.com/jwks.json' },
        { uri: 'https://other.example.com/jwks.json', issuer: 'other-issuer-not-a-url' },
        { uri: 'https://tenants.example.com/a/jwks.json', issuer: ['https://tenants.example.com/a', 'https://tenants.example.com/b'] },
      ],
    },
  });

  it('derives a discovery URL for each https issuer (trailing slash removed), skips the others, and names them by host', () => {
    const { components, byScheme } = documentSchemes(auth, normalizeDocumentOptions({ openIdConnect: true }));
    expect(byScheme.get('jwt')?.map((s) => s.name)).toEqual(['bearer', 'oidc-id.example.com', 'oidc-tenants.example.com', 'oidc-tenants.example.com-2']);
    expect(components['oidc-id.example.com']).toMatchObject({ openIdConnectUrl: 'https://id.example.com/.well-known/openid-configuration' });
    expect(components['oidc-tenants.example.com-2']).toMatchObject({ openIdConnectUrl: 'https://tenants.example.com/b/.well-known/openid-configuration' });
  });

  it('uses the discovery URLs given per issuer, and refuses an issuer no JWKS entry expects', () => {
    const given = documentSchemes(
      auth,
      normalizeDocumentOptions({ openIdConnect: { 'other-issuer-not-a-url': 'https://other.example.com/.well-known/openid-configuration' } }),
    );
    expect(given.byScheme.get('jwt')?.map((s) => s.name)).toEqual(['bearer', 'oidc-other.example.com']);
    expect(() =>
      documentSchemes(auth, normalizeDocumentOptions({ openIdConnect: { 'https://unknown.example.com': 'https://unknown.example.com/oidc' } })),
    ).toThrow(
      "createPalisadeDocument: openIdConnect names the issuer 'https://unknown.example.com', which no auth.jwt.jwks entry expects; configured issuers: https://id.example.com/, other-issuer-not-a-url, https://tenants.example.com/a, https://tenants.example.com/b. Fix the issuer or add the JWKS entry.",
    );
  });

  it('declares only the configured schemes', () => {
    const { components, byScheme } = documentSchemes(
      normalizeAuthOptions({ apiKey: { header: 'X-Service-Key', validate: () => null } }),
      normalizeDocumentOptions({ tokenUrl: '/t' }),
    );
    expect(Object.keys(components)).toEqual(['api_key']);
    expect(components.api_key).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-service-key' });
    expect([...byScheme.keys()]).toEqual(['api-key']);
  });
});
