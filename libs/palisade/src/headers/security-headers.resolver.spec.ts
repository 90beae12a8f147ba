import 'reflect-metadata';
import { Controller, Get, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeadersOptions } from './headers-options.interface.js';
import { Public } from '../auth/auth.decorator.js';
import { PalisadeModule } from '../palisade.module.js';
import { CSP_NONCE } from './content-security-policy.js';
import { CspNonce } from './csp-nonce.decorator.js';
import type { Handler } from '../common/routes.js';
import type { HeaderSet } from './headers-options.normalizer.js';
import { SecurityHeaders } from './security-headers.decorator.js';
import { SecurityHeadersResolver } from './security-headers.resolver.js';

const fixedOf = (set: HeaderSet | null) => Object.fromEntries(set?.fixed ?? []);
/** A controller method as the resolver keys it. */
const handler = (method: unknown) => method as Handler;

@SecurityHeaders({ xFrameOptions: { action: 'sameorigin' }, referrerPolicy: { policy: 'same-origin' } })
@Public()
@Controller('docs')
class DocsController {
  @Get('page')
  @SecurityHeaders({ contentSecurityPolicy: { preset: 'page' }, dangerouslyDisable: ['X-Frame-Options'] })
  page(@CspNonce() nonce: string): string {
    return nonce;
  }

  @Get('plain') plain(): void {}
}

@Public()
@Controller('api')
class ApiController {
  @Get() list(): void {}
}

/**
 * SecurityHeadersResolver in a real app: each route's `@SecurityHeaders()` layers (controller's,
 * then handler's) compiled over the module's headers at bootstrap, once per route.
 */
describe('SecurityHeadersResolver', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(controllers: Type[], headers: HeadersOptions = {}): Promise<SecurityHeadersResolver> {
    const moduleRef = await Test.createTestingModule({ imports: [PalisadeModule.forRoot({ headers })], controllers }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app.get(SecurityHeadersResolver);
  }

  it('layers the handler over the controller over the module, and returns null for a route without @SecurityHeaders()', async () => {
    const resolver = await boot([DocsController, ApiController], { xContentTypeOptions: true, crossOriginResourcePolicy: { policy: 'same-site' } });
    const page = resolver.resolve(handler(DocsController.prototype.page), DocsController);
    expect(fixedOf(page)).toMatchObject({ 'Referrer-Policy': 'same-origin', 'Cross-Origin-Resource-Policy': 'same-site' });
    expect(fixedOf(page)['X-Frame-Options']).toBeUndefined();
    expect(page?.absent).toContain('X-Frame-Options');
    expect(page?.usesNonce).toBe(true);
    expect(fixedOf(resolver.resolve(handler(DocsController.prototype.plain), DocsController))).toMatchObject({ 'X-Frame-Options': 'SAMEORIGIN' });
    expect(resolver.resolve(handler(ApiController.prototype.list), ApiController)).toBeNull();
  });

  it('compiles each route once: the same set on every call', async () => {
    const resolver = await boot([DocsController]);
    expect(resolver.resolve(handler(DocsController.prototype.page), DocsController)).toBe(
      resolver.resolve(handler(DocsController.prototype.page), DocsController),
    );
  });

  it('stops the app at bootstrap when a route takes @CspNonce() but its policy has no nonce', async () => {
    @Public()
    @Controller()
    class NoNonce {
      @Get() page(@CspNonce() nonce: string): string {
        return nonce;
      }
    }
    await expect(boot([NoNonce])).rejects.toThrow('PalisadeModule: NoNonce.page takes @CspNonce() but its Content-Security-Policy has no CSP_NONCE');
  });

  it('accepts @CspNonce() where the module policy has a nonce', async () => {
    @Public()
    @Controller()
    class ModuleNonce {
      @Get() page(@CspNonce() nonce: string): string {
        return nonce;
      }
    }
    const resolver = await boot([ModuleNonce], { contentSecurityPolicy: { directives: { 'script-src': [CSP_NONCE] } } });
    expect(resolver.resolve(handler(ModuleNonce.prototype.page), ModuleNonce)).toBeNull();
  });

  it('stops the app at bootstrap on a bad @SecurityHeaders() option, naming the route', async () => {
    @Public()
    @Controller()
    class Bad {
      @Get() @SecurityHeaders({ xFrameOptions: { action: 'never' as 'deny' } }) page(): void {}
    }
    await expect(boot([Bad])).rejects.toThrow(/@SecurityHeaders\(\) on Bad\.page.*\.xFrameOptions\.action is "never"/);
  });
});
