import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, PayloadTooLargeException } from '@nestjs/common';
import { describe } from '../common/duration.js';
import { errorBody } from '../common/error-body.js';
import { assertKnownKeys } from '../common/option-keys.js';
import type { BodyLimitOptions } from './body-limit-options.interface.js';
import { BODY_TOO_LARGE } from './parser-errors.js';

/** A Connect-style middleware, as `app.use()` takes it on Express. */
export type BodyLimitMiddleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

const KNOWN_KEYS = ['limit', 'lengthRequired'];
const LENGTH_REQUIRED = 'The request body must declare its length (Content-Length)';

function fail(message: string): never {
  throw new Error(`bodyLimit: ${message}`);
}

/**
 * Answers a request whose `Content-Length` is over `limit` with 413 at once, before a byte of its
 * body is read: Palisade's error body `{ statusCode: 413, error: 'Payload Too Large', message:
 * 'The request body is too large' }` and `Connection: close`, so the client stops sending and the
 * connection is not kept for a body nobody will read. The error goes through Nest's exception
 * layer (`next(error)`), so it carries the CORS and security headers like any other error.
 *
 * For Express: its body parser (body-parser) refuses such a body with 413 too, but only after
 * reading the whole remaining request, however large — on a slow link a 20 MB body holds the
 * connection for as long as the client takes to send it. Register it with `app.use()` **after**
 * `app.enableCors()` and **before** the body parser, with the parser's limit (`bodyParser: false`
 * and `app.useBodyParser()`, or before `app.init()` with Nest's default parsers). On Fastify the
 * adapter's `bodyLimit` already answers a declared length at once; this middleware is not needed.
 *
 * A chunked body (no `Content-Length`) has no length to judge: body-parser stops keeping it at the
 * limit and answers 413 once the client has finished sending it. `lengthRequired: true` refuses
 * such a body at once instead (411, the same error body and `Connection: close`).
 *
 * Throws at startup, naming the option, the bad value and the fix.
 *
 * @example
 * const LIMIT = 64 * 1024; // bytes
 * const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false });
 * app.enableCors(strictCors({ origins: ['https://app.example.com'] }));
 * app.use(bodyLimit({ limit: LIMIT }));
 * app.useBodyParser('json', { limit: LIMIT });
 */
export function bodyLimit(options: BodyLimitOptions): BodyLimitMiddleware {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail(`options are ${describe(options)}; expected { limit: 65536 } (bytes).`);
  assertKnownKeys(options, KNOWN_KEYS, '', 'bodyLimit');
  const { limit, lengthRequired = false } = options;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    fail(`limit is ${describe(limit)}; expected a whole number of bytes, 0 or more, such as 65536 (64 KB).`);
  }
  if (typeof lengthRequired !== 'boolean') fail(`lengthRequired is ${describe(lengthRequired)}; expected true or false.`);
  const body = errorBody(413, BODY_TOO_LARGE);
  const unsized = errorBody(411, LENGTH_REQUIRED);
  return function palisadeBodyLimit(request, response, next) {
    // Node's HTTP parser has already refused a Content-Length that is not a decimal number.
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      response.setHeader('Connection', 'close');
      next(new PayloadTooLargeException({ ...body }));
      return;
    }
    // Node's parser refuses Content-Length with Transfer-Encoding: a body here has no declared length.
    if (lengthRequired && declared === undefined && request.headers['transfer-encoding'] !== undefined) {
      response.setHeader('Connection', 'close');
      next(new HttpException({ ...unsized }, 411));
      return;
    }
    next();
  };
}
