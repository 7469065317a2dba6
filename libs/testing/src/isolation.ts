import { randomBytes } from 'node:crypto';

/**
 * A fresh name prefix (IM_NAME_PREFIX) for one test suite: its topics, consumer groups, subjects,
 * KV buckets and keyspaces then never meet another suite's, on the same servers.
 */
export function newRunPrefix(label = 't'): string {
  const clean =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 12) || 't';
  return `${clean}${Date.now().toString(36).slice(-5)}${randomBytes(3).toString('hex')}`;
}
