import { Inject } from '@nestjs/common';

/** @internal DI token of the token store in use; inject it with {@link InjectTokenStore}. */
export const TOKEN_STORE = Symbol('palisade:token-store');

/**
 * Injects the `TokenStore` `TokenService` uses: in memory, on Redis, or the store configured in
 * `tokens.storage.store`; `null` when `tokens` is not configured.
 *
 * @example
 * constructor(\@InjectTokenStore() private readonly store: TokenStore | null) {}
 */
export const InjectTokenStore = (): ParameterDecorator & PropertyDecorator => Inject(TOKEN_STORE);
