import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@opensearch-project/opensearch';
import type { Logger } from '@im/platform/logging';
import { createRegistry } from '@im/platform/registry';
import { infraEnvFromProcess, newRunPrefix } from '@im/testing';
import type { MessageConfig } from '../src/config.js';
import {
  documentId,
  searchRequest,
  type IndexOperation,
  type SearchCursor,
} from '../src/domain/search-documents.js';
import { MessagesIndex } from '../src/search/messages-index.js';

const tenantId = 't1';
const conversationId = 'c1';

function operation(seq: number, version: number, text: string): IndexOperation {
  return {
    id: documentId(conversationId, seq),
    version,
    routing: tenantId,
    doc: {
      tenantId,
      conversationId,
      seq,
      senderId: 'u1',
      text,
      createdAt: new Date(Date.UTC(2026, 11, 5, 0, 0, seq)).toISOString(),
      deleted: false,
    },
  };
}

describe('messages index (real OpenSearch)', () => {
  const refused: unknown[] = [];
  const logger = {
    error: (fields: unknown) => refused.push(fields),
    warn: () => undefined,
    info: () => undefined,
  } as unknown as Logger;
  let index: MessagesIndex;
  let admin: Client;

  before(async () => {
    const url = infraEnvFromProcess().OPENSEARCH_URL!;
    const config = { OPENSEARCH_URL: url, OPENSEARCH_INDEX_REPLICAS: 0 } as MessageConfig;
    index = new MessagesIndex(config, createRegistry(newRunPrefix('msgix')), logger);
    admin = new Client({ node: url });
    await index.ensure();
  });

  after(async () => {
    await admin.indices.delete({ index: index.name }).catch(() => undefined);
    await admin.indices.deleteIndexTemplate({ name: index.name }).catch(() => undefined);
    await admin.close();
    await index.onApplicationShutdown();
  });

  const find = async (query: string) => {
    await admin.indices.refresh({ index: index.name });
    const request = searchRequest({
      tenantId,
      conversationIds: [conversationId],
      query,
      limit: 10,
      after: undefined,
    });
    return index.search(request, tenantId);
  };

  it('indexes a bulk, keeps the newest version of each message, and skips (logs) a refused document', async () => {
    await index.apply([operation(1, 1, 'first harbour'), operation(2, 2, 'edited harbour')]);
    const malformed = {
      ...operation(3, 1, 'third harbour'),
      doc: { ...operation(3, 1, '').doc, colour: 'x' },
    };
    // an older version of message 2 (a replay) loses without an error; the strict mapping refuses
    // the unknown field of message 3, which is logged and skipped while the rest of the bulk lands
    await index.apply([
      operation(2, 1, 'original harbour'),
      malformed as IndexOperation,
      operation(4, 1, 'fourth harbour'),
    ]);
    assert.equal(refused.length, 1, 'the malformed document is logged once');
    assert.match(JSON.stringify(refused[0]), /strict_dynamic_mapping_exception/);
    const hits = await find('harbour');
    assert.deepEqual(hits.map((h) => h.seq).sort(), [1, 2, 4]);
    assert.deepEqual(await find('original'), [], 'the older text never replaced the edit');
    assert.deepEqual(
      (await find('edited')).map((h) => h.highlights),
      [['<em>edited</em> harbour']],
    );
  });

  it('pages newest first, each hit once, while writes elsewhere change the shard', async () => {
    const lanterns = Array.from({ length: 25 }, (_, i) => operation(101 + i, 1, `lantern ${i}`));
    await index.apply(lanterns);
    const page = async (after: SearchCursor | undefined) => {
      await admin.indices.refresh({ index: index.name });
      const hits = await index.search(
        searchRequest({ tenantId, conversationIds: [conversationId], query: 'lantern', limit: 10, after }),
        tenantId,
      );
      return { seqs: hits.slice(0, 10).map((h) => h.seq), after: hits[9]?.sort as SearchCursor | undefined };
    };
    const first = await page(undefined);
    // another conversation's writes change the statistics a relevance score is computed from
    await index.apply(
      Array.from({ length: 200 }, (_, i) => ({
        ...operation(1_000 + i, 1, `harbour crane ${i}`),
        id: documentId('c2', 1_000 + i),
        doc: { ...operation(1_000 + i, 1, `harbour crane ${i}`).doc, conversationId: 'c2' },
      })),
    );
    const second = await page(first.after);
    const third = await page(second.after);
    assert.deepEqual(
      [...first.seqs, ...second.seqs, ...third.seqs.slice(0, 5)],
      lanterns.map((op) => op.doc.seq).reverse(),
    );
  });

  it('an index deleted under the indexer comes back with its strict mapping', async () => {
    await admin.indices.delete({ index: index.name });
    const ops = [operation(1, 1, 'restored harbour')];
    // where the cluster creates no index on write (as here), the bulk fails, and the consumer
    // retries it once the index is back; elsewhere its template gives the new index the mapping
    await index.apply(ops).catch(() => index.apply(ops));
    const mapping = await admin.indices.getMapping({ index: index.name });
    const mappings = (
      mapping.body as Record<
        string,
        { mappings: { dynamic?: string; properties: Record<string, { type: string }> } }
      >
    )[index.name]!.mappings;
    assert.equal(mappings.dynamic, 'strict');
    assert.equal(mappings.properties.conversationId?.type, 'keyword');
    assert.deepEqual(
      (await find('restored')).map((h) => h.seq),
      [1],
    );
  });
});
