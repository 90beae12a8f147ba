import type { SwaggerDocumentOptions } from '@nestjs/swagger';

/**
 * Options of {@link createPalisadeDocument}. Everything else comes from the application: the
 * configured schemes (`auth.jwt`, `auth.apiKey`, `auth.basic`), each route's requirements and
 * throttling plan, the stores' failure policy.
 *
 * @example
 * createPalisadeDocument(app, config, { tokenUrl: '/auth/token', openIdConnect: true });
 */
export interface PalisadeDocumentOptions {
  /**
   * Token endpoint of an OAuth 2.0 password flow (RFC 6749 §4.3), relative to the server or
   * absolute: adds the security scheme `oauth2` (its scopes are every `@Scopes` seen), accepted
   * wherever a bearer JWT is. Default: none.
   */
  tokenUrl?: string;
  /**
   * OpenID Connect discovery documents of the JWKS issuers (`auth.jwt.jwks`), each an
   * `openIdConnect` security scheme accepted wherever a bearer JWT is. `true` derives
   * `<issuer>/.well-known/openid-configuration` for every issuer that is an `https://` URL (or
   * `http://` on a loopback host); a record names the discovery URL per issuer (an issuer that
   * publishes none is left out). Default `false`: not every issuer publishes one.
   */
  openIdConnect?: boolean | Readonly<Record<string, string>>;
  /**
   * Passed to `SwaggerModule.createDocument` (`include`, `extraModels`, `operationIdFactory`, …).
   * A custom `operationIdFactory` still names the operations.
   */
  swagger?: SwaggerDocumentOptions;
}
