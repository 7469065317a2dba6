import type { PushContent } from '../domain/push-content.js';
import type { Platform } from '../domain/push-targets.js';
import type { DeviceRow } from '../storage/devices.table.js';

/** delivered: the push service took it; gone: the target no longer exists (remove the device). */
export type DeliveryOutcome = 'delivered' | 'gone';

/** A push service refused or failed a push; retryable ones are tried again (429, 5xx, network). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface PushProvider {
  readonly platform: Platform;
  /** Whether it is configured (a platform without credentials is skipped, and said so once). */
  readonly enabled: boolean;
  send(device: DeviceRow, content: PushContent, collapseKey: string): Promise<DeliveryOutcome>;
}

/** Retry-After: seconds or an HTTP date. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
