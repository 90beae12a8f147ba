import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { PalisadeModule, Roles, type PalisadeModuleOptions, type RedisThrottleStorage } from '@palisade/nest';
import {
  BENCH_JWT_AUDIENCE,
  BENCH_JWT_ISSUER,
  BENCH_JWT_SECRET,
  BENCH_ROLE,
  BENCH_THROTTLE_LIMIT,
  BENCH_THROTTLE_TTL_MS,
  reportsBody,
} from './bench.constants.js';

/** The route under test, secured the Palisade way: a role on the controller, everything else global. */
@Controller('reports')
@Roles(BENCH_ROLE)
class ReportsController {
  @Get()
  list(): ReturnType<typeof reportsBody> {
    return reportsBody();
  }
}

/**
 * The demo's Palisade stack, reduced to what the route under test uses: JWT (HS256 with issuer and
 * audience), roles, throttling (storage as given) and every default security header, registered
 * globally. `storage` applies to the throttle counters and to the token store (revocations), as the
 * demo does with `REDIS_URL`.
 */
export function palisadeBenchOptions(storage: 'memory' | RedisThrottleStorage | undefined): PalisadeModuleOptions {
  return {
    auth: { jwt: { secret: BENCH_JWT_SECRET, issuer: BENCH_JWT_ISSUER, audience: BENCH_JWT_AUDIENCE } },
    roles: { hierarchy: { admin: [BENCH_ROLE] } },
    throttle: { throttlers: [{ name: 'default', limit: BENCH_THROTTLE_LIMIT, ttl: BENCH_THROTTLE_TTL_MS }], storage: storage ?? 'memory' },
    tokens: { storage: storage ?? 'memory' },
  };
}

/** The root module of a Palisade stack. */
@Module({})
export class PalisadeBenchModule {
  static register(options: PalisadeModuleOptions): DynamicModule {
    return { module: PalisadeBenchModule, imports: [PalisadeModule.forRoot({ ...options, global: true })], controllers: [ReportsController] };
  }
}
