#!/usr/bin/env node
// Side-by-side report of a load-tests/peers/compare.sh run: reads <dir>/{platform,ejabberd}-<rate>-<round>.json,
// takes the median of the rounds of each rate, prints a Markdown table and writes <dir>.md and <dir>.html (p50 and p99 per rate, log scale).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: compare-report.mjs <results dir>');
/** runs[rate][system]: one entry per repeat (files <system>-<rate>-<round>.json; older runs: <system>-<rate>.json) */
const runs = {};
for (const f of readdirSync(dir)) {
  const m = /^(platform|ejabberd)-(\d+)(?:-\d+)?\.json$/.exec(f);
  if (!m) continue;
  const data = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  ((runs[m[2]] ??= {})[m[1]] ??= []).push({
    p50: data.result.receiveLatencyMs.p50,
    p99: data.result.receiveLatencyMs.p99,
    delivered: data.result.delivered,
    lost: data.result.lost,
    deliveredPerSec: data.result.deliveredPerSec,
    cpu: data.cpuMsPerMessage?.totalMsPerMessage,
    cpuBy: data.cpuMsPerMessage?.byProcess,
  });
}
const median = (values) => {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : Number(((v[mid - 1] + v[mid]) / 2).toFixed(3));
};
/** The median of each figure over the repeats, and the range when there are several. */
const summary = (list) => {
  if (!list?.length) return undefined;
  const of = (k) => list.map((r) => r[k]);
  const range = (k) => {
    const v = of(k).filter((x) => typeof x === 'number');
    return v.length > 1 ? ` (${Math.min(...v)}–${Math.max(...v)})` : '';
  };
  const cpuBy = {};
  for (const name of Object.keys(list[0].cpuBy ?? {})) cpuBy[name] = median(list.map((r) => r.cpuBy?.[name]));
  return {
    n: list.length,
    p50: median(of('p50')),
    p99: median(of('p99')),
    cpu: median(of('cpu')),
    deliveredPerSec: median(of('deliveredPerSec')),
    lost: of('lost').reduce((a, b) => a + b, 0),
    ranges: { p50: range('p50'), p99: range('p99'), cpu: range('cpu') },
    cpuBy: list[0].cpuBy ? cpuBy : undefined,
  };
};
const rates = Object.keys(runs)
  .map(Number)
  .sort((a, b) => a - b);
const summaries = Object.fromEntries(
  rates.map((rate) => [
    rate,
    { platform: summary(runs[rate].platform), ejabberd: summary(runs[rate].ejabberd) },
  ]),
);
const cell = (r) =>
  r
    ? `${r.p50}${r.ranges.p50} / ${r.p99}${r.ranges.p99} ms · ${r.deliveredPerSec}/s · lost ${r.lost} · ${r.cpu ?? '?'}${r.ranges.cpu} ms CPU`
    : 'not run';
const ratio = (a, b) => (a && b && b > 0 ? `${(a / b).toFixed(1)}×` : '–');
const repeats = Math.max(...rates.flatMap((rate) => Object.values(summaries[rate]).map((s) => s?.n ?? 0)));
const lines = [
  ...(repeats > 1
    ? [
        `Median of ${repeats} runs per rate and system, range in brackets; ratios of the medians; lost: over all runs.`,
        '',
      ]
    : []),
  '| offered msg/s | this platform p50 / p99 · delivered · lost · CPU per msg | ejabberd + MAM p50 / p99 · delivered · lost · CPU per msg | p50 ratio | p99 ratio |',
  '|---|---|---|---|---|',
  ...rates.map((rate) => {
    const { platform: p, ejabberd: e } = summaries[rate];
    return `| ${rate} | ${cell(p)} | ${cell(e)} | ${ratio(p?.p50, e?.p50)} | ${ratio(p?.p99, e?.p99)} |`;
  }),
];
const cpuLines = rates
  .filter((rate) => summaries[rate].platform?.cpuBy)
  .map(
    (rate) =>
      `- ${rate} msg/s, platform CPU per message by process (ms${repeats > 1 ? ', medians' : ''}): ${Object.entries(
        summaries[rate].platform.cpuBy,
      )
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
  );
const md = [...lines, '', ...cpuLines].join('\n');
console.log(md);
writeFileSync(`${dir}.md`, `${md}\n`);

// grouped bars, log scale: for each rate, p50 and p99 of both systems
const series = [
  ['platform', 'p50', '#4e79a7'],
  ['platform', 'p99', '#a0cbe8'],
  ['ejabberd', 'p50', '#f28e2b'],
  ['ejabberd', 'p99', '#ffbe7d'],
];
const W = 160 * rates.length + 80;
const H = 320;
const y = (ms) => H - 40 - (Math.log10(Math.max(ms, 0.1)) + 1) * 50; // 0.1 ms .. 10 s
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`;
for (const ms of [0.1, 1, 10, 100, 1000, 10000]) {
  svg += `<line x1="60" x2="${W}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/><text x="55" y="${y(ms) + 4}" text-anchor="end">${ms} ms</text>`;
}
rates.forEach((rate, i) => {
  series.forEach(([sys, q, color], j) => {
    const v = summaries[rate][sys]?.[q];
    if (v === undefined) return;
    const x = 80 + i * 160 + j * 32;
    svg += `<rect x="${x}" y="${y(v)}" width="28" height="${H - 40 - y(v)}" fill="${color}"><title>${sys} ${q} ${v} ms</title></rect>`;
  });
  svg += `<text x="${80 + i * 160 + 64}" y="${H - 20}" text-anchor="middle">${rate} msg/s</text>`;
});
series.forEach(([sys, q, color], j) => {
  svg += `<rect x="${70 + j * 120}" y="8" width="12" height="12" fill="${color}"/><text x="${86 + j * 120}" y="18">${sys} ${q}</text>`;
});
svg += '</svg>';
const html = `<!doctype html><meta charset="utf-8"><title>IM platform vs ejabberd + MAM</title>
<h1>send → receive latency, this platform vs ejabberd + MAM</h1>
<p>Same machine, same run, one system at a time. Source: ${dir}</p>${svg}
<pre>${md.replace(/</g, '&lt;')}</pre>`;
writeFileSync(`${dir}.html`, html);
console.log(`\nwritten: ${dir}.md, ${dir}.html`);
