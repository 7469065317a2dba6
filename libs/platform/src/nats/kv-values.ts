import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

/** Subjects one batched direct get asks for (the server answers at most 1 024 last messages). */
const MAX_SUBJECTS_PER_REQUEST = 1_000;

/** A JetStream manager per connection, made without the account-info request (checkAPI). */
const managers = new WeakMap<NatsConnection, JetStreamManager>();

/**
 * The current values of many keys of a bucket, in one request per thousand keys: a batched direct
 * get of the last message of each key's subject (NATS server 2.11+), instead of a request per key.
 * Keys missing, deleted or purged are absent from the map. A server without batched direct gets
 * is asked key by key.
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
  let messages;
  try {
    messages = await jsm.direct.getLastMessagesFor(`KV_${bucket}`, {
      multi_last: keys.map((k) => prefix + k),
    });
  } catch (err) {
    if (/batch direct require server/i.test((err as Error).message)) return false;
    throw err;
  }
  try {
    for await (const m of messages) {
      const operation = m.header.get('KV-Operation');
      if (operation === 'DEL' || operation === 'PURGE' || m.data.length === 0) continue;
      out.set(m.subject.slice(prefix.length), m.data);
    }
  } catch (err) {
    // none of the keys has a value: the server answers "no results" instead of an empty batch
    if (!/no (results|message found)/i.test((err as Error).message)) throw err;
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
