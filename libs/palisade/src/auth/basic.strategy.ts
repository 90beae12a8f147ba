import { PassportStrategy } from '@nestjs/passport';
import type { HttpRequestLike } from '../common/http-context.js';
import type { NormalizedBasicOptions } from './auth-options.normalizer.js';
import { CallbackStrategy } from './callback.strategy.js';
import { cachedCredentials } from './credentials.js';
import { CredentialRejectedError } from './credential-rejected.error.js';
import type { PrincipalInit } from './principal.interface.js';

/** @internal */
export const BASIC_STRATEGY = 'palisade-basic';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 7617 §2: user-id and password must not contain control characters; the user-id has no colon.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_DECODED = 4096;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes `user-pass` (RFC 7617 §2) strictly; `undefined` when malformed. @internal */
export function decodeBasicCredential(token68: string): { userId: string; password: string } | undefined {
  if (token68.length === 0 || token68.length > (MAX_DECODED * 4) / 3 + 4 || !BASE64.test(token68)) return undefined;
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(token68, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const userId = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (CONTROL.test(userId) || CONTROL.test(password)) return undefined;
  return { userId, password };
}

/**
 * HTTP Basic (RFC 7617): strict base64 and UTF-8 decoding, then the `validate` callback. The
 * password goes nowhere else.
 * @internal
 */
export class BasicStrategy extends PassportStrategy(CallbackStrategy, BASIC_STRATEGY) {
  constructor(private readonly options: NormalizedBasicOptions) {
    super();
  }

  async validate(request: HttpRequestLike): Promise<PrincipalInit> {
    const credentials = cachedCredentials(request);
    const decoded =
      credentials?.authScheme === 'basic' && credentials.authCredential !== undefined ? decodeBasicCredential(credentials.authCredential) : undefined;
    if (!decoded) throw new CredentialRejectedError('malformed', 'malformed Basic credentials');
    const principal = await this.options.validate(decoded.userId, decoded.password, request);
    if (!principal) throw new CredentialRejectedError('invalid', 'wrong user id or password');
    return principal;
  }
}
