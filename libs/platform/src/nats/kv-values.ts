import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

/** Subjects one batched direct get asks for (the server answers at most 1 024 last messages). */
const MAX_SUBJECTS_PER_REQUEST = 1_000;
/** How long one batched read may take (the library's own timeout ends at the first reply). */
const READ_TIMEOUT_MS = 5_000;

/** A JetStream manager per connection, made without the account-info request (checkAPI). */
const managers = new WeakMap<NatsConnection, JetStreamManager>();

/**
 * The current values of many keys of a bucket, in one request per thousand keys: a batched direct
 * get of the last message of each key's subject (NATS server 2.11+), instead of a request per key.
 * Keys missing, deleted or purged are absent from the map. A server without batched direct gets
 * (or a stream without direct gets) is asked key by key.
 */
export async function kvValues(
  nc: NatsConnection,
  kv: KV,
  bucket: string,
  keys: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const unique = [...new Set(keys)];
  for (let at = 0; at < unique.length; at += MAX_SUBJECTS_PER_REQUEST) {
    const chunk = unique.slice(at, at + MAX_SUBJECTS_PER_REQUEST);
    if (!(await lastValuesBatched(nc, bucket, chunk, out))) await lastValuesOneByOne(kv, chunk, out);
  }
  return out;
}

async function lastValuesBatched(
  nc: NatsConnection,
  bucket: string,
  keys: readonly string[],
  out: Map<string, Uint8Array>,
): Promise<boolean> {
  let jsm = managers.get(nc);
  if (!jsm) managers.set(nc, (jsm = await jetstreamManager(nc, { checkAPI: false })));
  const prefix = `$KV.${bucket}.`;
  const messages: StoredMsg[] = [];
  try {
    // with a callback, the reply subscription ends with the answer (as an iterator, it would wait
    // for its 5 s timeout)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`batched read of bucket ${bucket} timed out`)),
        READ_TIMEOUT_MS,
      );
      const settle = (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      jsm.direct
        .getLastMessagesFor(`KV_${bucket}`, {
          multi_last: keys.map((k) => prefix + k),
          callback: (done, m) => {
            if (!done) messages.push(m);
            else settle(done.err);
          },
        })
        .catch(settle);
    });
  } catch (err) {
    // a server before 2.11, or a stream made without direct gets (allow_direct): key by key
    if (/batch direct require server|no responders/i.test((err as Error).message)) return false;
    throw err;
  }
  for (const m of messages) {
    const operation = m.header.get('KV-Operation');
    if (operation === 'DEL' || operation === 'PURGE' || m.data.length === 0) continue;
    out.set(m.subject.slice(prefix.length), m.data);
  }
  return true;
}

async function lastValuesOneByOne(
  kv: KV,
  keys: readonly string[],
  out: Map<string, Uint8Array>,
): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      const e = await kv.get(key);
      if (e && e.operation === 'PUT' && e.length > 0) out.set(key, e.value);
    }),
  );
}
