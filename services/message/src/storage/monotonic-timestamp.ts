/**
 * The write timestamp of a cell that may only move forward with a seq (a conversation's last_seq,
 * a read marker). Cassandra keeps the write with the highest timestamp, so a timestamp derived
 * from the value makes the cell monotonic whichever write lands last: a sequencer that stalled
 * (GC pause, SIGSTOP) and wakes up after its partition moved to another replica cannot move it
 * back (ADR 0006). 2^52 µs is in the year 2112, above any real clock, so ordinary writes to the
 * same row (an INSERT at creation) never win over it; 2^52 + seq stays a safe JS integer.
 */
export const MONOTONIC_TIMESTAMP_BASE = 2 ** 52;

export function monotonicTimestamp(seq: number): number {
  return MONOTONIC_TIMESTAMP_BASE + seq;
}

/**
 * Membership writes (ADR 0013) are stamped with the version of the change that made them, so the
 * latest decided change wins wherever and whenever it is written: a stalled sequencer's late
 * write never undoes a newer one. They sit below MONOTONIC_TIMESTAMP_BASE, so a removal's DELETE
 * never hides the read marker kept in the same row, and above any real clock (until ~2112), so they
 * win over the rows written when a conversation is created.
 */
export const MEMBERSHIP_TIMESTAMP_BASE = MONOTONIC_TIMESTAMP_BASE - 2 ** 44;

export function membershipTimestamp(version: number): number {
  return MEMBERSHIP_TIMESTAMP_BASE + version;
}
