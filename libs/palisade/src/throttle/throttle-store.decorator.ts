import { Inject } from '@nestjs/common';

/** @internal DI token of the throttle store in use; inject it with {@link InjectThrottleStore}. */
export const THROTTLE_STORE = Symbol('palisade:throttle-store');

/**
 * Injects the `ThrottleStore` Palisade's guards count with: the in-memory store, the Redis store
 * behind the outage policy, or the store configured in `throttle.storage.store` behind the same
 * policy. Present whether or not `throttle` is configured (in memory then).
 *
 * @example
 * constructor(\@InjectThrottleStore() private readonly store: ThrottleStore) {}
 */
export const InjectThrottleStore = (): ParameterDecorator & PropertyDecorator => Inject(THROTTLE_STORE);
