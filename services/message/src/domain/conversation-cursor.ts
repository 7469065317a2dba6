import { AppError } from '@im/platform/errors';

/** Position in the conversation list (latest activity first, then id): the last item of a page. */
export interface ListPosition {
  activityMs: number;
  id: string;
}

export function encodeCursor(p: ListPosition): string {
  return Buffer.from(`${p.activityMs}:${p.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  const text = Buffer.from(cursor, 'base64url').toString();
  const m = /^(\d{1,16}):([A-Za-z0-9-]{1,64})$/.exec(text);
  if (!m) throw new AppError('invalid_argument', 'cursor: not a cursor this API returned');
  return { activityMs: Number(m[1]), id: m[2]! };
}

/** Sort order of the list: newest activity first, ties by id. */
export function compareByActivity(a: ListPosition, b: ListPosition): number {
  return b.activityMs - a.activityMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
