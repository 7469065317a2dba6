import { randomFillSync } from 'node:crypto';
import { v5 } from 'uuid';

let lastMs = 0;
let counter = 0;
// Random bytes are drawn 4 KiB at a time: one system call per 256 ids instead of one per id.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function random16(): Buffer {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return out;
}

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids sort by
 * creation time (good for Cassandra clustering and for humans reading logs). Within one
 * millisecond a 12-bit counter keeps ids from one process increasing.
 */
export function uuidv7(now = Date.now()): string {
  if (now === lastMs) {
    counter = (counter + 1) & 0xfff;
  } else {
    lastMs = now;
    counter = random16().readUInt16BE(0) & 0x7ff;
  }
  const b = random16();
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The namespace of this platform's name-based ids (a fixed, random UUID). */
const NAME_NAMESPACE = '5b2f3c8e-7d1a-4e0b-9c6f-2a4d8e1f7b30';

/**
 * A UUID version 5 (RFC 9562) derived from a name: the same name always gives the same id, so an
 * event re-emitted by a replay carries the id it had the first time and consumers can de-duplicate.
 */
export function nameUuid(name: string): string {
  return v5(name, NAME_NAMESPACE);
}
