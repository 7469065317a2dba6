import { baseEnv, cassandraEnv, env, grpcServerEnv, kafkaEnv, natsEnv, searchEnv } from '@im/platform/config';
import { z } from 'zod';

export const messageConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...cassandraEnv,
  ...kafkaEnv,
  ...natsEnv,
  ...searchEnv,
  AUTH_GRPC_ADDR: env.grpcAddress('auth'),
  MEDIA_GRPC_ADDR: env.grpcAddress('media'),
  MESSAGE_MAX_TEXT_CHARS: env.int('longest message text, in characters', 4_000, 1, 65_536),
  MAX_PENDING_COMMANDS: env.int(
    'sends and read markers waiting for the sequencer at most; beyond, new ones fail fast with unavailable (load shedding)',
    5_000,
    10,
    1_000_000,
  ),
  SEND_TIMEOUT_MS: env.int(
    'how long a send waits for its sequenced confirmation before answering timeout',
    10_000,
    500,
    120_000,
  ),
  GROUP_MAX_MEMBERS: env.int('members of a group at most', 1_000, 2, 100_000),
  USER_MAX_OPEN_INVITATIONS: env.int(
    'open invitations one user may hold (consent tenants; at most the 200 a listing shows): past it nobody invites them until they answer some or some lapse',
    100,
    1,
    200,
  ),
  INVITER_MAX_OPEN_INVITATIONS: env.int(
    'open invitations one user may hold from one inviter: no single member can fill someone’s invitations',
    5,
    1,
    200,
  ),
  USER_MAX_CONVERSATIONS: env.int(
    'conversations (direct, groups, channels) one user may belong to: bounds every list and sync, and what spam can add',
    2_000,
    1,
    100_000,
  ),
  CHANNEL_MAX_MEMBERS: env.int('members of a channel at most', 100_000, 2, 10_000_000),
  LIVE_CONVERSATION_FANOUT_MIN_MEMBERS: env.int(
    'from this many members on, a new message and conversation.updated (a shared view) are published once for the whole conversation (every gateway filters its own connected members) instead of once per member; 0 = always per member (conversation.updated past 1,000 members is always shared)',
    1_000,
    0,
    10_000_000,
  ),
  READ_RECEIPTS_MAX_MEMBERS: env.int(
    'read events go to all members only in conversations up to this size',
    100,
    2,
    100_000,
  ),
  MESSAGE_EDIT_WINDOW_SECONDS: env.int(
    'how long after sending a message its sender may edit it, in seconds; 0 = unlimited',
    0,
    0,
    10 * 365 * 86_400,
  ),
  MESSAGE_EDIT_WINDOW_BY_TENANT: env.tenantOverrides(
    'per-tenant edit windows overriding MESSAGE_EDIT_WINDOW_SECONDS: "tenantId=seconds,…"',
  ),
  MESSAGE_MAX_PINS: env.int('pinned messages one conversation may have at most', 50, 1, 1_000),
  MESSAGE_MAX_DISTINCT_REACTIONS: env.int(
    'different reaction emojis one message may carry at most',
    20,
    1,
    200,
  ),
  SEQUENCER_COMMIT_DELAY_MS: env.int(
    "the longest Cassandra may lose acknowledged writes in a crash: a batch's command offsets are committed only once Cassandra has acknowledged a write started this long after it, and after an outage the sequencer replays from them, so what was lost is written again. Keep above 1.5 × commitlog_sync_period (a node blocks writes past that lag; 10 s by default). 0: commit what was handled within a second, for storage that never loses an acknowledged write",
    20_000,
    0,
    600_000,
  ),
  SEQUENCER_WRITE_BATCH_STATEMENTS: env.int(
    "statements per unlogged batch at most when the sequencer groups the writes of many conversations into one request (set Cassandra's unlogged_batch_across_partitions_warn_threshold at least this high, or it logs a warning per batch)",
    50,
    1,
    500,
  ),
  SEQUENCER_SESSION_TIMEOUT_MS: env.int(
    'Kafka session timeout of the sequencer (how fast a dead replica is replaced)',
    10_000,
    6_000,
    300_000,
  ),
});

export type MessageConfig = z.output<typeof messageConfigSchema>;
