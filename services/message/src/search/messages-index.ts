import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from '@opensearch-project/opensearch';
import { AppError } from '@im/platform/errors';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import type { MessageConfig } from '../config.js';
import { MESSAGES_MAPPING, type IndexOperation } from '../domain/search-documents.js';

const BULK_ANSWER_FIELDS = ['errors', 'items.*.status', 'items.*.error.type', 'items.*.error.reason'];
/**
 * Refusals that pass: the index deleted where the cluster creates none on write (it is created
 * again), writes blocked while a disk is full (403, not 429).
 */
const RETRIED_ERRORS = new Set(['index_not_found_exception', 'cluster_block_exception']);

export interface Hit {
  conversationId: string;
  seq: number;
  editedAt: string | undefined;
  highlights: string[];
  sort: unknown[];
}

/**
 * The OpenSearch index of messages. Writes are external-versioned (a document never goes back to
 * an older version of its message); a write that lost to a newer one is not an error.
 */
@Injectable()
export class MessagesIndex implements OnApplicationShutdown {
  readonly name: string;
  private readonly client: Client;

  constructor(
    @Inject(CONFIG) private readonly config: MessageConfig,
    @Inject(REGISTRY) registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.name = registry.indices.messages;
    this.client = new Client({
      node: config.OPENSEARCH_URL,
      ...(config.OPENSEARCH_USERNAME
        ? { auth: { username: config.OPENSEARCH_USERNAME, password: config.OPENSEARCH_PASSWORD ?? '' } }
        : {}),
      requestTimeout: 10_000,
      maxRetries: 2,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  /**
   * Puts the index's template, then creates the index when missing (several replicas may race: the
   * loser finds it created). The template gives an index that a bulk request auto-creates (after
   * someone deleted it) the strict mapping, not one guessed from the first document.
   */
  async ensure(): Promise<void> {
    const template = {
      settings: { number_of_shards: 1, number_of_replicas: this.config.OPENSEARCH_INDEX_REPLICAS },
      mappings: MESSAGES_MAPPING,
    };
    try {
      await this.client.indices.putIndexTemplate({
        name: this.name,
        body: { index_patterns: [this.name], template },
      });
    } catch (err) {
      // a cluster-wide permission (cluster_manage_index_templates) a secured cluster may withhold:
      // the service then creates the index itself, which is enough unless someone deletes it
      // where indices are created on write
      if (statusOf(err) !== 403) throw err;
      this.logger.warn({ index: this.name }, 'no permission to put the index template; going on without it');
    }
    const exists = await this.client.indices.exists({ index: this.name });
    if (exists.body) return;
    try {
      await this.client.indices.create({ index: this.name, body: template });
      this.logger.info({ index: this.name }, 'search index created');
    } catch (err) {
      if (errorType(err) !== 'resource_already_exists_exception') throw err;
    }
  }

  /**
   * Applies index operations in one bulk request. Throws when any failed for a reason a retry can
   * fix (the batch is retried); documents refused as malformed are logged and skipped.
   */
  async apply(ops: readonly IndexOperation[]): Promise<void> {
    if (ops.length === 0) return;
    const body = ops.flatMap((op) => [
      {
        index: {
          _index: this.name,
          _id: op.id,
          routing: op.routing,
          version: op.version,
          version_type: 'external_gte',
        },
      },
      op.doc,
    ]);
    // per document only what is read below: the full answer repeats index, id, version and shards
    const res = await this.client.bulk({ body, filter_path: BULK_ANSWER_FIELDS });
    if (!res.body.errors) return;
    const items = res.body.items as Array<{ index?: { status: number; error?: { type?: string } } }>;
    let retry = 0;
    let missing = false;
    items.forEach((item, i) => {
      const r = item.index;
      if (!r || r.status < 300 || r.status === 409) return; // 409: a newer version is already there
      missing ||= r.error?.type === 'index_not_found_exception';
      if (r.status === 429 || r.status >= 500 || RETRIED_ERRORS.has(r.error?.type ?? '')) retry++;
      else this.logger.error({ id: ops[i]!.id, error: r.error }, 'search document refused; skipped');
    });
    if (missing) await this.ensure();
    if (retry > 0) throw new Error(`${retry} search documents not indexed (OpenSearch busy); retrying`);
  }

  /** Runs a search; an unreachable OpenSearch is `unavailable` to the caller. */
  async search(request: Record<string, unknown>, routing: string): Promise<Hit[]> {
    try {
      const res = await this.client.search({ index: this.name, routing, body: request });
      return (res.body.hits.hits as Array<Record<string, unknown>>).map((h) => {
        const src = h._source as { conversationId: string; seq: number; editedAt?: string };
        const hl = h.highlight as { text?: string[] } | undefined;
        return {
          conversationId: src.conversationId,
          seq: Number(src.seq),
          editedAt: src.editedAt,
          highlights: hl?.text ?? [],
          sort: h.sort as unknown[],
        };
      });
    } catch (err) {
      if (errorType(err) === 'index_not_found_exception') return [];
      this.logger.warn({ err }, 'search failed');
      throw new AppError('unavailable', 'search is unavailable; retry shortly', 1_000);
    }
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { meta?: { statusCode?: number } }).meta?.statusCode;
}

function errorType(err: unknown): string | undefined {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}
