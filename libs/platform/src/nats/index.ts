import { context, propagation, type Context } from '@opentelemetry/api';
import { jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
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
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}

/** Opens a KV bucket, creating it with these limits when it does not exist. */
export async function openKv(
  nc: NatsConnection,
  bucket: string,
  options: Partial<KvOptions> = {},
): Promise<KV> {
  const kvm = new Kvm(nc);
  return kvm.create(bucket, options);
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string | number; api_error?: { err_code?: number }; message?: string };
  return e.api_error?.err_code === 10059 || e.code === 404 || /not found/i.test(e.message ?? '');
}

/** Binds to a KV bucket that another service creates; fails while it does not exist. */
export async function bindKv(nc: NatsConnection, bucket: string): Promise<KV> {
  const kv = await new Kvm(nc).open(bucket);
  await kv.status();
  return kv;
}
export { RevocationWatch, type ReadBack } from './revocation-watch.js';
export { isPlainPublish } from './plain-publish.js';
export {
  NATS_ACCESS,
  natsPermissionsOf,
  natsUserOf,
  natsPasswordVariable,
  renderNatsAuthorization,
  type BucketRight,
  type NatsPermissions,
} from './permissions.js';
