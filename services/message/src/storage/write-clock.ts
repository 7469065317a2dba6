let last = 0;

/**
 * Write timestamps (µs) that only increase in this process: the sequencer stamps its membership
 * writes with them so statements sent in parallel land in the order they were decided.
 */
export function nextWriteTimestamp(): number {
  last = Math.max(last + 1, Date.now() * 1000);
  return last;
}
