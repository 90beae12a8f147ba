import { randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { PrincipalInit } from '@palisade/nest';

interface StoredUser {
  readonly id: string;
  readonly salt: Buffer;
  readonly hash: Buffer;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
}

const SCRYPT: ScryptOptions = { N: 16_384, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: BinaryLike, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, SCRYPT, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const SEED: readonly { id: string; password: string; roles: string[]; scopes: string[] }[] = [
  { id: 'alice', password: 'alice-password', roles: ['admin'], scopes: ['reports:read', 'reports:write'] },
  { id: 'bob', password: 'bob-password', roles: ['user'], scopes: [] },
];

/**
 * The demo's user store: the seeded users' passwords are kept only as scrypt hashes, and a
 * password check costs the same whether or not the user exists.
 */
@Injectable()
export class UsersService implements OnModuleInit {
  private readonly users = new Map<string, StoredUser>();
  private readonly decoy = { salt: randomBytes(16), hash: randomBytes(KEY_LENGTH) };

  async onModuleInit(): Promise<void> {
    const hashed = await Promise.all(
      SEED.map(async (seed) => {
        const salt = randomBytes(16);
        return { id: seed.id, salt, hash: await derive(seed.password, salt), roles: seed.roles, scopes: seed.scopes };
      }),
    );
    for (const user of hashed) this.users.set(user.id, user);
  }

  /** The principal for a correct user id and password, `null` otherwise. */
  async verify(userId: string, password: string): Promise<PrincipalInit | null> {
    if (password.length > 1024) return null;
    const user = this.users.get(userId);
    const target = user ?? this.decoy;
    const hash = await derive(password, target.salt);
    const match = timingSafeEqual(hash, target.hash);
    if (!user || !match) return null;
    return { id: user.id, roles: user.roles, scopes: user.scopes };
  }
}
