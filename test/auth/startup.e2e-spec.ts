import { Controller, Get, type ModuleMetadata } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { Auth, PalisadeModule, type AuthScheme, type JwtAlgorithm, type PalisadeModuleOptions } from '@palisade/nest';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { rsaKeys, weakRsaKeys } from '../support/keys.js';
import { TEST_SECRET } from '../support/tokens.js';

@Controller('ok')
class OkController {
  @Get() ok() {
    return { ok: true };
  }
}

@Controller('basic-only')
class BasicOnlyController {
  @Get() @Auth('basic') basicOnly() {
    return { ok: true };
  }
}

@Controller('oauth')
class UnknownSchemeController {
  @Get() @Auth('oauth' as AuthScheme) oauth() {
    return { ok: true };
  }
}

/** Compiles and initialises an app (without listening), then closes it: resolves only if it started. */
async function start(adapter: AdapterName, metadata: ModuleMetadata): Promise<void> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication(adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

const validate = () => null;

const withOptions = (options: PalisadeModuleOptions, controllers: ModuleMetadata['controllers'] = [OkController]): ModuleMetadata => ({
  imports: [PalisadeModule.forRoot({ ...options, global: true })],
  controllers,
});

describe.each(ADAPTERS)('startup validation on %s', (adapter) => {
  it('starts with a valid configuration (control case)', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: TEST_SECRET }, apiKey: { validate } } }))).resolves.toBeUndefined();
  });

  it('refuses an HS256 secret of 12 bytes', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: 'twelve-bytes' } } }))).rejects.toThrow(
      'PalisadeModule: auth.jwt.secret is 12 bytes; HS256 needs at least 32.',
    );
  });

  it("refuses 'none' in auth.jwt.algorithms", async () => {
    const algorithms = ['HS256', 'none'] as unknown as JwtAlgorithm[];
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: TEST_SECRET, algorithms } } }))).rejects.toThrow(
      "PalisadeModule: auth.jwt.algorithms contains 'none'",
    );
  });

  it('refuses auth.jwt without any key', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: {} } }))).rejects.toThrow('PalisadeModule: auth.jwt has no key');
  });

  it('refuses both auth.jwt.secret and auth.jwt.publicKey', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: TEST_SECRET, publicKey: rsaKeys().publicKey } } }))).rejects.toThrow(
      'PalisadeModule: auth.jwt has both secret and publicKey',
    );
  });

  it('refuses HS256 in auth.jwt.algorithms next to a public key (algorithm confusion)', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { publicKey: rsaKeys().publicKey, algorithms: ['HS256'] } } }))).rejects.toThrow(
      'PalisadeModule: auth.jwt.algorithms contains HS256 with a public key',
    );
  });

  it('refuses a 1024-bit RSA auth.jwt.publicKey', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { publicKey: weakRsaKeys().publicKey } } }))).rejects.toThrow(
      'PalisadeModule: auth.jwt.publicKey is a 1024-bit RSA key',
    );
  });

  it('refuses an unknown top-level option', async () => {
    const options = { jwt: { secret: TEST_SECRET } } as unknown as PalisadeModuleOptions;
    await expect(start(adapter, withOptions(options))).rejects.toThrow(
      'PalisadeModule: unknown option jwt. Known options: auth, roles, trustProxy, throttle, tokens, headers, https, events, stableRequestShapes.',
    );
  });

  it("refuses @Auth('basic') on a route when auth.basic is not configured", async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: TEST_SECRET } } }, [BasicOnlyController]))).rejects.toThrow(
      "@Auth() on BasicOnlyController.basicOnly names the scheme 'basic', which is not configured; set auth.basic",
    );
  });

  it('refuses an unknown scheme name in @Auth', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: TEST_SECRET } } }, [UnknownSchemeController]))).rejects.toThrow(
      '@Auth() on UnknownSchemeController.oauth names the scheme "oauth"',
    );
  });

  it('refuses an unknown scheme name in auth.defaultSchemes', async () => {
    const defaultSchemes = ['oauth'] as unknown as AuthScheme[];
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: TEST_SECRET }, defaultSchemes } }))).rejects.toThrow(
      'PalisadeModule: auth.defaultSchemes names the scheme "oauth"',
    );
  });

  it('refuses an auth.jwt.clockTolerance of one hour', async () => {
    await expect(start(adapter, withOptions({ auth: { jwt: { secret: TEST_SECRET, clockTolerance: '1h' } } }))).rejects.toThrow(
      'PalisadeModule: auth.jwt.clockTolerance is 3600000 ms; at most 5 minutes',
    );
  });

  it('refuses auth.apiKey with neither keys nor validate', async () => {
    await expect(start(adapter, withOptions({ auth: { apiKey: {} } }))).rejects.toThrow('PalisadeModule: auth.apiKey needs keys');
  });

  it("refuses auth.apiKey.header 'authorization', whatever its case", async () => {
    await expect(start(adapter, withOptions({ auth: { apiKey: { header: 'authorization', validate } } }))).rejects.toThrow(
      'PalisadeModule: auth.apiKey.header is "authorization"',
    );
    await expect(start(adapter, withOptions({ auth: { apiKey: { header: 'Authorization', validate } } }))).rejects.toThrow(
      'PalisadeModule: auth.apiKey.header is "Authorization"',
    );
  });
});
