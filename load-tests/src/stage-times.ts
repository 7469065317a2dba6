/**
 * Where the sequencer's time goes during a run: the message service's im_message_sequencer_stage_ms
 * histogram (Prometheus text from its /metrics), read before and after, as percentiles per stage.
 * (parse-prometheus-text-format, the npm parser, merges the series of a labelled histogram into
 * one, so the few lines needed here are read directly.)
 */

const METRIC = 'im_message_sequencer_stage_ms';

/** Per stage, the cumulative count of each bucket's upper bound (Infinity last). */
type Buckets = Map<string, Map<number, number>>;

export interface StageTimes {
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

const BUCKET_LINE = new RegExp(`^${METRIC}_bucket\\{([^}]*)\\} (\\S+)`);
const LABEL = /(\w+)="([^"]*)"/g;

export function parseStageBuckets(text: string): Buckets {
  const out: Buckets = new Map();
  for (const line of text.split('\n')) {
    const m = BUCKET_LINE.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(LABEL)].map((l) => [l[1]!, l[2]!]));
    if (labels.stage === undefined || labels.le === undefined) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    let stage = out.get(labels.stage);
    if (!stage) out.set(labels.stage, (stage = new Map()));
    stage.set(le, (stage.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/** A percentile of the observations between two readings, interpolated inside its bucket. */
function percentile(bounds: number[], counts: number[], q: number): number {
  const total = counts.at(-1)!;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! < rank) continue;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    if (bounds[i] === Infinity) return lower; // beyond the last bound: say the bound
    const before = i === 0 ? 0 : counts[i - 1]!;
    const inBucket = counts[i]! - before;
    return +(lower + ((bounds[i]! - lower) * (rank - before)) / Math.max(1, inBucket)).toFixed(2);
  }
  return 0;
}

/** Percentiles per stage of what was observed between `before` and `after`. */
export function stageTimesBetween(before: Buckets, after: Buckets): Record<string, StageTimes> {
  const out: Record<string, StageTimes> = {};
  for (const [stage, buckets] of after) {
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    const counts = bounds.map((b) => buckets.get(b)! - (before.get(stage)?.get(b) ?? 0));
    const count = counts.at(-1) ?? 0;
    if (count <= 0) continue; // nothing observed, or the process restarted in between
    out[stage] = {
      count,
      p50: percentile(bounds, counts, 0.5),
      p90: percentile(bounds, counts, 0.9),
      p95: percentile(bounds, counts, 0.95),
      p99: percentile(bounds, counts, 0.99),
    };
  }
  return out;
}

/**
 * Reads the stage histogram of a message service; undefined (and a warning) when it cannot be
 * read: a run must not report the totals since the process started as its own.
 */
export async function readStageBuckets(metricsUrl: string): Promise<Buckets | undefined> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
    if (res.ok) return parseStageBuckets(await res.text());
    process.stderr.write(`[load] ${metricsUrl}: HTTP ${res.status}; no stage times for this run\n`);
  } catch (err) {
    process.stderr.write(`[load] ${metricsUrl}: ${String(err)}; no stage times for this run\n`);
  }
  return undefined;
}
