/**
 * Messages are stored in partitions of BUCKET_SIZE consecutive seqs: (conversation_id, seq / 1000).
 * A thousand messages stay far below Cassandra's comfortable partition size even at the text
 * limit, and the newest page is one partition read. Changing it would orphan stored rows.
 */
export const BUCKET_SIZE = 1000;

export function bucketOf(seq: number): number {
  return Math.floor(seq / BUCKET_SIZE);
}
