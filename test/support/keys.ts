import { generateKeyPairSync, type KeyPairKeyObjectResult } from 'node:crypto';

let rsa: KeyPairKeyObjectResult | undefined;
let ec: KeyPairKeyObjectResult | undefined;

/** A 2048-bit RSA key pair (RS256), generated once per test file. */
export function rsaKeys(): KeyPairKeyObjectResult {
  return (rsa ??= generateKeyPairSync('rsa', { modulusLength: 2048 }));
}

/** An EC P-256 key pair (ES256), generated once per test file. */
export function ecKeys(): KeyPairKeyObjectResult {
  return (ec ??= generateKeyPairSync('ec', { namedCurve: 'P-256' }));
}

/** A fresh 1024-bit RSA key pair: too weak for RS256 (RFC 7518 §3.3 asks for 2048 bits). */
export function weakRsaKeys(): KeyPairKeyObjectResult {
  return generateKeyPairSync('rsa', { modulusLength: 1024 });
}
