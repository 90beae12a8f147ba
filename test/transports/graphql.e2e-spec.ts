import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Field, GraphQLModule, Mutation, ObjectType, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Public, Roles, Scopes, Throttle, type Principal } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { bearer, startupError } from '../support/authorization.js';
import { CollectingSink } from '../support/events.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

@ObjectType()
class Report {
  @Field(() => String) id!: string;
}

@Resolver(() => Report)
class ReportsResolver {
  @Query(() => String) @Roles('admin') secret(): string {
    return 'the secret';
  }

  @Query(() => String) @Public() hello(): string {
    return 'hello';
  }

  @Query(() => String) me(@CurrentUser() user: Principal): string {
    return `${user.id}:${user.scheme}`;
  }

  @Query(() => String) @Scopes('reports:read') scoped(): string {
    return 'scoped';
  }

  @Query(() => [Report]) @Public() reports(): Report[] {
    return [{ id: '1' }];
  }

  @ResolveField(() => String, { nullable: true }) @Roles('admin') note(@Parent() report: Report): string {
    return `note ${report.id}`;
  }

  @Mutation(() => String, { nullable: true }) @Throttle({ default: { limit: 2, ttl: 60_000 } }) ping(): string {
    return 'pong';
  }
}

@Resolver()
class UnguardedResolver {
  @Query(() => String) @Roles('admin') secret(): string {
    return 'the secret';
  }
}

const UNAUTHENTICATED = { message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } };
const FORBIDDEN_ROLE = { message: 'Insufficient role', extensions: { code: 'FORBIDDEN' } };

function graphQLModule(adapter: AdapterName, fieldGuards = true): ModuleMetadata['imports'] {
  const fieldResolverEnhancers: ('guards' | 'interceptors' | 'filters')[] = fieldGuards ? ['guards'] : [];
  return [
    adapter === 'express'
      ? GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, fieldResolverEnhancers })
      : GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true, fieldResolverEnhancers }),
  ];
}

function palisade(): ModuleMetadata['imports'] {
  return [
    PalisadeModule.forRoot({
      auth: { jwt: { secret: TEST_SECRET } },
      throttle: { throttlers: [{ name: 'default', limit: 100, ttl: '1m' }] },
      global: true,
    }),
  ];
}

interface GraphQLReply {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** The only error of a reply, as the client sees it. */
function errorOf(reply: GraphQLReply): { message: string | undefined; extensions: Record<string, unknown> | undefined } {
  expect(reply.errors).toHaveLength(1);
  const [error] = reply.errors ?? [];
  return { message: error?.message, extensions: error?.extensions };
}

describe.each(ADAPTERS)('GraphQL resolvers behind the global guards (%s)', (adapter) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];
  let sink: CollectingSink;

  beforeAll(async () => {
    ({ app, http } = await bootApp(adapter, {
      imports: [...(graphQLModule(adapter) ?? []), ...(palisade() ?? [])],
      providers: [ReportsResolver, CollectingSink],
    }));
    sink = app.get(CollectingSink);
  });
  afterAll(() => app.close());
  beforeEach(() => sink.clear());

  async function gql(query: string, authorization?: string): Promise<GraphQLReply> {
    const req = http.post('/graphql').set('Content-Type', 'application/json');
    if (authorization) req.set('Authorization', authorization);
    const res = await req.send({ query });
    expect(res.status).toBe(200);
    return res.body as GraphQLReply;
  }

  it('an anonymous query of a @Roles resolver gets UNAUTHENTICATED, never its data', async () => {
    const reply = await gql('{ secret }');
    expect(errorOf(reply)).toEqual(UNAUTHENTICATED);
    expect(JSON.stringify(reply)).not.toContain('the secret');
  });

  it('a caller without the role gets FORBIDDEN; an admin gets the data', async () => {
    expect(errorOf(await gql('{ secret }', bearer({ roles: ['user'] })))).toEqual(FORBIDDEN_ROLE);
    expect(await gql('{ secret }', bearer({ roles: ['admin'] }))).toEqual({ data: { secret: 'the secret' } });
  });

  it('a missing scope is FORBIDDEN with the fixed message', async () => {
    expect(errorOf(await gql('{ scoped }', bearer({ scope: 'other' })))).toEqual({ message: 'Insufficient scope', extensions: { code: 'FORBIDDEN' } });
    expect(await gql('{ scoped }', bearer({ scope: 'reports:read' }))).toEqual({ data: { scoped: 'scoped' } });
  });

  it('a bad token is UNAUTHENTICATED with the fixed message and no stack', async () => {
    const reply = await gql('{ me }', 'Bearer not.a.token');
    expect(errorOf(reply)).toEqual({ message: 'Invalid credentials', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('@Public() resolvers answer anonymous callers', async () => {
    expect(await gql('{ hello }')).toEqual({ data: { hello: 'hello' } });
  });

  it('@CurrentUser() injects the principal in a resolver', async () => {
    expect(await gql('{ me }', bearer({ sub: 'alice' }))).toEqual({ data: { me: 'alice:jwt' } });
  });

  it('a @Roles field resolver under a @Public() query is judged on its own', async () => {
    const anonymous = await gql('{ reports { id note } }');
    expect(anonymous.data).toEqual({ reports: [{ id: '1', note: null }] });
    expect(errorOf(anonymous)).toEqual(UNAUTHENTICATED);
    expect(errorOf(await gql('{ reports { id note } }', bearer({ roles: ['user'] })))).toEqual(FORBIDDEN_ROLE);
    expect(await gql('{ reports { id note } }', bearer({ roles: ['admin'] }))).toEqual({ data: { reports: [{ id: '1', note: 'note 1' }] } });
  });

  it('aliases buy no extra calls: each resolved field counts against the limit', async () => {
    const token = bearer({ sub: `alias-${adapter}` });
    const reply = await gql('mutation { a: ping b: ping c: ping }', token);
    expect(reply.data).toEqual(expect.objectContaining({ a: 'pong', b: 'pong' }));
    const [error] = reply.errors ?? [];
    expect(reply.errors).toHaveLength(1);
    expect(error?.message).toBe('Too many requests; retry later');
    expect(error?.extensions?.code).toBe('TOO_MANY_REQUESTS');
    expect(error?.extensions?.retryAfter).toBeGreaterThan(0);
    expect(error?.path).toEqual(['c']);
    // And the next request, too.
    expect(errorOf(await gql('mutation { ping }', token)).extensions?.code).toBe('TOO_MANY_REQUESTS');
  });

  it('security events name the operation and the field, not POST /graphql', async () => {
    await gql('query Secrets { secret }', bearer({ roles: ['user'] }));
    const [denied] = sink.ofType('access.denied');
    expect(denied?.route).toBe('query Query.secret (Secrets)');
  });
});

describe.each(ADAPTERS)('GraphQL under a parallel guessing attack (%s)', (adapter) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    // Its own app: the brute-force budget of 127.0.0.1 is spent here and nowhere else.
    ({ app, http } = await bootApp(adapter, {
      imports: [
        ...(graphQLModule(adapter) ?? []),
        PalisadeModule.forRoot({
          auth: { jwt: { secret: TEST_SECRET } },
          throttle: { throttlers: [{ name: 'default', limit: 1_000, ttl: '1m' }], authFailures: { limit: 10, ttl: '1m', blockDuration: '5m' } },
          global: true,
        }),
      ],
      providers: [ReportsResolver],
    }));
  });
  afterAll(() => app.close());

  it('100 forged tokens at once: exactly 10 are verified (UNAUTHENTICATED), the rest TOO_MANY_REQUESTS; then a valid token is blocked too', async () => {
    const forged = Array.from({ length: 100 }, (_, i) => signToken({ sub: `guess-${i}` }, { secret: 'not-the-secret-0123456789abcdef-0123456789ab' }));
    const replies = await Promise.all(
      forged.map(async (token) => {
        const res = await http.post('/graphql').set('Content-Type', 'application/json').set('Authorization', `Bearer ${token}`).send({ query: '{ me }' });
        return (res.body as GraphQLReply).errors?.[0]?.extensions?.code;
      }),
    );
    const tally: Record<string, number> = {};
    for (const code of replies) tally[String(code)] = (tally[String(code)] ?? 0) + 1;
    expect(tally).toEqual({ UNAUTHENTICATED: 10, TOO_MANY_REQUESTS: 90 });
    const valid = await http
      .post('/graphql')
      .set('Content-Type', 'application/json')
      .set('Authorization', bearer({ sub: 'alice' }))
      .send({ query: '{ me }' });
    expect((valid.body as GraphQLReply).errors?.[0]?.extensions?.code).toBe('TOO_MANY_REQUESTS');
    expect(JSON.stringify(valid.body)).not.toContain('alice:jwt');
  });
});

describe.each(ADAPTERS)('GraphQL startup checks (%s)', (adapter) => {
  it('a field resolver that needs a caller while GraphQLModule runs no guards on field resolvers stops the app', async () => {
    const error = await startupError(adapter, { imports: [...(graphQLModule(adapter, false) ?? []), ...(palisade() ?? [])], providers: [ReportsResolver] });
    expect(error.message).toBe(
      "PalisadeModule: ReportsResolver.note (GraphQL field resolver) needs a caller, but GraphQLModule runs no guards on field resolvers, so nothing would check it; add fieldResolverEnhancers: ['guards'] to GraphQLModule.forRoot(), or mark the field resolver @Public().",
    );
  });

  it('a subscription that needs a caller stops the app (graphql-ws connection_init is not authenticated)', async () => {
    @Resolver()
    class EventsResolver {
      @Query(() => String) @Public() up(): string {
        return 'up';
      }

      @Subscription(() => String) events(): AsyncIterator<string> {
        throw new Error('not reached');
      }
    }
    const error = await startupError(adapter, { imports: [...(graphQLModule(adapter) ?? []), ...(palisade() ?? [])], providers: [EventsResolver] });
    expect(error.message).toBe(
      "PalisadeModule: EventsResolver.events (GraphQL subscription) needs a caller, but Palisade does not authenticate GraphQL subscriptions (graphql-ws connection_init); mark it @Public() and authenticate the connection in the driver's onConnect, or serve the data through a query.",
    );
  });

  it('a @Roles resolver without any Palisade guard (global off, no @UseGuards) stops the app', async () => {
    const error = await startupError(adapter, {
      imports: [...(graphQLModule(adapter) ?? []), PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } } })],
      providers: [UnguardedResolver],
    });
    expect(error.message).toBe(
      "PalisadeModule: UnguardedResolver.secret (GraphQL query) declares @Roles(), @Scopes() or @Policy(), but no RolesGuard runs on it; add @UseGuards(RolesGuard) to it or its class, or register Palisade's guards globally (PalisadeModule.forRoot({ global: true })).",
    );
  });
});
