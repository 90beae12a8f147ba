// Stack (d): the community stack, written as each package's docs teach it —
//  - helmet: `app.use(helmet())` on Express, `await app.register(helmet)` (@fastify/helmet) on Fastify;
//  - @nestjs/throttler: `ThrottlerModule.forRoot` with its default in-memory storage and
//    `ThrottlerGuard` as an APP_GUARD;
//  - @nestjs/passport: `AuthGuard('jwt')` with a passport-jwt `JwtStrategy` whose secret is a string
//    (`secretOrKey: jwtConstants.secret` in the docs);
//  - a `RolesGuard` with `Reflector` and a `@Roles()` decorator made with `SetMetadata` (Nest docs,
//    "Authorization", basic RBAC).
// BENCH_SECRET_FORM=keyobject passes the secret as a KeyObject instead (the `community-keyobject` stack).
// BENCH_NEST_HEADERS=1 (`nest-first-party`): the same guards with Nest's own `app.useSecurityHeaders()`
// instead of helmet — the first-party stack the Nest docs teach on Nest 12.5.
import { createSecretKey } from 'node:crypto';
import { Controller, Get, Injectable, Module, SetMetadata, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import fastifyHelmet from '@fastify/helmet';
import helmet from 'helmet';
import { ExtractJwt, Strategy } from 'passport-jwt';
import {
  BENCH_JWT_AUDIENCE,
  BENCH_JWT_ISSUER,
  BENCH_JWT_SECRET,
  BENCH_ROLE,
  BENCH_THROTTLE_LIMIT,
  BENCH_THROTTLE_TTL_MS,
  reportsBody,
} from './bench.constants.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

const secretForm = process.env.BENCH_SECRET_FORM === 'keyobject' ? 'keyobject' : 'string';
const nestHeaders = process.env.BENCH_NEST_HEADERS === '1';

/** The payload our tokens carry. */
interface JwtPayload {
  sub: string;
  roles?: string[];
}

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      // passport-jwt's types say string | Buffer; jsonwebtoken (which verifies) also takes a KeyObject.
      secretOrKey: secretForm === 'keyobject' ? (createSecretKey(Buffer.from(BENCH_JWT_SECRET)) as unknown as string) : BENCH_JWT_SECRET,
      // The same checks Palisade makes: pinned algorithm, issuer and audience.
      algorithms: ['HS256'],
      issuer: BENCH_JWT_ISSUER,
      audience: BENCH_JWT_AUDIENCE,
    });
  }

  validate(payload: JwtPayload): { userId: string; roles: string[] } {
    return { userId: payload.sub, roles: payload.roles ?? [] };
  }
}

const ROLES_KEY = 'roles';
const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

@Injectable()
class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const requiredRoles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (!requiredRoles) return true;
    const { user } = context.switchToHttp().getRequest<{ user?: { roles?: string[] } }>();
    return requiredRoles.some((role) => user?.roles?.includes(role));
  }
}

@Controller('reports')
@UseGuards(AuthGuard('jwt'), RolesGuard)
@Roles(BENCH_ROLE)
class ReportsController {
  @Get()
  list(): ReturnType<typeof reportsBody> {
    return reportsBody();
  }
}

@Module({
  imports: [PassportModule, ThrottlerModule.forRoot({ throttlers: [{ ttl: BENCH_THROTTLE_TTL_MS, limit: BENCH_THROTTLE_LIMIT }] })],
  controllers: [ReportsController],
  providers: [JwtStrategy, { provide: APP_GUARD, useClass: ThrottlerGuard }],
})
class CommunityModule {}

runServer(() =>
  startBenchServer(nestHeaders ? 'nest-first-party' : secretForm === 'keyobject' ? 'community-keyobject' : 'community', CommunityModule, adapterFromArgs(), {
    express: (app) => {
      if (nestHeaders) app.useSecurityHeaders();
      else app.use(helmet());
    },
    fastify: async (app) => {
      if (nestHeaders) app.useSecurityHeaders();
      else await app.register(fastifyHelmet);
    },
  }),
);
