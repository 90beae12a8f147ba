import { HttpException } from '@nestjs/common';
import { CredentialRejectedError, type RejectionReason } from './credential-rejected.error.js';
import type { PrincipalInit } from './principal.interface.js';

/**
 * What the guard needs of a passport strategy: `authenticate(request, options)`, with the actions
 * (`success`, `fail`, `error`…) passport attaches per attempt.
 * @internal
 */
export interface PassportStrategyLike {
  authenticate(request: unknown, options?: object): void;
}

/** @internal */
export type StrategyOutcome =
  | { readonly kind: 'success'; readonly principal: PrincipalInit }
  | { readonly kind: 'rejected'; readonly reason: RejectionReason; readonly info: unknown }
  | { readonly kind: 'error'; readonly error: unknown };

interface StrategyActions {
  success(user: unknown): void;
  fail(info?: unknown): void;
  error(error: unknown): void;
  pass(): void;
  redirect(): void;
  authenticate(request: unknown, options: object): void;
}

const AUTHENTICATE_OPTIONS = Object.freeze({ session: false });

/**
 * Runs one passport strategy against a request the way `passport.authenticate` does (a per-request
 * object inheriting from the strategy, with `success`/`fail`/`error` actions), but resolves with
 * the outcome instead of writing a response, so the guard can try the next scheme. Nothing here
 * goes through passport's global registry, so two apps in one process never share strategies.
 * @internal
 */
export function runStrategy(strategy: PassportStrategyLike, request: unknown): Promise<StrategyOutcome> {
  return new Promise<StrategyOutcome>((resolve) => {
    const attempt = Object.create(strategy) as StrategyActions;
    attempt.success = (user) => resolve({ kind: 'success', principal: user as PrincipalInit });
    attempt.fail = (info) => resolve({ kind: 'rejected', reason: 'invalid', info });
    attempt.error = (error) => {
      if (error instanceof CredentialRejectedError) resolve({ kind: 'rejected', reason: error.reason, info: error });
      else resolve({ kind: 'error', error });
    };
    attempt.pass = () => resolve({ kind: 'rejected', reason: 'invalid', info: undefined });
    attempt.redirect = attempt.pass;
    try {
      attempt.authenticate(request, AUTHENTICATE_OPTIONS);
    } catch (error) {
      // A strategy that throws on a malformed credential is a rejection, never a 500.
      resolve(error instanceof HttpException ? { kind: 'error', error } : { kind: 'rejected', reason: 'malformed', info: error });
    }
  });
}
