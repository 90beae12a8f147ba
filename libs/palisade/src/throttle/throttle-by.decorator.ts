import { Reflector } from '@nestjs/core';
import type { AuthRequest } from '../auth/auth-options.interface.js';

/** Extracts a discriminator from the request (e.g. the username of a login body). */
export type ThrottleDiscriminator = (request: AuthRequest & { body?: unknown }) => string;

/**
 * Narrows a route's counters: the key becomes the caller (principal or client IP) **and** the
 * discriminator, so `POST /auth/login` can allow 10 attempts a minute per client IP and username.
 * Values are hashed before they reach the store.
 *
 * @example
 * \@Post('login') \@Throttle({ default: { limit: 10, ttl: 60_000 } })
 * \@ThrottleBy((req) => String((req.body as { username?: unknown })?.username ?? ''))
 */
export const ThrottleBy = Reflector.createDecorator<ThrottleDiscriminator>();
