import { Module, type DynamicModule } from '@nestjs/common';
import { PalisadeModule, type PalisadeModuleOptions } from '@palisade/nest';
import { AdminController } from './admin.controller.js';
import { ApiDocument } from './api-document.js';
import { AuthController } from './auth.controller.js';
import { DEMO_REALM, type DemoConfig } from './config.js';
import { DocsController } from './docs.controller.js';
import { HealthController } from './health.controller.js';
import { MeController } from './me.controller.js';
import { OwnProfilePolicy, ProfilesController } from './profiles.controller.js';
import { ReportsController } from './reports.controller.js';
import { TokenController } from './token.controller.js';
import { UsersModule } from './users.module.js';
import { UsersService } from './users.service.js';

/** Palisade options of the demo, built from its configuration. */
export function palisadeOptions(config: DemoConfig, users: UsersService): PalisadeModuleOptions {
  return {
    auth: {
      jwt: {
        secret: config.jwtSecret,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        // Tokens of an external identity provider, verified with its published keys; JWT_ISSUER and
        // JWT_AUDIENCE apply to them too (written out, though a jwks entry inherits both).
        ...(config.jwksUri === undefined ? {} : { jwks: [{ uri: config.jwksUri, issuer: config.jwtIssuer, audience: config.jwtAudience }] }),
      },
      apiKey: {
        header: 'x-api-key',
        keys: [{ sha256: config.apiKeySha256, principal: { id: 'svc', roles: ['service'], scopes: ['reports:read'] } }],
      },
      basic: { validate: (userId, password) => users.verify(userId, password) },
      realm: DEMO_REALM,
    },
    roles: { hierarchy: { admin: ['user'] } },
    // One Redis connection (server, Cluster or Sentinel) shared by both stores: the same value.
    throttle: {
      throttlers: [{ name: 'default', limit: config.throttleLimit, ttl: `${config.throttleTtlMs}ms` }],
      storage: config.redis === undefined ? 'memory' : { redis: config.redis, prefix: 'palisade-demo:' },
    },
    tokens: {
      refreshTokenTtl: '7d',
      storage: config.redis === undefined ? 'memory' : { redis: config.redis, prefix: 'palisade-demo:' },
    },
    ...(config.trustProxy === undefined ? {} : { trustProxy: /^\d+$/.test(config.trustProxy) ? Number(config.trustProxy) : config.trustProxy }),
    // Security headers: Palisade's defaults on every response, Swagger UI's policy under /docs.
    headers: { paths: { '/docs': { contentSecurityPolicy: { preset: 'swagger-ui' } } } },
    // HTTPS: redirect or refuse plain HTTP.
    https: { enforce: config.httpsEnforce, hosts: config.httpsHosts, port: config.httpsPort },
  };
}

/** The demo API's root module. */
@Module({})
export class AppModule {
  static register(config: DemoConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        UsersModule,
        PalisadeModule.forRootAsync({
          imports: [UsersModule],
          inject: [UsersService],
          useFactory: (users: UsersService) => palisadeOptions(config, users),
          global: true,
        }),
      ],
      controllers: [HealthController, AuthController, TokenController, MeController, AdminController, ReportsController, ProfilesController, DocsController],
      providers: [OwnProfilePolicy, ApiDocument],
    };
  }
}
