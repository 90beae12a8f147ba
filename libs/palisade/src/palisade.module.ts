import { Inject, Module, type DynamicModule, type MiddlewareConsumer, type NestModule, type Provider } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard.js';
import { Authenticator } from './auth/authenticator.service.js';
import { AuthRequirementsResolver } from './auth/auth-requirements.resolver.js';
import { StrategyRegistry } from './auth/strategy.registry.js';
import { JwksKeys } from './auth/jwks-keys.service.js';
import { AuthorizationRequirementsResolver } from './roles/authorization-requirements.resolver.js';
import { RolesGuard } from './roles/roles.guard.js';
import { ConfigurableModuleClass, type ASYNC_OPTIONS_TYPE, type OPTIONS_TYPE } from './palisade.module-definition.js';
import { OPTIONS_PROVIDERS } from './palisade-options.providers.js';
import { TokenService } from './tokens/token.service.js';
import { AUTH_ATTEMPT_GATE } from './auth/auth-attempt-gate.interface.js';
import { TOKEN_REVOCATION_CHECK } from './auth/token-revocation.interface.js';
import { AuthFailureLimiter } from './throttle/auth-failure.limiter.js';
import { ThrottlePlanResolver } from './throttle/throttle-plan.resolver.js';
import { THROTTLE_STORE_PROVIDERS } from './throttle/throttle-store.provider.js';
import { TOKEN_STORE_PROVIDERS } from './tokens/token-store.provider.js';
import { RedisConnections } from './common/redis-connections.js';
import { SecurityEvents } from './events/security-events.service.js';
import { StoreOutages } from './events/store-outages.service.js';
import { ThrottlerGuard } from './throttle/throttler.guard.js';
import { TOKENS_OPTIONS } from './tokens/tokens.constants.js';
import type { NormalizedTokensOptions } from './tokens/tokens-options.normalizer.js';
import { HTTPS_OPTIONS } from './transport/transport.constants.js';
import type { NormalizedHttpsOptions } from './transport/https-options.normalizer.js';
import { SecurityHeadersInterceptor } from './headers/security-headers.interceptor.js';
import { SecurityHeadersMiddleware } from './headers/security-headers.middleware.js';
import { SecurityHeadersResolver } from './headers/security-headers.resolver.js';
import { SecurityHeadersService } from './headers/security-headers.service.js';
import { HttpsEnforcementMiddleware } from './transport/https-enforcement.middleware.js';
import { ParserErrorResponses } from './transport/parser-errors.js';
import { RequirementsAudit } from './requirements-audit.service.js';
import { PasswordGrant } from './tokens/password-grant.service.js';

const SHARED_PROVIDERS: Provider[] = [
  ...OPTIONS_PROVIDERS,
  AuthRequirementsResolver,
  JwksKeys,
  StrategyRegistry,
  Authenticator,
  AuthGuard,
  AuthorizationRequirementsResolver,
  RolesGuard,
  TokenService,
  RedisConnections,
  SecurityEvents,
  StoreOutages,
  ...TOKEN_STORE_PROVIDERS,
  ...THROTTLE_STORE_PROVIDERS,
  ThrottlePlanResolver,
  ThrottlerGuard,
  AuthFailureLimiter,
  { provide: AUTH_ATTEMPT_GATE, useExisting: AuthFailureLimiter },
  {
    // Access tokens are checked for revocation only when the token lifecycle is configured.
    provide: TOKEN_REVOCATION_CHECK,
    inject: [TOKENS_OPTIONS, TokenService],
    useFactory: (tokens: NormalizedTokensOptions | undefined, service: TokenService) => (tokens === undefined ? null : service),
  },
  SecurityHeadersService,
  SecurityHeadersResolver,
  SecurityHeadersInterceptor,
  ParserErrorResponses,
  RequirementsAudit,
  PasswordGrant,
];

/**
 * Palisade's module: import it once, in the root module. It is global, so `AuthGuard`,
 * `RolesGuard` and `TokenService` can be used from any module.
 *
 * @example
 * \@Module({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret } }, global: true })] })
 * export class AppModule {}
 *
 * @example
 * PalisadeModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ auth: { jwt: { secret: config.getOrThrow('JWT_SECRET') } } }),
 *   global: true })
 */
@Module({})
export class PalisadeModule extends ConfigurableModuleClass implements NestModule {
  /**
   * HTTPS enforcement for every path, 404s included, and the security headers on adapters where
   * `SecurityHeadersService` installed no framework hook (it has one for Express and Fastify, ahead
   * of body parsing and Nest middleware; see its documentation).
   */
  configure(consumer: MiddlewareConsumer): void {
    // Each middleware costs a hop per request (through middie on Fastify): the headers need none
    // where the adapter's own hook writes them.
    const headers = this.headers.install() ? [] : [SecurityHeadersMiddleware];
    const enforcement = this.https.enforce ? [HttpsEnforcementMiddleware] : [];
    const middleware = [...headers, ...enforcement];
    if (middleware.length > 0) consumer.apply(...middleware).forRoutes('{*path}');
  }

  constructor(
    @Inject(HTTPS_OPTIONS) private readonly https: NormalizedHttpsOptions,
    private readonly headers: SecurityHeadersService,
  ) {
    super();
  }

  /** Registers Palisade with static options. `global: true` applies its guards to every route. */
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return PalisadeModule.complete(super.forRoot(options), options.global === true);
  }

  /** Registers Palisade with options from a factory or an options class (`useFactory`, `useClass`, `useExisting`). */
  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return PalisadeModule.complete(super.forRootAsync(options), options.global === true);
  }

  private static complete(definition: DynamicModule, registerGlobally: boolean): DynamicModule {
    const providers: Provider[] = [...(definition.providers ?? []), ...SHARED_PROVIDERS];
    if (registerGlobally) {
      // Order of DESIGN.md: authentication first; later guards (roles, throttling) follow it.
      providers.push(
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_GUARD, useExisting: RolesGuard },
        { provide: APP_GUARD, useExisting: ThrottlerGuard },
      );
    }
    return {
      ...definition,
      global: true,
      imports: [...(definition.imports ?? []), DiscoveryModule],
      providers,
      // Everything: a guard used with @UseGuards is instantiated in the controller's module.
      exports: SHARED_PROVIDERS.map((provider) => (typeof provider === 'function' ? provider : provider.provide)),
    };
  }
}
