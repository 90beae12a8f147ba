import { applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RequiresPrincipalMetadata } from '../auth/auth.decorator.js';
import { appendMetadata } from '../common/append-metadata.js';
import type { Policy as PolicyType } from './policy.interface.js';

/** @internal One entry per `@Policy(...)`; every policy must allow. */
export const PoliciesMetadata = Reflector.createDecorator<(readonly PolicyType[])[]>();

/**
 * Requires every given policy to allow the call: a class implementing `PolicyHandler` (resolved
 * through dependency injection, so it can use your services) or a function. Sync or async.
 * Controller policies run before handler policies. `false` → 403; a thrown `HttpException` keeps
 * its status.
 *
 * @example
 * \@Get('orders/:id') \@Policy(OwnsOrder) find(\@Param('id') id: string) { … }
 * \@Policy(({ principal, request }) => principal.id === request.params?.userId)
 */
export function Policy(...policies: [PolicyType, ...PolicyType[]]): MethodDecorator & ClassDecorator {
  return applyDecorators(appendMetadata(PoliciesMetadata, Object.freeze([...policies])), RequiresPrincipalMetadata());
}
