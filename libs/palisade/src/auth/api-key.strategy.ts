import { createHash, timingSafeEqual } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import type { HttpRequestLike } from '../common/http-context.js';
import type { NormalizedApiKeyOptions } from './auth-options.normalizer.js';
import { CallbackStrategy } from './callback.strategy.js';
import { cachedCredentials } from './credentials.js';
import { CredentialRejectedError } from './credential-rejected.error.js';
import type { PrincipalInit } from './principal.interface.js';

/** @internal */
export const API_KEY_STRATEGY = 'palisade-api-key';

/**
 * Authenticates a key presented in a header: hashed keys are compared in constant time (every
 * configured digest is compared, with no early exit), then the `validate` callback is asked.
 * @internal
 */
export class ApiKeyStrategy extends PassportStrategy(CallbackStrategy, API_KEY_STRATEGY) {
  constructor(private readonly options: NormalizedApiKeyOptions) {
    super();
  }

  async validate(request: HttpRequestLike): Promise<PrincipalInit> {
    const key = cachedCredentials(request)?.apiKey;
    if (key === undefined) throw new CredentialRejectedError('malformed', 'no usable API key');
    const { keys, validate } = this.options;
    if (keys.length > 0) {
      const digest = createHash('sha256').update(key, 'utf8').digest();
      let match: PrincipalInit | undefined;
      for (const entry of keys) {
        if (timingSafeEqual(digest, entry.digest) && match === undefined) match = entry.principal;
      }
      if (match) return match;
    }
    if (validate) {
      const principal = await validate(key, request);
      if (principal) return principal;
    }
    throw new CredentialRejectedError('invalid', 'unknown API key');
  }
}
