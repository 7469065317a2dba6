#!/usr/bin/env node
// Load generator for a running platform. Examples:
//   node load-tests/dist/src/cli.js direct --rate 1000 --duration 60
//   node load-tests/dist/src/cli.js group --members 100 --senders 10 --rate 50 --duration 60
//   node load-tests/dist/src/cli.js channel --members 10000 --connected 2000 --rate 5 --duration 30
//   node load-tests/dist/src/cli.js idle --sockets 10000 --users 1000 --hold 30
//   node load-tests/dist/src/cli.js ramp --rates 1000,2000,4000,6000,8000,10000 --step 20 --sustain 300
//   node load-tests/dist/src/cli.js presence --users 2000 --watches 20 --churn 20 --down 10 --duration 60
//   node load-tests/dist/src/cli.js presence-storm --users 40 --devices 50 --quiet 20
//   node load-tests/dist/src/cli.js xmpp-direct --pairs 50 --rate 500 --duration 10   (the XMPP peer)
//   node load-tests/dist/src/cli.js cassandra-floor --shapes 50x1,300x1,900x1,100x3,10x30 --duration 10
//   node load-tests/dist/src/cli.js reactions --members 50 --rate 200 --duration 20 --emojis 4
//   node load-tests/dist/src/cli.js uploads --users 20 --rate 5 --duration 20 --bytes 1048576
//   node load-tests/dist/src/cli.js pushes --members 1000 --offline 0.9 --rate 20 --duration 30
//   node load-tests/dist/src/cli.js search-seed --messages 1000000 --conversations 500 --users 100
//   node load-tests/dist/src/cli.js search --qps 50 --duration 30 --send-rate 500 --pairs 50
// Writes load-tests/results/<scenario>-<time>.json and prints a summary.
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpuMeter, findPids, kernelSlabBytes, kernelTcpBytes, platformPids, rssBytes } from './metrics.js';
import { runXmppTraffic } from './peers/xmpp-traffic.js';
import { runCassandraFloor } from './scenarios/cassandra-floor.js';
import { runPresence } from './scenarios/presence.js';
import { runPresenceStorm } from './scenarios/presence-storm.js';
import { runPushes } from './scenarios/pushes.js';
import { runReactionStorm } from './scenarios/reaction-storm.js';
import { runSearchLoad, seedSearch } from './scenarios/search.js';
import { runUploads } from './scenarios/uploads.js';
import { channel, directPairs, group, idleSockets, type Env } from './scenarios/setup.js';
import { readStageBuckets, stageTimesBetween } from './stage-times.js';
import { runTraffic, type TrafficResult } from './traffic.js';

const args = process.argv.slice(2);
/** Where search-seed leaves its users for search (git-ignored with the results). */
const SEARCH_MANIFEST = fileURLToPath(new URL('../../results/search-seed.json', import.meta.url));
const scenario = args[0] ?? '';
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const optString = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};

const env: Env = {
  gatewayUrl: optString('gateway', process.env.IM_GATEWAY_URL ?? 'http://127.0.0.1:8080'),
  runId: randomBytes(3).toString('hex'),
  log: (msg) => process.stderr.write(`[load] ${msg}\n`),
};

function gatewayPid(): number | undefined {
  const pid = opt('gateway-pid', 0);
  if (pid) return pid;
  const found = findPids('services/gateway/dist/src/main.js').filter((p) => p !== process.pid);
  return found.length === 1 ? found[0] : undefined;
}

function passes(r: TrafficResult, maxP99Ms: number): boolean {
  return (
    r.lost === 0 &&
    Object.keys(r.errors).length === 0 &&
    r.receiveLatencyMs.p99 <= maxP99Ms &&
    r.sentPerSec >= r.targetRatePerSec * 0.97
  );
}

/**
 * Traffic at --rate for --duration (defaults given), with the platform's CPU per message and, given
 * --message-metrics (the message service's /metrics), the sequencer's time per stage meanwhile.
 */
async function measuredTraffic(
  s: Awaited<ReturnType<typeof directPairs>>,
  defaultRate: number,
  defaultDuration: number,
) {
  const processes = platformPids();
  const cpu = new CpuMeter([...processes.keys()]);
  const metricsUrl = optString('message-metrics', process.env.IM_MESSAGE_METRICS_URL ?? '');
  const stagesBefore = metricsUrl ? await readStageBuckets(metricsUrl) : undefined;
  cpu.start();
  const result = await runTraffic({
    runId: env.runId,
    members: s.members,
    lanes: s.lanes,
    ratePerSec: opt('rate', defaultRate),
    durationSec: opt('duration', defaultDuration),
    textBytes: opt('bytes', 64),
  });
  const cpuMsPerMessage = cpu.stop(result.acked, (p) => processes.get(p) ?? String(p));
  const stagesAfter = stagesBefore ? await readStageBuckets(metricsUrl) : undefined;
  const sequencerStagesMs = stagesAfter && stageTimesBetween(stagesBefore!, stagesAfter);
  s.sockets.forEach((x) => x.close());
  return { result, cpuMsPerMessage, ...(sequencerStagesMs ? { sequencerStagesMs } : {}) };
}

async function main(): Promise<Record<string, unknown>> {
  switch (scenario) {
    case 'direct': {
      const s = await directPairs(env, opt('pairs', 200));
      return { pairs: opt('pairs', 200), ...(await measuredTraffic(s, 1000, 60)) };
    }
    case 'xmpp-direct': {
      // the same 1:1 traffic against an XMPP server (load-tests/peers/ejabberd.sh)
      const pids = findPids('im-bench-ejabberd').filter((p) => p !== process.pid);
      const cpu = new CpuMeter(pids);
      cpu.start();
      const r = await runXmppTraffic({
        service: optString('service', 'xmpp://127.0.0.1:15222'),
        domain: optString('domain', 'localhost'),
        apiUrl: optString('api', 'http://127.0.0.1:15280/api'),
        runId: env.runId,
        pairs: opt('pairs', 50),
        ratePerSec: opt('rate', 500),
        durationSec: opt('duration', 10),
        textBytes: opt('bytes', 100),
      });
      return {
        pairs: opt('pairs', 50),
        peer: 'ejabberd 23.01 (Debian), MAM on mnesia for every message',
        result: r,
        cpuMsPerMessage: cpu.stop(r.sent, () => 'ejabberd'),
      };
    }
    case 'group': {
      const s = await group(env, opt('members', 100), opt('senders', 10));
      const r = await runTraffic({
        runId: env.runId,
        members: s.members,
        lanes: s.lanes,
        ratePerSec: opt('rate', 50),
        durationSec: opt('duration', 60),
        textBytes: opt('bytes', 64),
      });
      s.sockets.forEach((x) => x.close());
      return { members: opt('members', 100), senders: opt('senders', 10), result: r };
    }
    case 'channel': {
      // a large channel: compare LIVE_CONVERSATION_FANOUT_MIN_MEMBERS=0 (a publish per member) with
      // the default (one publish per message, gateways filter) by restarting the platform between runs
      const s = await channel(env, opt('members', 10_000), opt('connected', 2_000));
      return {
        members: opt('members', 10_000),
        connected: opt('connected', 2_000),
        ...(await measuredTraffic(s, 5, 30)),
      };
    }
    case 'ramp': {
      const s = await directPairs(env, opt('pairs', 500));
      const steps: TrafficResult[] = [];
      // the criterion is zero loss; the p99 cap only stops a run whose latency runs away
      const maxP99 = opt('max-p99', 5_000);
      let best = 0;
      const rates = optString('rates', '1000,2000,4000,6000,8000,10000,12000').split(',').map(Number);
      env.log(`warm-up: ${rates[0]} msg/s for ${opt('warmup', 15)} s (not counted)`);
      await runTraffic({
        runId: `${env.runId}w`,
        members: s.members,
        lanes: s.lanes,
        ratePerSec: rates[0]!,
        durationSec: opt('warmup', 15),
      });
      for (const rate of rates) {
        env.log(`step: ${rate} msg/s for ${opt('step', 20)} s`);
        const r = await runTraffic({
          runId: `${env.runId}r${rate}`,
          members: s.members,
          lanes: s.lanes,
          ratePerSec: rate,
          durationSec: opt('step', 20),
        });
        steps.push(r);
        env.log(
          `  sent ${r.sentPerSec}/s, delivered ${r.deliveredPerSec}/s, lost ${r.lost}, errors ${JSON.stringify(r.errors)}, receive p99 ${r.receiveLatencyMs.p99} ms`,
        );
        if (!passes(r, maxP99)) break;
        best = rate;
      }
      let sustained: TrafficResult | undefined;
      const sustainSec = opt('sustain', 300);
      if (best > 0 && sustainSec > 0) {
        env.log(`sustaining ${best} msg/s for ${sustainSec} s`);
        sustained = await runTraffic({
          runId: `${env.runId}s`,
          members: s.members,
          lanes: s.lanes,
          ratePerSec: best,
          durationSec: sustainSec,
          graceMs: 30_000,
        });
        env.log(
          `  sent ${sustained.sentPerSec}/s, lost ${sustained.lost}, errors ${JSON.stringify(sustained.errors)}`,
        );
      }
      s.sockets.forEach((x) => x.close());
      return {
        pairs: opt('pairs', 500),
        maxP99Ms: maxP99,
        highestPassingStep: best,
        steps,
        sustained,
        sustainedZeroLoss: sustained ? passes(sustained, Infinity) : false,
      };
    }
    case 'idle': {
      const pid = gatewayPid();
      if (!pid) throw new Error('gateway process not found: pass --gateway-pid');
      const count = opt('sockets', 10_000);
      global.gc?.();
      await new Promise((r) => setTimeout(r, 2_000));
      const rss0 = rssBytes(pid);
      const k0 = kernelTcpBytes();
      const slab0 = kernelSlabBytes();
      const sockets = await idleSockets(env, count, opt('users', Math.max(1, Math.floor(count / 10))));
      let closed = 0;
      sockets.forEach((s) => (s.onClose = () => closed++));
      env.log(`holding ${count} sockets for ${opt('hold', 30)} s`);
      await new Promise((r) => setTimeout(r, opt('hold', 30) * 1000));
      const rss1 = rssBytes(pid);
      const k1 = kernelTcpBytes();
      const slab1 = kernelSlabBytes();
      const closedDuringHold = closed;
      const result = {
        sockets: count,
        gatewayPid: pid,
        gatewayRssBeforeMB: +(rss0 / 2 ** 20).toFixed(1),
        gatewayRssAfterMB: +(rss1 / 2 ** 20).toFixed(1),
        gatewayBytesPerSocket: Math.round((rss1 - rss0) / count),
        kernelTcpBufferBytesPerConnection: Math.round((k1 - k0) / count),
        kernelSlabBytesPerSocketEnd: Math.round((slab1 - slab0) / (2 * count)),
        note: 'kernel figures cover both ends of each loopback connection: slab is halved for one end; TCP buffers stay near 0 while idle',
        totalBytesPerSocket: Math.round(
          (rss1 - rss0) / count + (slab1 - slab0) / (2 * count) + (k1 - k0) / count,
        ),
        closedDuringHold,
      };
      sockets.forEach((s) => s.close());
      await new Promise((r) => setTimeout(r, 500));
      return result;
    }
    case 'presence':
      return {
        result: await runPresence(env, {
          users: opt('users', 2_000),
          watches: opt('watches', 20),
          churnPerSec: opt('churn', 20),
          downSec: opt('down', 10),
          durationSec: opt('duration', 60),
        }),
      };
    case 'presence-storm':
      return {
        result: await runPresenceStorm(env, {
          users: opt('users', 40),
          devices: opt('devices', 50),
          quietSec: opt('quiet', 20),
          settleLimitSec: opt('settle-limit', 120),
        }),
      };
    case 'uploads':
      return {
        result: await runUploads(env, {
          users: opt('users', 20),
          rate: opt('rate', 5),
          durationSec: opt('duration', 20),
          imageBytes: opt('bytes', 1024 * 1024),
        }),
      };
    case 'pushes':
      return {
        result: await runPushes(env, {
          members: opt('members', 1000),
          offlineShare: opt('offline', 0.9),
          rate: opt('rate', 20),
          durationSec: opt('duration', 30),
          drainSec: opt('drain', 8),
        }),
      };
    case 'reactions':
      return {
        result: await runReactionStorm(env, {
          members: opt('members', 50),
          rate: opt('rate', 200),
          durationSec: opt('duration', 20),
          emojis: opt('emojis', 4),
        }),
      };
    case 'search-seed':
      return {
        seed: await seedSearch(env, {
          messages: opt('messages', 1_000_000),
          conversations: opt('conversations', 500),
          users: opt('users', 100),
          membersPerConversation: opt('members', 5),
          kafka: optString('kafka', process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'),
          opensearch: optString('opensearch', process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200'),
          prefix: optString('prefix', process.env.IM_NAME_PREFIX ?? ''),
          manifest: optString('manifest', SEARCH_MANIFEST),
        }),
      };
    case 'search':
      return {
        result: await runSearchLoad(env, {
          manifest: optString('manifest', SEARCH_MANIFEST),
          qps: opt('qps', 50),
          durationSec: opt('duration', 30),
          sendRate: opt('send-rate', 500),
          pairs: opt('pairs', 50),
        }),
      };
    case 'cassandra-floor':
      return {
        steps: await runCassandraFloor({
          contactPoint: optString('cassandra', '127.0.0.1:9042'),
          shapes: optString('shapes', '50x1,300x1,900x1,100x3,10x30')
            .split(',')
            .map((s) => s.split('x').map(Number))
            .map(([requestsPerSec, statementsPerRequest]) => ({
              requestsPerSec: requestsPerSec!,
              statementsPerRequest: statementsPerRequest!,
            })),
          durationSec: opt('duration', 10),
          log: env.log,
        }),
      };
    default:
      throw new Error(
        'usage: cli.js direct|group|ramp|idle|presence|presence-storm|reactions|uploads|search|xmpp-direct|cassandra-floor [options] (see the header of src/cli.ts)',
      );
  }
}

const startedAt = new Date().toISOString();
const data = await main();
const out = {
  scenario,
  startedAt,
  gateway: env.gatewayUrl,
  args: args.slice(1).join(' '),
  // settings the platform ran with, when the bench script set them
  env: Object.fromEntries(
    ['OTEL_SDK_DISABLED', 'PRESENCE_OFFLINE_GRACE_MS', 'LOG_LEVEL']
      .filter((k) => process.env[k] !== undefined)
      .map((k) => [k, process.env[k]]),
  ),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  ...data,
};
const dir = join(fileURLToPath(new URL('../..', import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${scenario}-${startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(out, null, 2)}\nresult written to ${file}\n`);
process.exit(0);
