import { context, propagation, type Context } from '@opentelemetry/api';
import { jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { bucketDrift, bucketShapeProblems, isMissing } from './buckets.js';
import { inboxPrefixOf } from './permissions.js';

export type { KV } from '@nats-io/kv';
export type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';

export interface NatsOptions {
  servers: string;
  name: string;
  logger: Logger;
  user?: string | undefined;
  pass?: string | undefined;
  connectTimeoutMs?: number;
}

/** Connects (failing fast when the server is unreachable) and then reconnects forever. */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: options.servers.split(',').map((s) => s.trim()),
    name: options.name,
    user: options.user,
    pass: options.pass,
    // a service's user may subscribe to its own replies only (permissions.ts)
    ...(options.user ? { inboxPrefix: inboxPrefixOf(options.user) } : {}),
    timeout: options.connectTimeoutMs ?? 3_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 20_000,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        options.logger.warn(
          { nats: s.type, server: 'server' in s ? s.server : undefined },
          'nats connection status',
        );
      }
    }
  })();
  return nc;
}

const setter = { set: (carrier: MsgHdrs, key: string, value: string) => carrier.set(key, value) };
const getter = {
  get: (carrier: MsgHdrs, key: string) => carrier.get(key) || undefined,
  keys: (carrier: MsgHdrs) => [...carrier.keys()],
};

/** Headers carrying the current trace context (W3C traceparent), for a NATS publish. */
export function traceHeaders(): MsgHdrs | undefined {
  const h = natsHeaders();
  propagation.inject(context.active(), h, setter);
  return h.has('traceparent') ? h : undefined;
}

/** The trace context a NATS message carries, to run its handler in. */
export function traceContextOf(h: MsgHdrs | undefined): Context {
  return h ? propagation.extract(context.active(), h, getter) : context.active();
}

export function jetStreamManager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc);
}

/** Creates the stream, or updates it to the given config when it exists. */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (err) {
    if (!isMissing(err)) throw err;
    await jsm.streams.add(config);
  }
}

/** Drift already logged, so a bucket checked every few seconds warns once per difference. */
const driftLogged = new Set<string>();

/**
 * Opens a KV bucket with these limits. Buckets are provisioned by an operator's NATS user
 * (buckets.ts); a missing one is made here only when this connection may create streams (no
 * authentication, or an operator's user): a service's own user may not, and gets an error that
 * says how to provision it. A stream that is not a bucket's (other subjects, sources) is refused;
 * limits that differ from these are logged, not changed.
 */
export async function openKv(
  nc: NatsConnection,
  bucket: string,
  options: Partial<KvOptions> = {},
  logger?: Pick<Logger, 'warn'>,
): Promise<KV> {
  let kv: KV;
  try {
    // binds to an existing bucket without the create right (and keeps direct gets)
    kv = await new Kvm(nc).create(bucket, options);
  } catch (err) {
    if (!/permission/i.test((err as Error).message)) throw err;
    throw new Error(
      `NATS bucket "${bucket}" could not be opened (${(err as Error).message}): a missing bucket is not this service's to make, provision it with an operator's NATS user (node tools/nats-buckets.mjs, or the chart's nats-buckets job); an existing one needs this user's read rights (tools/nats-auth.mjs)`,
      { cause: err },
    );
  }
  const status = await kv.status();
  const shape = bucketShapeProblems(bucket, status);
  if (shape.length > 0)
    throw new Error(`NATS stream KV_${bucket} is not a bucket this platform made: ${shape.join('; ')}`);
  const drift = bucketDrift(status, options);
  const key = `${bucket} ${drift.join('; ')}`;
  if (drift.length > 0 && !driftLogged.has(key)) {
    driftLogged.add(key);
    logger?.warn(
      { bucket, drift },
      "NATS bucket limits differ from this service's settings: run node tools/nats-buckets.mjs (the chart's nats-buckets job) with the same settings",
    );
  }
  return kv;
}

/** Binds to a KV bucket that another service uses (an operator makes it); fails while it does not exist. */
export async function bindKv(nc: NatsConnection, bucket: string): Promise<KV> {
  const kv = await new Kvm(nc).open(bucket);
  await kv.status();
  return kv;
}
export { RevocationWatch, type ReadBack } from './revocation-watch.js';
export { kvValues } from './kv-values.js';
export { isPlainPublish } from './plain-publish.js';
export { subscribeMembersDeltas, type MembersDelta } from './members-delta.js';
export {
  NATS_BUCKETS,
  bucketDrift,
  bucketShapeProblems,
  provisionKv,
  provisionNatsBuckets,
  revocationTtlSec,
  type BucketSettings,
  type ProvisionOutcome,
} from './buckets.js';
export {
  NATS_ACCESS,
  natsPermissionsOf,
  natsUserOf,
  natsPasswordVariable,
  renderNatsAuthorization,
  type BucketRight,
  type NatsPermissions,
} from './permissions.js';
