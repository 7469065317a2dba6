import { z } from 'zod';
import type { ClientFrameOf, ClientFrameType } from '@im/proto/client/v1';
import { AppError } from '@im/platform/errors';

/**
 * What the gateway accepts from clients: REST bodies and queries, WebSocket frames. Each schema
 * validates input (wrong type, missing field → invalid_argument naming the field) and documents it
 * in /v1/openapi.json and /v1/asyncapi.json. Unknown fields are ignored (forward compatibility).
 * Business limits (text length, member counts) are enforced again by the owning service.
 */
const id = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an id (1-64 of A-Z a-z 0-9 -)');
const requestId = z.string().min(1).max(64).describe('chosen by the client; echoed in the ack or error');
const clientMsgId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ : -')
  .describe('client-made idempotency key: resending it returns the original message');
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const replyTo = z
  .number()
  .int()
  .min(1)
  .max(Number.MAX_SAFE_INTEGER)
  .describe('the seq of the message replied to (a reply to a reply joins the same thread)');
const mentions = z
  .array(id)
  .max(50)
  .describe('user ids of members to mention, or "all" (in channels: admins and the owner)');
const attachment = z
  .object({ mediaId: id })
  .describe(
    'an uploaded file of yours (POST /v1/media/uploads); its name, type and size come from the upload',
  )
  // the message service fills in the rest from the media service
  .transform((a) => ({ mediaId: a.mediaId, name: '', filename: '', contentType: '', size: 0 }));

export const registerBody = z.object({
  tenant: z.string().max(64).optional().describe('tenant name; the default tenant when absent'),
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  displayName: z.string().max(200).optional(),
  invite: z.string().max(128).optional().describe('an invite of the tenant (needed unless it is open)'),
});

export const emailInviteBody = z.object({
  tenant: z.string().max(64).optional().describe('tenant name; the default tenant when absent'),
  email: z.string().min(3).max(254).describe('your address at one of the tenant’s email domains'),
});

export const loginBody = z.object({
  tenant: z.string().max(64).optional(),
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  deviceToken: z
    .string()
    .max(128)
    .optional()
    .describe(
      'from an earlier login on this device: not held back when strangers’ failures lock the account',
    ),
});

export const refreshBody = z.object({ refreshToken: z.string().min(1).max(512) });

export const createConversationBody = z.object({
  type: z.enum(['direct', 'group', 'channel']),
  memberIds: z.array(id).max(1000).describe('the other members; the caller always becomes a member'),
  title: z.string().max(200).optional(),
});

export const conversationSettingsBody = z.object({
  title: z.string().max(200).optional(),
  topic: z.string().max(1_000).optional(),
  archived: z.boolean().optional().describe('read-only while true'),
  announcement: z.boolean().optional().describe('only admins and the owner send while true'),
});

export const updateMemberBody = z.object({
  role: z.enum(['member', 'admin']).optional().describe('the owner decides roles'),
  muted: z.boolean().optional().describe('a muted member reads but cannot send or change messages'),
});

/** The body is optional: a member who is not the owner has nothing to say. */
export const leaveBody = z
  .object({
    handOverTo: id
      .optional()
      .describe('the owner leaving: who becomes owner (default: the longest-standing admin, else member)'),
  })
  .default({});

export const addMembersBody = z.object({
  userIds: z.array(id).min(1).max(1000),
  role: z.enum(['member', 'admin']).optional(),
});

export const sendMessageBody = z.object({
  clientMsgId,
  text: z.string().max(65_536),
  replyTo: replyTo.optional(),
  attachments: z.array(attachment).max(20).optional(),
  mentions: mentions.optional(),
});

export const readBody = z.object({ seq });

const quietHours = z
  .object({
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (24 h)'),
    end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (24 h)'),
    timeZone: z.string().min(1).max(64).describe('IANA time zone, e.g. Europe/Paris'),
  })
  .strict();

export const notificationSettingsBody = z
  .object({
    readReceipts: z.boolean().optional().describe('false: nobody sees your read markers, nor you theirs'),
    previews: z.enum(['full', 'sender', 'none']).optional().describe('what a push shows of a message'),
    quietHours: quietHours.nullable().optional().describe('no pushes in this daily window; null removes it'),
    keywords: z
      .array(z.string().trim().min(1).max(64))
      .max(50)
      .optional()
      .describe('whole words (case-insensitive) that notify even where the level is "mentions"'),
  })
  .strict();

export const conversationNotificationBody = z
  .object({
    level: z
      .enum(['all', 'mentions', 'none', 'default'])
      .optional()
      .describe('default: mentions in channels, all elsewhere'),
    mutedUntil: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .describe('no pushes until then; null unmutes'),
  })
  .strict();

export const registerDeviceBody = z
  .object({
    platform: z.enum(['apns', 'fcm', 'webpush']),
    token: z.string().max(4096).optional().describe('APNs device token or FCM registration token'),
    subscription: z
      .object({
        endpoint: z.string().max(2048),
        keys: z.object({ p256dh: z.string().max(256), auth: z.string().max(128) }).strict(),
      })
      .strict()
      .optional()
      .describe('Web Push: PushSubscription.toJSON() of the browser'),
  })
  .strict();

const messageSeq = seq.min(1);
const emoji = z.string().min(1).max(64).describe('one emoji (a single grapheme) or a :shortcode:');
export const editMessageBody = z.object({ text: z.string().max(65_536) });

const intFromQuery = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const listRepliesQuery = z.object({
  afterSeq: intFromQuery(0, Number.MAX_SAFE_INTEGER).optional().describe('replies with seq > afterSeq'),
  limit: intFromQuery(1, 200).optional().describe('1-200, default 50'),
});

export const listMessagesQuery = z.object({
  beforeSeq: intFromQuery(1, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('messages with seq < beforeSeq, newest first'),
  afterSeq: intFromQuery(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('messages with seq > afterSeq, oldest first'),
  limit: intFromQuery(1, 200).optional().describe('1-200, default 50'),
});

export const listConversationsQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: intFromQuery(1, 200).optional().describe('1-200, default 50'),
});

export const searchQuery = z.object({
  q: z.string().min(1).max(1024).describe('words to find (all of them), at most 256 characters'),
  conversationId: id.optional().describe('only this conversation'),
  cursor: z.string().max(512).optional().describe('nextCursor of the previous page'),
  limit: intFromQuery(1, 50).optional().describe('1-50, default 20'),
});

export const createUploadBody = z.object({
  filename: z.string().min(1).max(255),
  contentType: z
    .string()
    .min(3)
    .max(255)
    .describe('what the file claims to be; checked against its bytes on complete'),
  size: z
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .describe('bytes; the upload must match it exactly'),
});

export const completeUploadBody = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(256) }))
    .max(10_000)
    .default([])
    .describe('multipart uploads: each part with the ETag header its PUT answered'),
});

export const mediaParams = z.object({ mediaId: id });

const commaSeparatedUserIds = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(id).min(1).max(200))
  .describe('comma-separated user ids, at most 200');

export const presenceQuery = z.object({ userIds: commaSeparatedUserIds });

export const usersQuery = z.object({ ids: commaSeparatedUserIds });

export const usernameParams = z.object({
  username: z.string().min(1).max(64).describe('the exact username'),
});

export const conversationParams = z.object({ id });
export const memberParams = z.object({ id, userId: id });
export const deviceParams = z.object({ id });
export const userParams = z.object({ id });
export const webhookParams = z.object({ id });
export const botParams = z.object({ id });

export const createBotBody = z
  .object({ username: z.string().min(1).max(64), displayName: z.string().max(200).optional() })
  .strict();

export const createWebhookBody = z
  .object({
    url: z.string().min(1).max(2048).describe('https; never an address inside the network'),
    events: z
      .array(z.string().max(64))
      .min(1)
      .max(10)
      .describe('message.created, message.updated, member.joined, member.left, conversation.updated'),
  })
  .strict();

export const createInviteBody = z
  .object({
    role: z.enum(['member', 'admin']).optional(),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .optional()
      .describe('default 7 days'),
  })
  .strict();

export const updateTenantUserBody = z
  .object({
    disabled: z.boolean().optional(),
    role: z.enum(['member', 'admin']).optional(),
    resetMfa: z.literal(true).optional().describe("turns the user's second factor off (a lost phone)"),
  })
  .strict();

export const updateTenantBody = z
  .object({
    registration: z.enum(['open', 'invite']).optional(),
    mfaPolicy: z
      .enum(['off', 'admins', 'everyone'])
      .optional()
      .describe('who must log in with a second factor (existing sessions go on)'),
    groupAdds: z
      .enum(['anyone', 'consent'])
      .optional()
      .describe('being added to a group or channel: directly, or by an invitation the person accepts'),
    emailDomains: z
      .array(z.string().max(253))
      .max(50)
      .optional()
      .describe(
        'replaces the domains whose people may join by a mailed invite (POST /v1/auth/email-invites); [] turns it off',
      ),
  })
  .strict();

const mfaToken = z.string().min(1).max(128).describe('from the mfa_required answer of a login');
const mfaCode = z.string().min(1).max(64).describe('six digits of the authenticator app, or a recovery code');
export const completeMfaBody = z.object({ mfaToken, code: mfaCode });
export const beginMfaEnrolmentBody = z.object({ mfaToken });
export const beginOwnMfaEnrolmentBody = z.object({
  password: z.string().min(1).max(1024).describe('the caller’s password: a stolen token alone cannot enrol'),
});
export const mfaCodeBody = z.object({ code: mfaCode });

export const tenantUsersQuery = z.object({
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export const messageParams = z.object({ id, seq: intFromQuery(1, Number.MAX_SAFE_INTEGER) });
export const reactionParams = z.object({ id, seq: intFromQuery(1, Number.MAX_SAFE_INTEGER), emoji });

// ---- WebSocket frames (client → server) ----
// The shapes are the proto's (proto/im/client/v1/frames.proto); these schemas add the limits. The
// compiler holds them to the proto: one schema per ClientFrame type, each producing exactly the
// fields of its proto message.

/** A schema whose output is the proto frame T (fields and their types). */
type FrameSchema<T extends ClientFrameType> = z.ZodType<ClientFrameOf<T>>;
/** Field names in one of A and B but not in both. */
type Mismatch<A, B> = Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>;

export const authFrame = z.object({
  type: z.literal('auth'),
  token: z.string().min(1).max(4096),
}) satisfies FrameSchema<'auth'>;

export const wsFrames = {
  'auth.refresh': z.object({
    type: z.literal('auth.refresh'),
    id: requestId,
    token: z.string().min(1).max(4096),
  }),
  'message.send': z.object({
    type: z.literal('message.send'),
    id: requestId,
    conversationId: id,
    clientMsgId,
    text: z.string().max(65_536),
    replyTo: replyTo.optional(),
    attachments: z.array(attachment).max(20).default([]),
    mentions: mentions.default([]),
  }),
  read: z.object({ type: z.literal('read'), id: requestId, conversationId: id, seq }),
  typing: z.object({ type: z.literal('typing'), id: requestId, conversationId: id }),
  'presence.set': z.object({
    type: z.literal('presence.set'),
    id: requestId,
    status: z.enum(['online', 'away', 'busy', 'offline']),
    statusText: z.string().max(140, 'must be at most 140 characters').optional(),
  }),
  'presence.subscribe': z.object({
    type: z.literal('presence.subscribe'),
    id: requestId,
    userIds: z.array(id).max(500),
  }),
  sync: z.object({
    type: z.literal('sync'),
    id: requestId,
    conversations: z
      .array(
        z.object({
          conversationId: id,
          afterSeq: seq,
          afterVersion: seq.default(0).describe('updates to messages up to afterSeq after this version'),
        }),
      )
      .max(200)
      .default([])
      .describe('none: every conversation with messages after its read marker'),
    limit: z.number().int().min(1).max(500).optional(),
  }),
  ping: z.object({ type: z.literal('ping'), id: requestId }),
  'message.edit': z.object({
    type: z.literal('message.edit'),
    id: requestId,
    conversationId: id,
    seq: messageSeq,
    text: z.string().max(65_536),
  }),
  'message.delete': z.object({
    type: z.literal('message.delete'),
    id: requestId,
    conversationId: id,
    seq: messageSeq,
  }),
  'reaction.add': z.object({
    type: z.literal('reaction.add'),
    id: requestId,
    conversationId: id,
    seq: messageSeq,
    emoji,
  }),
  'reaction.remove': z.object({
    type: z.literal('reaction.remove'),
    id: requestId,
    conversationId: id,
    seq: messageSeq,
    emoji,
  }),
} as const satisfies { [T in Exclude<ClientFrameType, 'auth'>]: FrameSchema<T> };

/** Compile-time: no schema has a field its proto message lacks, nor lacks one it has. */
type FieldMismatches = {
  [T in keyof typeof wsFrames]: Mismatch<z.output<(typeof wsFrames)[T]>, ClientFrameOf<T>>;
}[keyof typeof wsFrames];
export const framesMatchProto: [FieldMismatches] extends [never] ? true : FieldMismatches = true;

export type WsFrameType = keyof typeof wsFrames;
export type WsFrame<T extends WsFrameType> = z.output<(typeof wsFrames)[T]>;

/** Parses input with a schema or throws invalid_argument naming the first offending fields. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : where}: ${i.message}`)
    .join('; ');
  throw new AppError('invalid_argument', details);
}
