import type { Logger } from 'pino';
import type { ConsumedBatch } from './batch-consumer.js';

/**
 * The batch's records decoded; one that does not decode is logged and skipped (a consumer must
 * not stop, or retry forever, on one bad record).
 */
export function decodeRecords<T>(
  batch: Pick<ConsumedBatch, 'messages'>,
  decode: (value: Uint8Array) => T,
  logger: Logger,
  what: string,
): T[] {
  const out: T[] = [];
  for (const record of batch.messages) {
    try {
      out.push(decode(record.value!));
    } catch (err) {
      logger.error({ err, offset: record.offset }, `undecodable ${what} skipped`);
    }
  }
  return out;
}
