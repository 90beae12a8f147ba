import { Controller, Get } from '@nestjs/common';
import { getStorageToken } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { MemoryThrottleStore, PalisadeModule, Public } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { inSequence, statusesOf, times, TOO_MANY_REQUESTS, uniqueIp, useFreshApp } from '../support/throttle.js';

const MAX_KEYS = 100;
const CLIENTS = 2_000;
const BATCH = 50;

@Controller()
@Public()
class PingController {
  @Get('ping') ping() {
    return { pong: true };
  }
}

const floodApp = () => ({
  imports: [
    PalisadeModule.forRoot({
      trustProxy: 'loopback',
      throttle: { throttlers: [{ name: 'default', limit: 3, ttl: '1m' }], maxMemoryKeys: MAX_KEYS },
      global: true,
    }),
  ],
  controllers: [PingController],
});

describe.each(ADAPTERS)('in-memory store under a flood of distinct clients on %s', (adapter) => {
  const ctx = useFreshApp(adapter, floodApp);

  it(`stays within maxMemoryKeys (${MAX_KEYS}) with ${CLIENTS} distinct clients, and keeps limiting correctly`, async () => {
    const store: unknown = ctx.app.get(getStorageToken());
    expect(store).toBeInstanceOf(MemoryThrottleStore);
    const memory = store as MemoryThrottleStore;

    const statuses = (
      await inSequence(CLIENTS / BATCH, () => Promise.all(Array.from({ length: BATCH }, () => ctx.http.get('/ping').set('X-Forwarded-For', uniqueIp()))))
    ).flatMap(statusesOf);
    expect(statuses).toEqual(times(CLIENTS, 200));
    expect(memory.size).toBeLessThanOrEqual(MAX_KEYS);

    // A client arriving after the flood is still limited exactly.
    const ip = uniqueIp();
    const responses = await inSequence(4, () => ctx.http.get('/ping').set('X-Forwarded-For', ip));
    expect(statusesOf(responses)).toEqual([200, 200, 200, 429]);
    expect(responses[3]?.body).toEqual(TOO_MANY_REQUESTS);
    expect(memory.size).toBeLessThanOrEqual(MAX_KEYS);
  });
});
