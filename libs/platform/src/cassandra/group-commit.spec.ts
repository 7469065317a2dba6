import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cassandra from 'cassandra-driver';
import type { CassandraClient, Statement } from './client.js';
import { GroupedWrites } from './group-commit.js';

/**
 * How a failed group is answered, with a client that fails the way the driver does. (The real
 * driver and server: libs/platform/test/cassandra-group-commit.test.ts.)
 */
function failingClient(groupError: unknown): { client: CassandraClient; requests: () => number } {
  let requests = 0;
  const answer = (statements: number) => {
    requests++;
    // the group (several callers' statements) fails; a caller's own statements alone succeed
    return statements > 1 ? Promise.reject(groupError) : Promise.resolve(undefined);
  };
  const client = {
    execute: () => answer(1),
    batch: (queries: readonly unknown[]) => answer(queries.length),
  } as unknown as CassandraClient;
  return { client, requests: () => requests };
}

const write = (i: number): Statement[] => [{ query: 'UPDATE t SET v = ? WHERE k = ?', params: [i, i] }];

async function outcomes(err: unknown) {
  const { client, requests } = failingClient(err);
  const writes = new GroupedWrites(client, { maxStatements: 50, maxBytes: 40_000 });
  const results = await Promise.allSettled([0, 1, 2].map((i) => writes.write(write(i))));
  return { results: results.map((r) => r.status), requests: requests() };
}

describe('GroupedWrites: a failed group', () => {
  it('an outage fails every caller at once, without a retry per caller: a closed socket too', async () => {
    // abstract in the typings, plain classes in the driver
    const DriverError = cassandra.errors.DriverError as unknown as new (message: string) => Error;
    const NoHost = cassandra.errors.NoHostAvailableError as unknown as new (errors: object) => Error;
    const socketClosed = Object.assign(new DriverError('Socket was closed'), { isSocketError: true });
    const noHost = new NoHost({});
    for (const err of [socketClosed, noHost]) {
      const { results, requests } = await outcomes(err);
      assert.deepEqual(results, ['rejected', 'rejected', 'rejected']);
      assert.equal(requests, 1, 'one request: the group');
    }
  });

  it('a group refused for what it holds is retried caller by caller', async () => {
    const refused = new cassandra.errors.ResponseError(
      cassandra.types.responseErrorCodes.invalid,
      'Batch too large',
    );
    const { results, requests } = await outcomes(refused);
    assert.deepEqual(results, ['fulfilled', 'fulfilled', 'fulfilled']);
    assert.equal(requests, 4, 'the group, then each caller alone');
  });
});
