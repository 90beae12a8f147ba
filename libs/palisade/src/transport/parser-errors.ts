import { HttpException, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { errorBody } from '../common/error-body.js';

/** The message of every 413 for a body over the limit, whichever component refuses it. @internal */
export const BODY_TOO_LARGE = 'The request body is too large';

/**
 * What the client is told for each kind of body-parser failure (the `type` of its http-errors). A
 * fixed sentence, never the parser's own message: `JSON.parse` quotes the body it choked on, so a
 * malformed login would send part of its password back.
 */
const PARSER_MESSAGES: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'The request body is not valid JSON',
  'entity.too.large': BODY_TOO_LARGE,
  'entity.verify.failed': 'The request body was refused',
  'charset.unsupported': 'The charset of the request body is not supported',
  'encoding.unsupported': 'The content encoding of the request body is not supported',
  'parameters.too.many': 'The request body has too many parameters',
  'request.aborted': 'The request was aborted',
  'request.size.invalid': 'The request body does not match its Content-Length',
};

/** The answer to a `Content-Encoding` body that does not decompress (gzip, deflate, br). */
const UNDECOMPRESSIBLE = 'The request body could not be decompressed';
/** Codes of Node's zlib errors: zlib's (`Z_DATA_ERROR`, `Z_BUF_ERROR`…), Brotli's (`ERR__ERROR_FORMAT_…`), zstd's. */
const ZLIB_CODE = /^(?:Z_|ERR__ERROR_|ZSTD_)/;

/** A body-parser (http-errors) failure, with its `type`, or a Fastify content-type parser's (`FST_ERR_CTP_*`). */
interface ParserError {
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly message?: unknown;
}

/** Marks a wrapped `mapException`, so two Palisade modules on one adapter wrap it once. */
const WRAPPED = Symbol('palisade.parserErrors');

/** The answer to a body parser's 4xx failure, or `undefined` for any other error. */
function parserFailure(error: unknown): { status: number; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, status, statusCode, code, errno, message } = error as ParserError;
  const httpStatus = typeof status === 'number' ? status : statusCode;
  if (typeof httpStatus !== 'number' || httpStatus < 400 || httpStatus >= 500) return undefined;
  if (typeof type === 'string' && Object.hasOwn(PARSER_MESSAGES, type)) return { status: httpStatus, message: PARSER_MESSAGES[type] as string };
  // A gzip/deflate/br body that does not decompress: body-parser passes zlib's error on with
  // status 400 and zlib's message ("incorrect header check"), and no `type`.
  if (typeof code === 'string' && typeof errno === 'number' && ZLIB_CODE.test(code)) return { status: httpStatus, message: UNDECOMPRESSIBLE };
  // Fastify's body limit: the same sentence as on Express, whichever adapter runs.
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: httpStatus, message: BODY_TOO_LARGE };
  // Fastify's own messages name no part of the body ("Body is not valid JSON but content-type is
  // set to 'application/json'"); only the `error` field is missing from them.
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP_') && typeof message === 'string') return { status: httpStatus, message };
  // Fastify reading a body the client broke off (a malformed chunk, a dropped connection): Node's
  // "aborted" with status 400. Unmapped, Nest would log it as a server error, stack and all — on
  // every malformed request a client cares to send.
  if (code === 'ECONNRESET' && message === 'aborted' && httpStatus === 400) return { status: 400, message: PARSER_MESSAGES['request.aborted'] as string };
  return undefined;
}

/**
 * Answers body-parser failures (malformed JSON, too large, unsupported charset…) with Palisade's
 * stable error body `{ statusCode, error, message }` and a fixed message; on Fastify, its
 * content-type parsers' failures get the same shape. Nest maps them with the
 * parser's message, which for malformed JSON quotes the body — a password or a refresh token sent
 * back in the error — and without the `error` field the rest of Palisade's errors carry.
 *
 * It wraps the HTTP adapter's `mapException` (what Nest calls for errors raised before a route's
 * handler) at startup; every other error is mapped as before. The parser's error is not kept as
 * the exception's `cause`: it holds the raw body.
 */
@Injectable()
export class ParserErrorResponses implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter as { mapException?: (error: unknown) => unknown } | undefined;
    const original = adapter?.mapException;
    if (adapter === undefined || typeof original !== 'function' || (original as { [WRAPPED]?: true })[WRAPPED]) return;
    const mapException = (error: unknown): unknown => {
      const failure = parserFailure(error);
      if (failure === undefined) return original.call(adapter, error);
      return new HttpException(errorBody(failure.status, failure.message), failure.status);
    };
    (mapException as { [WRAPPED]?: true })[WRAPPED] = true;
    adapter.mapException = mapException;
  }
}
