import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwksServer, signingKey, type TestSigningKey } from '../../../../test/support/jwks.js';
import { PalisadeModule } from '../palisade.module.js';
import { JwksKeys } from './jwks-keys.service.js';

/** JwksKeys of a real app with two JWK Set entries served by a real server on loopback. */
describe('JwksKeys', () => {
  let server: JwksServer;
  let key: TestSigningKey;
  let app: INestApplication;
  let jwks: JwksKeys;

  beforeAll(async () => {
    server = await JwksServer.start();
    key = await signingKey('RS256');
  });
  afterAll(() => server.close());

  beforeEach(async () => {
    server.mode = 'ok';
    server.publish(key);
    const moduleRef = await Test.createTestingModule({
      imports: [
        PalisadeModule.forRoot({
          auth: {
            jwt: {
              jwks: [
                { uri: server.url('/a.json'), issuer: 'https://a.example.com' },
                { uri: server.url('/b.json'), issuer: 'https://b.example.com' },
              ],
            },
          },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    jwks = app.get(JwksKeys);
  });
  afterEach(() => app.close());

  it('refreshes every set now, or only the one named, and says what each fetch gave', async () => {
    await expect(jwks.refresh()).resolves.toEqual([
      { uri: server.url('/a.json'), ok: true, keys: 1 },
      { uri: server.url('/b.json'), ok: true, keys: 1 },
    ]);
    server.mode = 'fail';
    await expect(jwks.refresh(server.url('/b.json'))).resolves.toEqual([{ uri: server.url('/b.json'), ok: false, cause: 'status', status: 500 }]);
  });

  it('revokes a key at once: it is listed, the token cache is told, and no set serves it any more', async () => {
    await jwks.refresh();
    let removals = 0;
    jwks.onKeysRemoved(() => (removals += 1));
    jwks.revokeKey(key.kid);
    expect(jwks.revokedKeys()).toEqual([key.kid]);
    // Each cached set that held the key reports its removal, and the revocation itself tells once more.
    expect(removals).toBe(3);
    // The provider still publishes it: a fetch keeps it out all the same.
    await expect(jwks.refresh()).resolves.toEqual([
      { uri: server.url('/a.json'), ok: true, keys: 0 },
      { uri: server.url('/b.json'), ok: true, keys: 0 },
    ]);
  });

  it('refuses an empty key id', () => {
    expect(() => jwks.revokeKey('')).toThrow(TypeError);
  });
});
