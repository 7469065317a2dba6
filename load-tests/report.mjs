#!/usr/bin/env node
// Markdown tables from load-tests/results/*.json (or the folder given), for docs/benchmarks.md.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] ?? fileURLToPath(new URL('./results', import.meta.url));
const results = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));

const ms = (p) => `${p.p50} / ${p.p95} / ${p.p99} / ${p.max}`;
const errors = (e) =>
  Object.keys(e).length
    ? Object.entries(e)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '0';
const traffic = (label, r) =>
  `| ${label} | ${r.targetRatePerSec} | ${r.sentPerSec} | ${r.deliveredPerSec} | ${r.lost} | ${errors(r.errors)} | ${ms(r.ackLatencyMs)} | ${ms(r.receiveLatencyMs)} |`;

console.log(
  '| scenario | target msg/s | acked msg/s | delivered/s | lost | errors | send→ack ms p50 / p95 / p99 / max | send→receive ms p50 / p95 / p99 / max |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  const note = r.env?.OTEL_SDK_DISABLED === 'true' ? ' (no OpenTelemetry)' : '';
  if (r.scenario === 'direct') console.log(traffic(`1:1, ${r.pairs} pairs${note}`, r.result));
  if (r.scenario === 'group') console.log(traffic(`group of ${r.members}, ${r.senders} senders`, r.result));
  if (r.scenario === 'ramp') {
    for (const s of r.steps) console.log(traffic(`ramp step (${r.pairs} pairs, ${s.durationSec} s)`, s));
    if (r.sustained)
      console.log(
        traffic(
          `**sustained ${r.sustained.durationSec} s** (${r.sustainedZeroLoss ? 'zero loss' : 'LOSS'})`,
          r.sustained,
        ),
      );
  }
}
for (const r of results.filter((x) => x.scenario === 'idle')) {
  console.log(
    `\n| idle sockets | gateway RSS before → after (MB) | gateway RSS per socket | kernel slab per socket end | kernel TCP buffers | total per socket | closed during hold |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(
    `| ${r.sockets} | ${r.gatewayRssBeforeMB} → ${r.gatewayRssAfterMB} | ${(r.gatewayBytesPerSocket / 1024).toFixed(1)} KB | ${((r.kernelSlabBytesPerSocketEnd ?? 0) / 1024).toFixed(1)} KB | ${r.kernelTcpBufferBytesPerConnection ?? r.kernelTcpBytesPerConnection} B | ${(r.totalBytesPerSocket / 1024).toFixed(1)} KB | ${r.closedDuringHold} |`,
  );
}
const presence = results.filter((x) => x.scenario === 'presence');
if (presence.length) {
  console.log(
    '\n| presence run | users × watched | disconnects | presence frames/s | disconnect → offline seen ms p50 / p95 / p99 / max | reconnect → online seen ms p50 / p95 / p99 / max | missed |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of presence) {
    const x = r.result;
    const grace = r.env?.PRESENCE_OFFLINE_GRACE_MS === '0' ? 'grace 0' : 'default grace (5 s)';
    console.log(
      `| ${grace}, churn ${x.churnPerSec}/s | ${x.users} × ${x.watchesPerUser} | ${x.disconnects} | ${x.presenceFramesPerSec} | ${ms(x.offlineSeenMs)} | ${ms(x.onlineSeenMs)} | ${x.missedOffline} |`,
    );
  }
}
