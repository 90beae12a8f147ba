import { Injectable, type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { createPalisadeDocument } from '@palisade/nest/openapi';

/**
 * The demo's OpenAPI document: `@nestjs/swagger`'s scan completed by Palisade (security schemes,
 * each route's `security`, its 401/403/429/503 responses). Built once, on first use, after the
 * application has started.
 */
@Injectable()
export class ApiDocument {
  private app: INestApplication | undefined;
  private document: OpenAPIObject | undefined;

  /** The document (built on the first call). */
  get(): OpenAPIObject {
    if (this.document === undefined) {
      if (this.app === undefined) throw new Error('ApiDocument: setupDocs(app) was not called.');
      const config = new DocumentBuilder()
        .setTitle('Palisade demo')
        .setDescription('Demo API secured with @palisade/nest.')
        .setVersion('0.1.0')
        .setOpenAPIVersion('3.1.0')
        .build();
      // Swagger UI's "Authorize" logs in through the demo's password grant.
      this.document = createPalisadeDocument(this.app, config, { tokenUrl: '/auth/token' });
    }
    return this.document;
  }

  /** Serves Swagger UI at `/docs` (before `app.init()`: Fastify takes no route once ready). */
  setup(app: INestApplication): void {
    this.app = app;
    // raw: false — the JSON is served by DocsController, a @Public() route throttled per address;
    // SwaggerModule's own routes sit outside Nest's router, where no guard runs.
    SwaggerModule.setup('docs', app, () => this.get(), { raw: false });
  }
}
