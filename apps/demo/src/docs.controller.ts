import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController, type OpenAPIObject } from '@nestjs/swagger';
import { Public, Throttle } from '@palisade/nest';
import { ApiDocument } from './api-document.js';

/** `GET /docs-json`: the OpenAPI document; anyone, at most 60 requests a minute per client address. */
@Controller('docs-json')
@Public()
@Throttle({ default: { limit: 60, ttl: 60_000 } })
@ApiExcludeController()
export class DocsController {
  constructor(private readonly document: ApiDocument) {}

  @Get()
  json(): OpenAPIObject {
    return this.document.get();
  }
}
