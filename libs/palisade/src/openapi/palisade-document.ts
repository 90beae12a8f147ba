import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { DECORATORS, SwaggerModule, type OpenAPIObject, type OperationObject, type ResponseObject } from '@nestjs/swagger';
import { AuthRequirementsResolver } from '../auth/auth-requirements.resolver.js';
import { AUTH_OPTIONS } from '../auth/auth.constants.js';
import type { NormalizedAuthOptions } from '../auth/auth-options.normalizer.js';
import { allHandlers, routeName, type Handler, type HandlerEntry } from '../common/routes.js';
import { RequirementsAudit } from '../requirements-audit.service.js';
import { AuthorizationRequirementsResolver } from '../roles/authorization-requirements.resolver.js';
import { ThrottlePlanResolver } from '../throttle/throttle-plan.resolver.js';
import { THROTTLE_OPTIONS } from '../throttle/throttle.constants.js';
import type { NormalizedThrottleOptions } from '../throttle/throttle-options.normalizer.js';
import { TOKENS_OPTIONS } from '../tokens/tokens.constants.js';
import type { NormalizedTokensOptions } from '../tokens/tokens-options.normalizer.js';
import type { PalisadeDocumentOptions } from './openapi-options.interface.js';
import { documentRoute, type DocumentedOptions, type RouteDocumentation } from './route-documentation.js';
import { documentSchemes, normalizeDocumentOptions, SCHEME_NAMES } from './security-schemes.js';

const COMPONENT = 'createPalisadeDocument';

/** Name of the shared error body schema in `components.schemas`. */
export const ERROR_SCHEMA = 'PalisadeError';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'search', 'query'] as const;

/** Stands in for an operation id while the document is built, so each operation maps to one handler. */
const MARKER = /^#palisade-operation-(\d+)#(.*)$/s;

interface OperationRecord {
  readonly controllerKey: string;
  /** The method's name (an alias index `name[1]` removed). */
  readonly methodName: string;
  /** The id the user's (or `@nestjs/swagger`'s default) factory gives it. */
  readonly id: string;
}

/** `@nestjs/swagger`'s default operation ids. */
function defaultOperationId(controllerKey: string, methodKey: string, version?: string): string {
  const base = controllerKey ? `${controllerKey}_${methodKey}` : methodKey;
  return version ? `${base}_${version}` : base;
}

interface PalisadeProviders {
  readonly auth: NormalizedAuthOptions;
  readonly options: DocumentedOptions;
  readonly authentication: AuthRequirementsResolver;
  readonly authorization: AuthorizationRequirementsResolver;
  readonly throttle: ThrottlePlanResolver;
  readonly audit: RequirementsAudit;
  readonly discovery: DiscoveryService;
}

function providersOf(app: INestApplication): PalisadeProviders {
  let providers: PalisadeProviders;
  try {
    providers = {
      auth: app.get<NormalizedAuthOptions>(AUTH_OPTIONS, { strict: false }),
      options: {
        throttle: app.get<NormalizedThrottleOptions | undefined>(THROTTLE_OPTIONS, { strict: false }),
        tokens: app.get<NormalizedTokensOptions | undefined>(TOKENS_OPTIONS, { strict: false }),
      },
      authentication: app.get(AuthRequirementsResolver, { strict: false }),
      authorization: app.get(AuthorizationRequirementsResolver, { strict: false }),
      throttle: app.get(ThrottlePlanResolver, { strict: false }),
      audit: app.get(RequirementsAudit, { strict: false }),
      discovery: app.get(DiscoveryService, { strict: false }),
    };
  } catch (error) {
    throw new Error(`${COMPONENT}: PalisadeModule is not part of this application; import PalisadeModule.forRoot() in its root module.`, { cause: error });
  }
  if (!providers.authorization.ready) {
    throw new Error(
      `${COMPONENT}: the application has not started yet, so its routes' requirements are not resolved; call it after app.init(), or hand SwaggerModule.setup a factory: SwaggerModule.setup('docs', app, () => createPalisadeDocument(app, config)).`,
    );
  }
  return providers;
}

function errorResponse(description: string, headers: NonNullable<ResponseObject['headers']>): ResponseObject {
  return {
    description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA}` } } },
  };
}

/** `Retry-After`, as Palisade sends it (a fresh object per response: operations share nothing). */
function retryAfter(): NonNullable<ResponseObject['headers']>[string] {
  return { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 1 } };
}

/** Names as inline code, joined. */
function code(names: readonly string[], joiner: string): string {
  return names.map((name) => `\`${name}\``).join(joiner);
}

/** `RateLimit-Policy` and `RateLimit` (IETF RateLimit header fields draft), as Palisade sends them. */
function rateLimitHeaders(policy: string | undefined): NonNullable<ResponseObject['headers']> {
  return {
    'RateLimit-Policy': {
      description: 'The route\'s quota policies (IETF RateLimit header fields draft): `"tier";q=<limit>;w=<window in seconds>`.',
      schema: { type: 'string', ...(policy === undefined ? {} : { example: policy }) },
    },
    RateLimit: {
      description: 'What is left of each quota: `"tier";r=<remaining>;t=<seconds until the window resets>`.',
      schema: { type: 'string' },
    },
  };
}

/** `X-RateLimit-Limit`, `-Remaining`, `-Reset` per tier (suffixed `-<tier>` but for `default`), as Palisade sends them. */
function legacyRateLimitHeaders(tiers: readonly string[]): NonNullable<ResponseObject['headers']> {
  const headers: NonNullable<ResponseObject['headers']> = {};
  for (const tier of tiers) {
    const suffix = tier === 'default' ? '' : `-${tier}`;
    headers[`X-RateLimit-Limit${suffix}`] = { description: `Requests allowed per window (tier ${tier}).`, schema: { type: 'integer' } };
    headers[`X-RateLimit-Remaining${suffix}`] = { description: `Requests left in the window (tier ${tier}).`, schema: { type: 'integer' } };
    headers[`X-RateLimit-Reset${suffix}`] = { description: `Seconds until the window resets (tier ${tier}).`, schema: { type: 'integer' } };
  }
  return headers;
}

/** The sentence appended to an operation's description, naming what access it needs. */
function accessLine(doc: RouteDocumentation): string | undefined {
  const parts: string[] = [];
  if (doc.roles.length > 0) parts.push(`role ${doc.roles.map((group) => code(group, ' or ')).join(', and role ')}`);
  if (doc.scopes.length > 0) parts.push(`scope${doc.scopes.length > 1 ? 's' : ''} ${code(doc.scopes, ', ')}`);
  if (doc.policies.length > 0) parts.push(`polic${doc.policies.length > 1 ? 'ies' : 'y'} ${code(doc.policies, ', ')}`);
  return parts.length === 0 ? undefined : `**Access:** ${parts.join('; ')}.`;
}

/** Adds what Palisade enforces to one operation; what the document already says is kept. */
function annotate(operation: OperationObject, doc: RouteDocumentation, handSecurity: 'handler' | 'class' | undefined, isPublic: boolean): void {
  if (doc.security !== undefined && (handSecurity === undefined || (handSecurity === 'class' && isPublic))) {
    operation.security = doc.security;
  }
  const responses = (operation.responses ??= {});
  const add = (status: string, response: ResponseObject): void => {
    if (responses[status] === undefined) responses[status] = response;
  };
  if (doc.unauthorized !== undefined) {
    add(
      '401',
      errorResponse('No credential, or a credential that was rejected (invalid, expired or revoked).', {
        'WWW-Authenticate': {
          description: 'A challenge for each scheme the route accepts (RFC 9110 §11.6.1, RFC 6750, RFC 7617).',
          required: true,
          schema: { type: 'string', example: doc.unauthorized },
        },
      }),
    );
  }
  if (doc.forbidden !== undefined) {
    add(
      '403',
      errorResponse(
        'The caller is authenticated but lacks a required role or scope, or a policy refused.',
        doc.forbidden.scopeChallenge === undefined
          ? {}
          : {
              'WWW-Authenticate': {
                description: 'On a bearer token that lacks a scope: an `insufficient_scope` challenge naming the required scopes (RFC 6750 §3.1).',
                schema: { type: 'string', example: `Bearer error="insufficient_scope", scope="${doc.forbidden.scopeChallenge}"` },
              },
            },
      ),
    );
  }
  const limited = doc.tooManyRequests;
  if (limited !== undefined) {
    const quota = { ...(limited.rateLimitHeaders ? rateLimitHeaders(limited.policy) : {}), ...legacyRateLimitHeaders(limited.legacyTiers) };
    const headers: NonNullable<ResponseObject['headers']> = { 'Retry-After': retryAfter(), ...quota };
    // A request the limiter let through carries the same quota headers.
    for (const [status, response] of Object.entries(responses)) {
      if (!/^2\d\d$/.test(status) || response === undefined || '$ref' in response) continue;
      if (Object.keys(quota).length > 0) responses[status] = { ...response, headers: { ...quota, ...response.headers } };
    }
    const why = [limited.tiers ? 'a rate limit of the route was reached' : '', limited.authFailures ? 'too many failed authentications from this address' : '']
      .filter((part) => part !== '')
      .join(', or ');
    add('429', errorResponse(`Too many requests: ${why}.`, headers));
  }
  if (doc.unavailable.length > 0) {
    add('503', errorResponse(`Temporarily unavailable: ${doc.unavailable.join('; or ')}.`, { 'Retry-After': retryAfter() }));
  }
  const extensions = operation as OperationObject & Record<`x-${string}`, unknown>;
  if (doc.roles.length > 0) extensions['x-palisade-roles'] = doc.roles.map((group) => [...group]);
  if (doc.policies.length > 0) extensions['x-palisade-policies'] = [...doc.policies];
  const line = accessLine(doc);
  if (line !== undefined) operation.description = operation.description ? `${operation.description}\n\n${line}` : line;
}

/** Puts every operation id back (the user's ids), wherever `@nestjs/swagger` wrote one (operations, links). */
function restoreOperationIds(value: unknown, records: readonly OperationRecord[]): void {
  if (Array.isArray(value)) {
    for (const item of value) restoreOperationIds(item, records);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const object = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(object)) {
    if (key === 'operationId' && typeof child === 'string') {
      const match = MARKER.exec(child);
      if (match) object[key] = `${records[Number(match[1])]!.id}${match[2]}`;
    } else restoreOperationIds(child, records);
  }
}

/**
 * Builds the OpenAPI document of a started application with `SwaggerModule.createDocument` and
 * completes it from what Palisade enforces, route by route — nothing to write per route:
 * - `components.securitySchemes`: HTTP bearer (`bearer`, JWT) for `auth.jwt`, `api_key` in
 *   `auth.apiKey.header`, HTTP `basic`; an OAuth 2.0 password flow (`oauth2`) with `tokenUrl`, its
 *   scopes every `@Scopes` seen; OpenID Connect discovery of the JWKS issuers with `openIdConnect`.
 * - each operation's `security`: one alternative per scheme the route accepts, in the route's
 *   order, the route's scopes on bearer (OpenAPI 3.1), OAuth 2.0 and OpenID Connect entries; `[]`
 *   for `@Public()` (over a class-level `@ApiBearerAuth()`); an extra `{}` for
 *   `@Auth({ optional: true })`. Routes no Palisade guard authenticates are left as they are.
 * - responses with the shared `PalisadeError` body (`{ statusCode, error, message }`): 401 with
 *   `WWW-Authenticate`; 403 where roles, scopes or policies apply; 429 with `Retry-After`,
 *   `RateLimit-Policy` and `RateLimit` where the route is throttled (or failed authentications
 *   are counted); 503 with `Retry-After` where a Redis store fails closed.
 * - `x-palisade-roles` (the `@Roles` groups: every group needed, any role of a group, role
 *   hierarchy applied), `x-palisade-policies`, and an **Access** line in the description.
 *
 * Hand-written `@ApiBearerAuth()`/`@ApiSecurity()` on the handler (or on the class, except for a
 * public route) and `@ApiResponse()` of the same status are kept. Call it once the application has
 * started (`app.init()` or `listen()`), or give `SwaggerModule.setup` a factory (the document is
 * then built on the first request to it).
 *
 * @param app - the application, with `PalisadeModule` imported.
 * @param config - the document's base, e.g. `new DocumentBuilder().setOpenAPIVersion('3.1.0').build()`.
 * @throws Error when the application has not started, or when two controllers with the same name
 *   define a method of the same name whose requirements differ (operation ids cannot tell them apart).
 *
 * @example
 * import { createPalisadeDocument } from '@palisade/nest/openapi';
 * const config = new DocumentBuilder().setTitle('Orders').setOpenAPIVersion('3.1.0').build();
 * SwaggerModule.setup('docs', app, () => createPalisadeDocument(app, config, { tokenUrl: '/auth/token' }));
 */
export function createPalisadeDocument(app: INestApplication, config: Omit<OpenAPIObject, 'paths'>, options?: PalisadeDocumentOptions): OpenAPIObject {
  const normalized = normalizeDocumentOptions(options);
  const palisade = providersOf(app);
  const userFactory = options?.swagger?.operationIdFactory ?? defaultOperationId;
  const records: OperationRecord[] = [];
  const document = SwaggerModule.createDocument(app, config, {
    ...options?.swagger,
    operationIdFactory: (controllerKey, methodKey, version) => {
      records.push({ controllerKey, methodName: methodKey.replace(/\[\d+\]$/, ''), id: userFactory(controllerKey, methodKey, version) });
      return `#palisade-operation-${records.length - 1}#`;
    },
  });
  const oas31 = !/^[0-2]\.|^3\.0(\.|$)/.test(document.openapi);
  const schemes = documentSchemes(palisade.auth, normalized);

  const routes = new Map<string, HandlerEntry[]>();
  for (const entry of allHandlers(palisade.discovery, new MetadataScanner())) {
    if (entry.kind !== 'http') continue;
    const key = `${(entry.owner as { name?: string }).name ?? ''}\u0000${entry.handler.name}`;
    routes.set(key, [...(routes.get(key) ?? []), entry]);
  }
  const documentOf = (entry: HandlerEntry): RouteDocumentation =>
    documentRoute(
      {
        auth: palisade.authentication.resolve(entry.handler, entry.owner),
        authorization: palisade.authorization.resolve(entry.handler, entry.owner),
        plan: palisade.throttle.resolve(entry.handler, entry.owner),
        guards: palisade.audit.guardsOn(entry.handler, entry.owner),
      },
      palisade.options,
      schemes,
      oas31,
    );

  const scopeUsers = new Map<string, string[]>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Record<string, OperationObject | undefined>)[method];
      const match = operation?.operationId === undefined ? null : MARKER.exec(operation.operationId);
      if (!operation || !match) continue;
      const record = records[Number(match[1])]!;
      const entries = routes.get(`${record.controllerKey}\u0000${record.methodName}`) ?? [];
      if (entries.length === 0) continue;
      const docs = entries.map(documentOf);
      const first = docs[0]!;
      if (docs.some((doc) => JSON.stringify(doc) !== JSON.stringify(first))) {
        throw new Error(
          `${COMPONENT}: ${entries.map((e) => routeName(e.handler, e.owner)).join(' and ')} are different controllers with the same name and different requirements; the document cannot tell their operations apart (their operation ids collide too). Rename one of the classes.`,
        );
      }
      const { handler, owner } = entries[0]!;
      const handSecurity =
        Reflect.getMetadata(DECORATORS.API_SECURITY, handler as Handler) !== undefined
          ? 'handler'
          : Reflect.getMetadata(DECORATORS.API_SECURITY, owner) !== undefined
            ? 'class'
            : undefined;
      const isPublic = palisade.authentication.resolve(handler, owner).isPublic;
      annotate(operation, first, handSecurity, isPublic);
      for (const scope of first.scopes) scopeUsers.set(scope, [...(scopeUsers.get(scope) ?? []), `${method.toUpperCase()} ${path}`]);
    }
  }
  restoreOperationIds(document, records);

  const components = (document.components ??= {});
  const securitySchemes = (components.securitySchemes ??= {});
  const oauth2 = schemes.components[SCHEME_NAMES.oauth2];
  if (oauth2?.flows?.password) {
    oauth2.flows.password.scopes = Object.fromEntries([...scopeUsers].map(([scope, users]) => [scope, `Required by ${users.join(', ')}.`]));
  }
  // Schemes the configuration already declares (DocumentBuilder.addBearerAuth()…) are kept.
  for (const [name, scheme] of Object.entries(schemes.components)) securitySchemes[name] ??= scheme;
  const schemas = (components.schemas ??= {});
  schemas[ERROR_SCHEMA] ??= {
    type: 'object',
    description: "Palisade's error body, the same on every 4xx and 5xx it answers.",
    required: ['statusCode', 'error', 'message'],
    properties: {
      statusCode: { type: 'integer', description: 'The HTTP status.', example: 401 },
      error: { type: 'string', description: "The status's reason phrase.", example: 'Unauthorized' },
      message: { type: 'string', description: 'What went wrong, readable; never a secret.', example: 'Authentication required' },
    },
  };
  return document;
}
