import type { ModuleMetadata } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { CurrentUser, PalisadeModule, Public, type Principal, type ThrottleOptions } from '@palisade/nest';
import { GraphiqlModule, type GraphiqlOptions } from '@palisade/nest/graphiql';
import type { AdapterName } from './app.js';
import { TEST_SECRET } from './tokens.js';

/** A resolver with a guarded query (`me`) and a public one (`hello`). */
@Resolver()
export class GraphiqlTestResolver {
  @Query(() => String) me(@CurrentUser() user: Principal): string {
    return `signed in as ${user.id}`;
  }

  @Query(() => String) @Public() hello(): string {
    return 'hello';
  }
}

/**
 * An app with GraphQL (Apollo on Express, Mercurius on Fastify, each with its own page turned off),
 * Palisade with its defaults (strict `api` CSP everywhere) and the self-hosted GraphiQL page at
 * `/graphiql`. `throttle` is spread over the module's throttle options (its `storage` and
 * `failOpen`, for the Redis outage suite).
 */
export function graphiqlAppMetadata(
  adapter: AdapterName,
  options: { graphiql?: GraphiqlOptions; limit?: number; throttle?: Omit<ThrottleOptions, 'throttlers'> } = {},
): ModuleMetadata {
  return {
    imports: [
      adapter === 'express'
        ? GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false })
        : GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true, graphiql: false }),
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET } },
        throttle: { throttlers: [{ name: 'default', limit: options.limit ?? 1_000, ttl: '1m' }], ...options.throttle },
        global: true,
      }),
      GraphiqlModule.forRoot({ path: '/graphiql', endpoint: '/graphql', ...options.graphiql }),
    ],
    providers: [GraphiqlTestResolver],
  };
}
