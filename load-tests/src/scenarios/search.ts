import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kafka, CompressionTypes, logLevel } from 'kafkajs';
import { kafkaAuthFromEnv, stopIdleRequestQueueTimers } from '@im/platform/kafka';
import { createRegistry } from '@im/platform/registry';
import { ConversationCommand } from '@im/proto/events/v1';
import { ImClient } from '@im/sdk';
import { CpuMeter, LatencyHistogram, platformPids, type Percentiles } from '../metrics.js';
import { pool, registerUsers } from '../population.js';
import { runTraffic, type TrafficResult } from '../traffic.js';
import { directPairs, type Env } from './setup.js';

/** What search-seed leaves for search: who can log in, and the words the history is made of. */
export interface SearchSeed {
  gatewayUrl: string;
  tenant: string;
  tenantId: string;
  users: Array<{ username: string; password: string; userId: string }>;
  conversations: number;
  messages: number;
  seededPerSec: number;
  indexedPerSec: number;
}

const PASSWORD = 'load-password-1';

/** A deterministic vocabulary of pronounceable words, sampled with Zipf-like frequencies. */
class Vocabulary {
  readonly words: string[] = [];
  private readonly cumulative: number[] = [];

  constructor(size: number) {
    const c = 'bdfgklmnprstvz';
    const v = 'aeiou';
    for (let i = 0; this.words.length < size; i++) {
      let w = '';
      for (let n = i, syl = 0; syl < 2 || n > 0; syl++, n = Math.floor(n / 70))
        w += c[n % 14]! + v[Math.floor(n / 14) % 5]!;
      this.words.push(w);
    }
    let sum = 0;
    for (let r = 1; r <= size; r++) this.cumulative.push((sum += 1 / r));
  }

  sample(): string {
    const x = Math.random() * this.cumulative.at(-1)!;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return this.words[lo]!;
  }

  sentence(words: number): string {
    return Array.from({ length: words }, () => this.sample()).join(' ');
  }
}

const vocabulary = new Vocabulary(20_000);

/**
 * Builds a searchable history of `messages` messages through the real write path: conversations
 * and users through the API, then send commands produced straight to im.messages.v1 (the path a
 * send takes after the gateway), so the sequencer stores them and the indexer indexes them from
 * im.events.v1. Waits until OpenSearch holds them all; writes a manifest for `search`.
 */
export async function seedSearch(
  env: Env,
  opts: {
    messages: number;
    conversations: number;
    users: number;
    membersPerConversation: number;
    kafka: string;
    opensearch: string;
    prefix: string;
    manifest: string;
  },
): Promise<SearchSeed> {
  const registry = createRegistry(opts.prefix);
  env.log(`registering ${opts.users} users`);
  const users = await registerUsers(env.gatewayUrl, opts.users, env.runId);
  const tenantId = users[0]!.user.tenantId;
  env.log(`creating ${opts.conversations} groups of ${opts.membersPerConversation}`);
  const conversations = await pool(Array.from({ length: opts.conversations }), 8, async (_, i) => {
    const members = Array.from(
      { length: opts.membersPerConversation },
      (_, k) => users[(i + k * 7) % users.length]!,
    );
    const conv = await members[0]!.createConversation(
      'group',
      members.slice(1).map((m) => m.user.id),
      `g${i}`,
    );
    return { id: conv.id, members: members.map((m) => m.user.id) };
  });
  // kafkajs' idle request queues wake every millisecond (tulios/kafkajs#1751), as in the services
  stopIdleRequestQueueTimers();
  const kafka = new Kafka({
    brokers: opts.kafka.split(','),
    clientId: 'load-search-seed',
    logLevel: logLevel.NOTHING,
    // the platform's Kafka login from the environment (deploy/local/infra.sh env: the admin user)
    ...kafkaAuthFromEnv(),
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  env.log(`producing ${opts.messages} send commands`);
  const t0 = performance.now();
  const chunk = 2_000;
  for (let sent = 0; sent < opts.messages; sent += chunk) {
    const messages = Array.from({ length: Math.min(chunk, opts.messages - sent) }, (_, k) => {
      const n = sent + k;
      const conv = conversations[n % conversations.length]!;
      const command: ConversationCommand = {
        commandId: randomUUID(),
        conversationId: conv.id,
        caller: { userId: conv.members[n % conv.members.length]!, tenantId, sessionId: '' },
        issuedAt: new Date().toISOString(),
        replySubject: '',
        command: {
          $case: 'sendMessage',
          value: {
            clientMsgId: `seed-${env.runId}-${n}`,
            text: vocabulary.sentence(6 + (n % 10)),
            attachments: [],
            messageId: randomUUID(),
            mentions: [],
          },
        },
      };
      return { key: conv.id, value: Buffer.from(ConversationCommand.encode(command).finish()) };
    });
    await producer.send({
      topic: registry.topics.conversationCommands,
      acks: -1,
      compression: CompressionTypes.None,
      messages,
    });
    if ((sent / chunk) % 50 === 0) env.log(`  produced ${sent + messages.length}`);
  }
  await producer.disconnect();
  const produced = performance.now();
  env.log('waiting until OpenSearch holds every message');
  const count = async () => {
    const res = await fetch(`${opts.opensearch}/${registry.indices.messages}/_count?routing=${tenantId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { term: { tenantId } } }),
    });
    return ((await res.json()) as { count?: number }).count ?? 0;
  };
  let indexed = 0;
  let last = 0;
  let lastChange = performance.now();
  while ((indexed = await count()) < opts.messages) {
    if (indexed !== last) [last, lastChange] = [indexed, performance.now()];
    if (performance.now() - lastChange > 120_000) throw new Error(`indexing stalled at ${indexed}`);
    env.log(`  indexed ${indexed}`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
  const done = performance.now();
  const seed: SearchSeed = {
    gatewayUrl: env.gatewayUrl,
    tenant: `load-${env.runId}`,
    tenantId,
    users: users.map((u) => ({ username: u.user.username, password: PASSWORD, userId: u.user.id })),
    conversations: conversations.length,
    messages: opts.messages,
    seededPerSec: Math.round(opts.messages / ((produced - t0) / 1000)),
    indexedPerSec: Math.round(opts.messages / ((done - t0) / 1000)),
  };
  // results/ is git-ignored and absent on a fresh clone
  mkdirSync(dirname(opts.manifest), { recursive: true });
  writeFileSync(opts.manifest, `${JSON.stringify(seed, null, 2)}\n`);
  return seed;
}

export interface SearchLoadResult {
  queriesPerSec: number;
  queries: number;
  latencyMs: Percentiles;
  errors: Record<string, number>;
  meanResults: number;
  emptyResults: number;
  traffic: TrafficResult | undefined;
  cpuMsPerQuery: { totalMsPerMessage: number; byProcess: Record<string, number> };
}

/**
 * Searches at `qps` queries/s (one or two words of the seeded vocabulary, by frequency, as random
 * members) for `duration` s, while `sendRate` msg/s of 1:1 traffic run on `pairs` other users.
 */
export async function runSearchLoad(
  env: Env,
  opts: { manifest: string; qps: number; durationSec: number; sendRate: number; pairs: number },
): Promise<SearchLoadResult> {
  const seed = JSON.parse(readFileSync(opts.manifest, 'utf8')) as SearchSeed;
  env.log(`logging in ${seed.users.length} searchers of a ${seed.messages}-message history`);
  const searchers = await pool(seed.users, 16, async (u) => {
    const c = new ImClient(env.gatewayUrl, seed.tenant);
    await c.login(u.username, u.password);
    return c;
  });
  const traffic = opts.sendRate > 0 ? await directPairs(env, opts.pairs) : undefined;
  const pids = platformPids();
  const cpu = new CpuMeter([...pids.keys()]);
  const latency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let results = 0;
  let empty = 0;
  let done = 0;
  cpu.start();
  const sending = traffic
    ? runTraffic({
        runId: env.runId,
        members: traffic.members,
        lanes: traffic.lanes,
        ratePerSec: opts.sendRate,
        durationSec: opts.durationSec,
        textBytes: 100,
      })
    : Promise.resolve(undefined);
  const start = performance.now();
  const total = opts.qps * opts.durationSec;
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const wait = start + (n * 1000) / opts.qps - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const q = Math.random() < 0.7 ? vocabulary.sample() : `${vocabulary.sample()} ${vocabulary.sample()}`;
    const who = searchers[n % searchers.length]!;
    const t = performance.now();
    inFlight.push(
      who
        .call<{ results: unknown[] }>('GET', `/v1/search/messages?q=${encodeURIComponent(q)}&limit=20`)
        .then((r) => {
          latency.recordMs(performance.now() - t);
          results += r.results.length;
          if (r.results.length === 0) empty++;
          done++;
        })
        .catch((err: { code?: string }) => {
          errors[err.code ?? 'failed'] = (errors[err.code ?? 'failed'] ?? 0) + 1;
        }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  const sent = await sending;
  traffic?.sockets.forEach((s) => s.close());
  return {
    queriesPerSec: Math.round(done / elapsed),
    queries: done,
    latencyMs: latency.summary(),
    errors,
    meanResults: +(results / Math.max(1, done)).toFixed(1),
    emptyResults: empty,
    traffic: sent,
    cpuMsPerQuery: cpu.stop(done, (p) => pids.get(p) ?? String(p)),
  };
}
