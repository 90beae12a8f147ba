import { randomUUID } from 'node:crypto';
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import { errorBody } from '../common/error-body.js';
import type { HeaderSet } from './headers-options.normalizer.js';

/**
 * The statuses of the responses Node.js would otherwise write itself, before the framework sees
 * the request, with their fixed, readable messages (nothing of the request is ever echoed).
 */
const MESSAGES: ReadonlyMap<number, string> = new Map([
  [400, 'The request is not valid HTTP'],
  [408, 'The request was not received in time'],
  [413, 'The chunk extensions of the request body are too large'],
  [417, 'The only expectation supported is Expect: 100-continue'],
  [431, 'The request headers are too large'],
]);

/**
 * The status answering each Node.js client error code, as Node.js's own default answer maps them
 * (https://nodejs.org/api/http.html#event-clienterror). Every other parser error is a 400.
 */
const STATUS_OF_CODE: ReadonlyMap<string, number> = new Map([
  ['HPE_HEADER_OVERFLOW', 431],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
  ['ERR_HTTP_REQUEST_TIMEOUT', 408],
]);

/** The status Palisade answers a Node.js client error (`clientError`) with. @internal */
export function statusOfClientError(error: { code?: unknown }): number {
  return (typeof error.code === 'string' ? STATUS_OF_CODE.get(error.code) : undefined) ?? 400;
}

/** A header line, checked at startup: a raw response bypasses Node.js's own header checks. */
function lineOf(name: string, value: string): string {
  validateHeaderName(name);
  validateHeaderValue(name, value);
  return `${name}: ${value}\r\n`;
}

/** The parts of one complete early response that do not change between errors. */
interface RawAnswer {
  /** `HTTP/1.1 431 Request Header Fields Too Large\r\n` and the fixed security headers. */
  readonly head: string;
  /** `Content-Type`, `Content-Length`, `Connection: close`, the blank line and the JSON body. */
  readonly tail: string;
  /** The JSON body alone (Palisade's stable error body). */
  readonly body: string;
}

/**
 * The responses Palisade writes where Node.js would write a bare one itself: a request the HTTP
 * parser rejects (`clientError`: 400, 408, 413, 431), and an `Expect` other than `100-continue`
 * (`checkExpectation`: 417). Everything but the request id, the date and a CSP nonce is serialized
 * once, at startup, from the module's header set.
 * @internal
 */
export class EarlyResponses {
  private readonly answers = new Map<number, RawAnswer>();
  private readonly hstsLine: string;

  /** @param set the module's header set (`headers.base`): no path is known before a request is parsed. */
  constructor(private readonly set: HeaderSet) {
    let fixed = '';
    for (const [name, value] of set.fixed) fixed += lineOf(name, value);
    for (const policy of set.policies) for (const part of policy.parts) validateHeaderValue(policy.header, part);
    this.hstsLine = set.hsts === undefined ? '' : lineOf('Strict-Transport-Security', set.hsts);
    for (const [status, message] of MESSAGES) {
      const body = JSON.stringify(errorBody(status, message));
      this.answers.set(status, {
        body,
        head: `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${fixed}`,
        tail: `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      });
    }
  }

  /** The JSON body of `status` (400, 408, 413, 417 or 431; any other status is answered as a 400). */
  body(status: number): string {
    return this.answerOf(status).body;
  }

  /**
   * The complete HTTP/1.1 response to write on a raw socket: the status line, the security
   * headers (HSTS when the connection is TLS, each nonce policy with a fresh `nonce`), a new
   * `X-Request-Id`, `Date`, the JSON headers, `Connection: close` and the body.
   */
  raw(status: number, tls: boolean, nonce: () => string): string {
    const answer = this.answerOf(status);
    let response = answer.head;
    if (tls) response += this.hstsLine;
    if (this.set.usesNonce) {
      const source = `'nonce-${nonce()}'`;
      for (const policy of this.set.policies) response += `${policy.header}: ${policy.parts.join(source)}\r\n`;
    }
    return `${response}X-Request-Id: ${randomUUID()}\r\nDate: ${new Date().toUTCString()}\r\n${answer.tail}`;
  }

  private answerOf(status: number): RawAnswer {
    return this.answers.get(status) ?? (this.answers.get(400) as RawAnswer);
  }
}
