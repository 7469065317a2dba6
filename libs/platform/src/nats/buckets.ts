import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KvOptions, type KvStatus } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import type { z } from 'zod';
import type { natsBucketSchema } from '../config/index.js';
import type { Registry } from '../registry/index.js';

type BucketName = keyof Registry['buckets'];

/** The settings bucket limits follow: `natsBucketEnv` in the config library, same names. */
export type BucketSettings = z.output<typeof natsBucketSchema>;

/** How long a revoked session stays listed: its longest-lived access token, plus a margin. */
export function revocationTtlSec(s: Pick<BucketSettings, 'ACCESS_TOKEN_TTL_SEC'>): number {
  return s.ACCESS_TOKEN_TTL_SEC + 60;
}

/**
 * The one table of the platform's NATS KV buckets and their limits (ADR 0023). An operator's NATS
 * user provisions them (`provisionNatsBuckets`, `tools/nats-buckets.mjs`, the chart's job): the
 * services' own users may not create streams, since whoever creates a missing stream chooses its
 * subjects and could make it capture other services' traffic.
 */
export const NATS_BUCKETS = {
  revokedSessions: (s: Pick<BucketSettings, 'ACCESS_TOKEN_TTL_SEC'>) => ({
    ttl: revocationTtlSec(s) * 1000,
    history: 1,
  }),
  presence: () => ({ history: 1 }),
  // a lease that expires leaves a marker, so presence learns at once that a gateway is gone
  gateways: (s: Pick<BucketSettings, 'GATEWAY_LEASE_TTL_MS'>) => ({
    ttl: s.GATEWAY_LEASE_TTL_MS,
    markerTTL: Math.max(1_000, s.GATEWAY_LEASE_TTL_MS),
    history: 1,
  }),
} satisfies Record<BucketName, (s: BucketSettings) => Partial<KvOptions>>;

/**
 * What makes a bucket's stream something other than a bucket: subjects beyond its own keys, or
 * messages it takes from or sends to other streams and subjects. A stream made with another's
 * rights (or by a service, before services lost them) could capture live subjects this way; no
 * tool here makes such a stream, so one is refused, not repaired.
 */
export function bucketShapeProblems(bucket: string, status: KvStatus): string[] {
  const config = status.streamInfo.config;
  const out: string[] = [];
  const subjects = config.subjects ?? [];
  if (subjects.length !== 1 || subjects[0] !== `$KV.${bucket}.>`)
    out.push(`subjects ${JSON.stringify(subjects)}, want ["$KV.${bucket}.>"]`);
  if (config.mirror) out.push('a mirror of another stream');
  if ((config.sources ?? []).length > 0) out.push('sources');
  if (config.republish) out.push('a republish');
  return out;
}

/** The limits a bucket has that differ from `want`, e.g. ["ttl 15000 ms, want 5000 ms"]. */
export function bucketDrift(status: KvStatus, want: Partial<KvOptions>): string[] {
  const out: string[] = [];
  const check = (what: string, have: number, wanted: number, unit = '') => {
    if (have !== wanted) out.push(`${what} ${have}${unit}, want ${wanted}${unit}`);
  };
  check('history', status.history, want.history ?? 1);
  check('ttl', status.ttl, want.ttl ?? 0, ' ms');
  check('markerTTL', status.markerTTL, want.markerTTL ?? 0, ' ms');
  // only the provisioning says how many replicas (the services do not know)
  if (want.replicas !== undefined) check('replicas', status.replicas, want.replicas);
  return out;
}

const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

export type ProvisionOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Makes one bucket with these limits, or brings an existing one's limits to them. Needs an
 * operator's rights (creating and updating streams); idempotent.
 */
export async function provisionKv(
  nc: NatsConnection,
  bucket: string,
  options: Partial<KvOptions>,
): Promise<ProvisionOutcome> {
  const kvm = new Kvm(nc);
  let status: KvStatus;
  try {
    status = await (await kvm.open(bucket)).status();
  } catch (err) {
    if (!isMissing(err)) throw err;
    await kvm.create(bucket, options);
    return 'created';
  }
  const shape = bucketShapeProblems(bucket, status);
  if (shape.length > 0)
    throw new Error(
      `stream KV_${bucket} is not a bucket this platform made (${shape.join('; ')}): inspect it and delete it, then run this again`,
    );
  if (bucketDrift(status, options).length === 0) return 'unchanged';
  const jsm = await jetstreamManager(nc);
  const config = status.streamInfo.config;
  await jsm.streams.update(config.name, {
    ...config,
    ...(options.replicas !== undefined ? { num_replicas: options.replicas } : {}),
    max_msgs_per_subject: options.history ?? 1,
    max_age: nanos(options.ttl ?? 0),
    // the server's own default: two minutes, or the age limit when that is shorter
    duplicate_window: nanos(
      Math.min(DEFAULT_DUPLICATE_WINDOW_MS, options.ttl || DEFAULT_DUPLICATE_WINDOW_MS),
    ),
    ...(options.markerTTL
      ? { allow_msg_ttl: true, subject_delete_marker_ttl: nanos(options.markerTTL) }
      : { subject_delete_marker_ttl: 0 }),
  });
  return 'updated';
}

/**
 * Provisions every bucket of the table for one deployment (its registry, i.e. name prefix), with
 * `replicas` copies each on a NATS cluster (1, 3 or 5).
 */
export async function provisionNatsBuckets(
  nc: NatsConnection,
  registry: Registry,
  settings: BucketSettings,
  replicas = 1,
): Promise<Record<string, ProvisionOutcome>> {
  const out: Record<string, ProvisionOutcome> = {};
  for (const [name, options] of Object.entries(NATS_BUCKETS) as [
    BucketName,
    (s: BucketSettings) => Partial<KvOptions>,
  ][]) {
    const bucket = registry.buckets[name];
    out[bucket] = await provisionKv(nc, bucket, { ...options(settings), replicas });
  }
  return out;
}

export function isMissing(err: unknown): boolean {
  const e = err as { code?: string | number; api_error?: { err_code?: number }; message?: string };
  return e.api_error?.err_code === 10059 || e.code === 404 || /not found/i.test(e.message ?? '');
}
