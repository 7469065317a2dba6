import { ApiError } from '@im/sdk';

/**
 * What a call ended in, for assertions: "ok", or "<HTTP status> <code>" ("ws <code>" for an error
 * frame), so a test states the exact refusal it expects.
 */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof ApiError ? `${err.status || 'ws'} ${err.code}` : String(err);
  }
}
