import { applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RequiresPrincipalMetadata } from '../auth/auth.decorator.js';
import { appendMetadata } from '../common/append-metadata.js';

/** @internal One entry per `@Scopes(...)`; every scope of every entry is required. */
export const ScopesMetadata = Reflector.createDecorator<(readonly string[])[]>();

/**
 * Requires **all** of `scopes` (OAuth2 scopes from the token's `scope` string or `scp` array).
 * Accumulates with the controller's `@Scopes`. A missing scope is a 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 §3.1).
 *
 * @example
 * \@Scopes('reports:read', 'reports:export') // both
 */
export function Scopes(...scopes: [string, ...string[]]): MethodDecorator & ClassDecorator {
  return applyDecorators(appendMetadata(ScopesMetadata, Object.freeze([...scopes])), RequiresPrincipalMetadata());
}
