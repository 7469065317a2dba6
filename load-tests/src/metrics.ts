import { readFileSync, readdirSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Latencies in microseconds (1 µs .. 60 s, 3 significant digits), reported in milliseconds. */
export class LatencyHistogram {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

  recordMs(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): Percentiles {
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: this.h.totalCount,
      p50: ms(this.h.getValueAtPercentile(50)),
      p95: ms(this.h.getValueAtPercentile(95)),
      p99: ms(this.h.getValueAtPercentile(99)),
      max: ms(this.h.maxValue),
      mean: ms(this.h.mean),
    };
  }
}

/** Resident memory of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

/** Kernel memory of all TCP sockets (bytes), from /proc/net/sockstat ("mem" is in pages). */
export function kernelTcpBytes(): number {
  const line = readFileSync('/proc/net/sockstat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('TCP:'));
  return Number(/mem (\d+)/.exec(line ?? '')?.[1] ?? 0) * 4096;
}

/** Slab caches a TCP connection occupies in the kernel: the socket, its inode, file and epoll entries. */
const SOCKET_CACHES = new Set([
  'TCP',
  'sock_inode_cache',
  'filp',
  'eventpoll_epi',
  'eventpoll_pwq',
  'dentry',
]);

/** Bytes in use in those caches (/proc/slabinfo: active objects x object size; needs root). */
export function kernelSlabBytes(): number {
  let total = 0;
  for (const line of readFileSync('/proc/slabinfo', 'utf8').split('\n')) {
    const [name, active, , size] = line.split(/\s+/);
    if (name && SOCKET_CACHES.has(name)) total += Number(active) * Number(size);
  }
  return total;
}

/** Pids of processes whose command line contains `needle` (e.g. the gateway's main.js). */
export function findPids(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU time (user + system) a process has used, in milliseconds (/proc/<pid>/stat, 100 ticks/s). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14, 15)
  } catch {
    return 0; // gone
  }
}

/**
 * CPU used by a set of processes between start() and stop(), per message: what every process of a
 * system under test spends, not only the one the client talks to.
 */
export class CpuMeter {
  private readonly before = new Map<number, number>();

  constructor(readonly pids: readonly number[]) {}

  start(): void {
    for (const p of this.pids) this.before.set(p, cpuMs(p));
  }

  /** Milliseconds of CPU per message, per process (by label) and in total. */
  stop(
    messages: number,
    label: (pid: number) => string,
  ): { totalMsPerMessage: number; byProcess: Record<string, number> } {
    const byProcess: Record<string, number> = {};
    let total = 0;
    for (const p of this.pids) {
      const used = cpuMs(p) - (this.before.get(p) ?? 0);
      total += used;
      const name = label(p);
      byProcess[name] = (byProcess[name] ?? 0) + used / Math.max(1, messages);
    }
    for (const k of Object.keys(byProcess)) byProcess[k] = Math.round(byProcess[k]! * 1000) / 1000;
    return { totalMsPerMessage: Math.round((total / Math.max(1, messages)) * 1000) / 1000, byProcess };
  }
}

/** The platform's processes on this machine: the six services, Kafka, Cassandra and NATS. */
export function platformPids(): Map<number, string> {
  const out = new Map<number, string>();
  for (const svc of ['gateway', 'auth', 'message', 'presence', 'media', 'notification'])
    for (const p of findPids(`services/${svc}/dist/src/main.js`)) out.set(p, svc);
  for (const [needle, name] of [
    ['im-local-kafka', 'kafka'],
    ['im-local-cassandra', 'cassandra'],
    ['im-local-nats', 'nats'],
    ['im-local-opensearch', 'opensearch'],
  ] as const)
    for (const p of findPids(needle)) out.set(p, name);
  out.delete(process.pid);
  return out;
}
