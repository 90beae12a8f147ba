import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Strategy } from 'passport';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import { ApiKeyStrategy } from './api-key.strategy.js';
import { BasicStrategy } from './basic.strategy.js';
import { JwtStrategy } from './jwt.strategy.js';
import type { AuthScheme } from './principal.interface.js';
import { TOKEN_REVOCATION_CHECK, type TokenRevocationCheck } from './token-revocation.interface.js';

/**
 * Holds one `@nestjs/passport` strategy per configured scheme, built once from the normalized
 * options. A scheme that is not configured has no strategy.
 * @internal
 */
@Injectable()
export class StrategyRegistry {
  private readonly strategies = new Map<AuthScheme, Strategy>();

  constructor(@Inject(PALISADE_OPTIONS) options: NormalizedPalisadeOptions, @Optional() @Inject(TOKEN_REVOCATION_CHECK) revocation?: TokenRevocationCheck) {
    const { jwt, apiKey, basic } = options.auth;
    if (jwt) this.strategies.set('jwt', new JwtStrategy(jwt, options.tokens ? revocation : undefined) as unknown as Strategy);
    if (apiKey) this.strategies.set('api-key', new ApiKeyStrategy(apiKey) as unknown as Strategy);
    if (basic) this.strategies.set('basic', new BasicStrategy(basic) as unknown as Strategy);
  }

  get(scheme: AuthScheme): Strategy | undefined {
    return this.strategies.get(scheme);
  }
}
