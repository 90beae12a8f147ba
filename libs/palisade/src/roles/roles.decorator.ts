import { applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RequiresPrincipalMetadata } from '../auth/auth.decorator.js';
import { appendMetadata } from '../common/append-metadata.js';

/** @internal One entry per `@Roles(...)`: each is an any-of group; all groups must hold. */
export const RolesMetadata = Reflector.createDecorator<(readonly string[])[]>();

/**
 * Requires the caller to hold **at least one** of `roles` (after the role hierarchy is applied).
 * Accumulates: `@Roles` on the controller and on the handler must both hold. Nobody authenticated
 * → 401; authenticated without the role → 403.
 *
 * @example
 * \@Roles('admin', 'auditor') // admin OR auditor
 */
export function Roles(...roles: [string, ...string[]]): MethodDecorator & ClassDecorator {
  return applyDecorators(appendMetadata(RolesMetadata, Object.freeze([...roles])), RequiresPrincipalMetadata());
}
