import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Argon2Params {
  memoryKiB: number;
  passes: number;
  parallelism?: number;
}

const TAG_LENGTH = 32;

/**
 * argon2id (Node's built-in implementation, on the libuv thread pool) with hashes stored as PHC
 * strings: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. Verification reads the parameters from
 * the string, so raising the cost later does not break existing hashes.
 */
export class PasswordHasher {
  constructor(private readonly params: Argon2Params) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const p = this.params.parallelism ?? 1;
    const tag = await derive(password, salt, this.params.memoryKiB, this.params.passes, p, TAG_LENGTH);
    return `$argon2id$v=19$m=${this.params.memoryKiB},t=${this.params.passes},p=${p}$${b64(salt)}$${b64(tag)}`;
  }

  async verify(password: string, phc: string): Promise<boolean> {
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
    if (!m) return false;
    const expected = Buffer.from(m[5]!, 'base64');
    const actual = await derive(
      password,
      Buffer.from(m[4]!, 'base64'),
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      expected.length,
    );
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

function derive(
  password: string,
  salt: Buffer,
  memory: number,
  passes: number,
  parallelism: number,
  tagLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    argon2(
      'argon2id',
      { message: password, nonce: salt, memory, passes, parallelism, tagLength },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}
