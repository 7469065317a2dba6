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
