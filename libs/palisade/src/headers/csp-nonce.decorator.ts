import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { getRequest, nodeRequestOf } from '../common/http-context.js';
import { cspNonceOf } from './security-headers.service.js';

/** @internal Set on a handler that takes a `@CspNonce()` parameter. */
export const UsesCspNonceMetadata = Reflector.createDecorator<boolean>({ transform: () => true });

const nonceParameter = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const nonce = cspNonceOf(nodeRequestOf(getRequest(context)));
  if (nonce === undefined) {
    // Checked at bootstrap for the route's own policy; reached only when a `headers.paths`
    // prefix without CSP_NONCE covers the route.
    throw new Error(`PalisadeModule: @CspNonce() on ${context.getClass().name}.${context.getHandler().name}: the response's policy has no CSP_NONCE.`);
  }
  return nonce;
});

/**
 * Injects the response's CSP nonce (base64, 128 random bits, new on every response) into a route
 * handler, for `<script nonce="…">` and `<style nonce="…">` in the HTML it renders. The route's
 * policy (module's or `@SecurityHeaders()`) must contain `CSP_NONCE`; otherwise the application
 * stops at bootstrap with an error naming the route.
 *
 * @example
 * \@Get('page') \@SecurityHeaders({ contentSecurityPolicy: { preset: 'page' } })
 * page(\@CspNonce() nonce: string): string {
 *   return `<script nonce="${nonce}">start()</script>`;
 * }
 */
export function CspNonce(): ParameterDecorator {
  return (target: object, key: string | symbol | undefined, index: number): void => {
    nonceParameter()(target, key, index);
    const handler = key === undefined ? undefined : (target as Record<string | symbol, unknown>)[key];
    if (typeof handler === 'function') UsesCspNonceMetadata()(target, key!, { value: handler } as PropertyDescriptor);
  };
}
