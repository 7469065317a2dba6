import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AuthServiceService } from '@im/proto/auth/v1';
import type { PromiseClient } from '@im/platform/grpc';
import type { Principal } from '../auth/token-verifier.js';
import type { JwksCache } from '../auth/jwks-cache.js';
import type { Downstream } from '../clients/downstream.js';
import type { Messaging } from '../domain/messaging.js';
import {
  addMembersBody,
  leaveBody,
  updateMemberBody,
  conversationParams,
  conversationSettingsBody,
  createConversationBody,
  editMessageBody,
  listConversationsQuery,
  listMessagesQuery,
  listRepliesQuery,
  completeUploadBody,
  createUploadBody,
  mediaParams,
  loginBody,
  memberParams,
  messageParams,
  reactionParams,
  presenceQuery,
  usersQuery,
  usernameParams,
  readBody,
  refreshBody,
  registerBody,
  emailInviteBody,
  searchQuery,
  sendMessageBody,
} from './request-schemas.js';
import { notificationRoutes } from './notification-routes.js';
import { tenantRoutes } from './tenant-routes.js';
import { mfaRoutes } from './mfa-routes.js';
import { invitationRoutes } from './invitation-routes.js';

export interface RouteContext<B = unknown, Q = unknown, P = unknown> {
  principal: Principal;
  body: B;
  query: Q;
  params: P;
  request: FastifyRequest;
}

export interface Reply {
  status: number;
  body?: unknown;
}

/** One REST endpoint; the OpenAPI document is generated from this table. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  summary: string;
  tag: string;
  auth: boolean;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  /** OpenAPI response: status → component schema name or inline JSON schema. */
  responses: Record<number, string | Record<string, unknown>>;
  handler(ctx: RouteContext<never, never, never>): Promise<Reply>;
}

export interface RouteDeps {
  downstream: Downstream;
  messaging: Messaging;
  jwks: JwksCache;
  clientInfo(request: FastifyRequest): { ip: string; userAgent: string };
}

type AuthResponse = Awaited<ReturnType<PromiseClient<typeof AuthServiceService>['login']>>;

export const authBody = (res: Pick<AuthResponse, 'user' | 'tokens'>) => ({
  user: res.user,
  accessToken: res.tokens!.accessToken,
  refreshToken: res.tokens!.refreshToken,
  expiresIn: res.tokens!.expiresIn,
  // a login's: the device keeps it for its next login (not held back by strangers' failures)
  ...(res.tokens!.deviceToken ? { deviceToken: res.tokens!.deviceToken } : {}),
});

/**
 * The password was right; the client completes the login with a second factor (POST /v1/auth/mfa).
 * An error, so a client that does not know MFA fails loudly instead of reading a 2xx without tokens.
 */
function mfaRequired(mfa: NonNullable<AuthResponse['mfa']>, user?: AuthResponse['user']): Reply {
  const message = mfa.enrolled
    ? 'a second factor is needed: POST /v1/auth/mfa'
    : 'the tenant requires a second factor: enrol with POST /v1/auth/mfa/totp, then POST /v1/auth/mfa';
  const challenge = { mfaToken: mfa.token, expiresIn: mfa.expiresIn, enrolled: mfa.enrolled };
  return {
    status: 401,
    body: { error: { code: 'mfa_required', message, mfa: challenge, ...(user ? { user } : {}) } },
  };
}

export function route<
  B extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  P extends z.ZodType | undefined,
>(
  r: Omit<Route, 'handler' | 'body' | 'query' | 'params'> & {
    body?: B;
    query?: Q;
    params?: P;
    handler(
      ctx: RouteContext<
        B extends z.ZodType ? z.output<B> : undefined,
        Q extends z.ZodType ? z.output<Q> : undefined,
        P extends z.ZodType ? z.output<P> : undefined
      >,
    ): Promise<Reply>;
  },
): Route {
  return r as unknown as Route;
}

export const caller = (p: Principal) => ({ userId: p.userId, tenantId: p.tenantId, sessionId: p.sessionId });

export function buildRoutes(d: RouteDeps): Route[] {
  return [
    route({
      method: 'POST',
      path: '/v1/auth/register',
      summary: 'Create a user (in the default tenant unless one is named) and log in',
      tag: 'auth',
      auth: false,
      body: registerBody,
      responses: { 201: 'AuthResult', 403: 'Error', 409: 'Error' },
      handler: async ({ body, request }) => {
        const res = await d.downstream.auth.register({
          tenant: body.tenant ?? '',
          username: body.username,
          password: body.password,
          displayName: body.displayName ?? '',
          client: d.clientInfo(request),
          invite: body.invite ?? '',
        });
        // the tenant requires MFA: the account exists, the first session waits for enrolment
        return res.mfa ? mfaRequired(res.mfa, res.user) : { status: 201, body: authBody(res) };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/auth/email-invites',
      summary:
        'Mails a single-use invite to your address when its domain is one the tenant takes; register with it (one mail per address per minute)',
      tag: 'auth',
      auth: false,
      body: emailInviteBody,
      responses: {
        202: { type: 'object', properties: { expiresAt: { type: 'string' } } },
        403: 'Error',
        429: 'Error',
        503: 'Error',
      },
      handler: async ({ body, request }) => ({
        status: 202,
        body: await d.downstream.auth.requestEmailInvite({
          tenant: body.tenant ?? '',
          email: body.email,
          client: d.clientInfo(request),
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/auth/login',
      summary:
        'Log in; unknown user and wrong password get the same invalid_credentials; mfa_required carries the challenge of the second step',
      tag: 'auth',
      auth: false,
      body: loginBody,
      responses: { 200: 'AuthResult', 401: 'Error', 429: 'Error' },
      handler: async ({ body, request }) => {
        const res = await d.downstream.auth.login({
          tenant: body.tenant ?? '',
          username: body.username,
          password: body.password,
          client: d.clientInfo(request),
          deviceToken: body.deviceToken ?? '',
        });
        return res.mfa ? mfaRequired(res.mfa) : { status: 200, body: authBody(res) };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/auth/refresh',
      summary:
        'Exchange a refresh token for a new pair; the old one is spent, reusing it revokes the session',
      tag: 'auth',
      auth: false,
      body: refreshBody,
      responses: { 200: 'AuthResult', 401: 'Error' },
      handler: async ({ body, request }) => ({
        status: 200,
        body: authBody(
          await d.downstream.auth.refresh({ refreshToken: body.refreshToken, client: d.clientInfo(request) }),
        ),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/auth/logout',
      summary: "Revoke the caller's session: its tokens and sockets are refused from then on",
      tag: 'auth',
      auth: true,
      responses: { 204: {} },
      handler: async ({ principal }) => {
        await d.downstream.auth.logout({ caller: caller(principal) });
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      path: '/.well-known/jwks.json',
      summary: 'Public keys that verify access tokens',
      tag: 'auth',
      auth: false,
      responses: {
        200: { type: 'object', properties: { keys: { type: 'array', items: { type: 'object' } } } },
      },
      handler: async () => ({ status: 200, body: await d.jwks.document() }),
    }),
    route({
      method: 'GET',
      path: '/v1/users/me',
      summary: 'The caller',
      tag: 'users',
      auth: true,
      responses: { 200: { type: 'object', properties: { user: { $ref: '#/components/schemas/User' } } } },
      handler: async ({ principal }) => ({
        status: 200,
        body: await d.downstream.auth.getUser({
          caller: caller(principal),
          userId: principal.userId,
          username: '',
        }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/users',
      summary:
        'Users of the caller’s tenant by id (names for the conversation list); unknown ids are left out',
      tag: 'users',
      auth: true,
      query: usersQuery,
      responses: {
        200: {
          type: 'object',
          properties: { users: { type: 'array', items: { $ref: '#/components/schemas/User' } } },
        },
      },
      handler: async ({ principal, query }) => ({
        status: 200,
        body: await d.downstream.auth.batchGetUsers({ caller: caller(principal), userIds: query.ids }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/users/by-username/:username',
      summary: 'The user of the caller’s tenant with this exact username (404 otherwise)',
      tag: 'users',
      auth: true,
      params: usernameParams,
      responses: { 200: { type: 'object', properties: { user: { $ref: '#/components/schemas/User' } } } },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.auth.getUser({
          caller: caller(principal),
          userId: '',
          username: params.username,
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/conversations',
      summary:
        'Create a conversation; a direct one between the same two users is returned (200), not duplicated',
      tag: 'conversations',
      auth: true,
      body: createConversationBody,
      responses: { 201: 'ConversationEnvelope', 200: 'ConversationEnvelope' },
      handler: async ({ principal, body }) => {
        const res = await d.downstream.message.createConversation({
          caller: caller(principal),
          type: body.type,
          memberIds: body.memberIds,
          title: body.title ?? '',
        });
        return {
          status: res.created ? 201 : 200,
          body: { conversation: res.conversation, invitedUserIds: res.invitedUserIds },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/conversations',
      summary: "The caller's conversations, latest activity first",
      tag: 'conversations',
      auth: true,
      query: listConversationsQuery,
      responses: {
        200: {
          type: 'object',
          properties: {
            conversations: { type: 'array', items: { $ref: '#/components/schemas/Conversation' } },
            nextCursor: { type: 'string', description: 'absent on the last page' },
          },
        },
      },
      handler: async ({ principal, query }) => {
        const res = await d.downstream.message.listConversations({
          caller: caller(principal),
          cursor: query.cursor ?? '',
          limit: query.limit ?? 0,
        });
        return {
          status: 200,
          body: { conversations: res.conversations, nextCursor: res.nextCursor || undefined },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/conversations/:id',
      summary: 'One conversation; not_found for non-members too',
      tag: 'conversations',
      auth: true,
      params: conversationParams,
      responses: { 200: 'ConversationEnvelope', 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.message.getConversation({
          caller: caller(principal),
          conversationId: params.id,
        }),
      }),
    }),
    route({
      method: 'PATCH',
      path: '/v1/conversations/:id',
      summary:
        'Change title, topic, archived (read-only) or announcement (admins post) — admins and the owner of groups and channels',
      tag: 'conversations',
      auth: true,
      params: conversationParams,
      body: conversationSettingsBody,
      responses: { 200: 'ConversationEnvelope', 400: 'Error', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: await d.downstream.message.updateConversation({
          caller: caller(principal),
          conversationId: params.id,
          ...body,
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/conversations/:id/members',
      summary:
        'Add members (owner or admin; anyone of the tenant may add themselves to a channel); where the tenant asks for consent, the others are invited instead (invitedUserIds)',
      tag: 'conversations',
      auth: true,
      params: conversationParams,
      body: addMembersBody,
      responses: { 200: 'ConversationEnvelope', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: await d.downstream.message.addMembers({
          caller: caller(principal),
          conversationId: params.id,
          userIds: body.userIds,
          role: body.role ?? 'member',
        }),
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/conversations/:id/members/:userId',
      summary: 'Remove a member (owner or admin), or leave (yourself)',
      tag: 'conversations',
      auth: true,
      params: memberParams,
      responses: { 200: 'ConversationEnvelope', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.message.removeMember({
          caller: caller(principal),
          conversationId: params.id,
          userId: params.userId,
        }),
      }),
    }),
    route({
      method: 'PATCH',
      path: '/v1/conversations/:id/members/:userId',
      summary: 'Change a member’s role (the owner) or mute them (admins and the owner)',
      tag: 'conversations',
      auth: true,
      params: memberParams,
      body: updateMemberBody,
      responses: { 200: 'ConversationEnvelope', 400: 'Error', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: await d.downstream.message.updateMember({
          caller: caller(principal),
          conversationId: params.id,
          userId: params.userId,
          ...body,
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/conversations/:id/join',
      summary: 'Join a channel of your tenant',
      tag: 'conversations',
      auth: true,
      params: conversationParams,
      responses: { 200: 'ConversationEnvelope', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.message.joinConversation({
          caller: caller(principal),
          conversationId: params.id,
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/conversations/:id/leave',
      summary:
        'Leave; the owner hands over (to handOverTo, else the longest-standing admin, else member); the last member closes it',
      tag: 'conversations',
      auth: true,
      params: conversationParams,
      body: leaveBody,
      responses: { 204: {}, 403: 'Error', 404: 'Error', 409: 'Error' },
      handler: async ({ principal, params, body }) => {
        await d.downstream.message.leaveConversation({
          caller: caller(principal),
          conversationId: params.id,
          handOverTo: body.handOverTo,
        });
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/conversations/:id/messages',
      summary:
        'Send a message; 201 when stored now, 200 when this clientMsgId was already stored (the original)',
      tag: 'messages',
      auth: true,
      params: conversationParams,
      body: sendMessageBody,
      responses: { 201: 'MessageEnvelope', 200: 'MessageEnvelope', 404: 'Error', 429: 'Error' },
      handler: async ({ principal, params, body }) => {
        const res = await d.messaging.send(caller(principal), { conversationId: params.id, ...body });
        return { status: res.created ? 201 : 200, body: { message: res.message } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/conversations/:id/messages',
      summary: 'History: newest first (or oldest first with afterSeq), at most 200 per page',
      tag: 'messages',
      auth: true,
      params: conversationParams,
      query: listMessagesQuery,
      responses: {
        200: {
          type: 'object',
          properties: {
            messages: { type: 'array', items: { $ref: '#/components/schemas/Message' } },
            hasMore: { type: 'boolean' },
          },
        },
        404: 'Error',
      },
      handler: async ({ principal, params, query }) => ({
        status: 200,
        body: await d.downstream.message.listMessages({
          caller: caller(principal),
          conversationId: params.id,
          beforeSeq: query.beforeSeq ?? 0,
          afterSeq: query.afterSeq ?? 0,
          limit: query.limit ?? 0,
          ascending: query.afterSeq !== undefined,
        }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/conversations/:id/messages/:seq/replies',
      summary: 'A thread: the replies of the root message at seq, oldest first, at most 200 per page',
      tag: 'messages',
      auth: true,
      params: messageParams,
      query: listRepliesQuery,
      responses: {
        200: {
          type: 'object',
          properties: {
            messages: { type: 'array', items: { $ref: '#/components/schemas/Message' } },
            hasMore: { type: 'boolean' },
          },
        },
        400: 'Error',
        404: 'Error',
      },
      handler: async ({ principal, params, query }) => ({
        status: 200,
        body: await d.downstream.message.listReplies({
          caller: caller(principal),
          conversationId: params.id,
          seq: params.seq,
          afterSeq: query.afterSeq ?? 0,
          limit: query.limit ?? 0,
        }),
      }),
    }),
    route({
      method: 'PATCH',
      path: '/v1/conversations/:id/messages/:seq',
      summary: 'Edit a message (only its sender, within the tenant’s edit window); sets editedAt',
      tag: 'messages',
      auth: true,
      params: messageParams,
      body: editMessageBody,
      responses: { 200: 'MessageEnvelope', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: { message: await d.messaging.edit(caller(principal), params.id, params.seq, body.text) },
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/conversations/:id/messages/:seq',
      summary:
        'Delete a message (its sender, or an admin/owner of a group or channel): text and attachments are removed, a tombstone keeps the seq',
      tag: 'messages',
      auth: true,
      params: messageParams,
      responses: { 200: 'MessageEnvelope', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: { message: await d.messaging.delete(caller(principal), params.id, params.seq) },
      }),
    }),
    route({
      method: 'PUT',
      path: '/v1/conversations/:id/messages/:seq/reactions/:emoji',
      summary: 'Add the caller’s reaction (idempotent); emoji URL-encoded',
      tag: 'messages',
      auth: true,
      params: reactionParams,
      responses: { 200: 'MessageEnvelope', 404: 'Error', 409: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: {
          message: await d.messaging.react(caller(principal), params.id, params.seq, params.emoji, true),
        },
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/conversations/:id/messages/:seq/reactions/:emoji',
      summary: 'Remove the caller’s reaction (idempotent)',
      tag: 'messages',
      auth: true,
      params: reactionParams,
      responses: { 200: 'MessageEnvelope', 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: {
          message: await d.messaging.react(caller(principal), params.id, params.seq, params.emoji, false),
        },
      }),
    }),
    ...(['PUT', 'DELETE'] as const).map((method) =>
      route({
        method,
        path: '/v1/conversations/:id/pins/:seq',
        summary:
          method === 'PUT'
            ? 'Pin a message (members in groups and direct conversations, admins in channels); idempotent'
            : 'Unpin a message (same rule); idempotent',
        tag: 'messages',
        auth: true,
        params: messageParams,
        responses: { 200: 'MessageEnvelope', 403: 'Error', 404: 'Error', 409: 'Error' },
        handler: async ({ principal, params }) => ({
          status: 200,
          body: {
            message: await d.messaging.pin(caller(principal), params.id, params.seq, method === 'PUT'),
          },
        }),
      }),
    ),
    route({
      method: 'GET',
      path: '/v1/conversations/:id/pins',
      summary: 'The conversation’s pinned messages, most recently pinned first',
      tag: 'messages',
      auth: true,
      params: conversationParams,
      responses: {
        200: {
          type: 'object',
          properties: { pins: { type: 'array', items: { $ref: '#/components/schemas/PinnedMessage' } } },
        },
        404: 'Error',
      },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.message.listPins({ caller: caller(principal), conversationId: params.id }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/conversations/:id/read',
      summary: 'Move the read marker forward (it never moves back)',
      tag: 'messages',
      auth: true,
      params: conversationParams,
      body: readBody,
      responses: {
        200: {
          type: 'object',
          properties: { readSeq: { type: 'integer' }, unreadCount: { type: 'integer' } },
        },
        404: 'Error',
      },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: await d.messaging.markRead(caller(principal), params.id, body.seq),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/conversations/:id/receipts',
      summary:
        'How far the other members have read (conversations up to 100 members; members who share read receipts, to a caller who does)',
      tag: 'messages',
      auth: true,
      params: conversationParams,
      responses: {
        200: {
          type: 'object',
          properties: { receipts: { type: 'array', items: { $ref: '#/components/schemas/Receipt' } } },
        },
        404: 'Error',
      },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.message.getReceipts({
          caller: caller(principal),
          conversationId: params.id,
        }),
      }),
    }),
    ...notificationRoutes(d),
    ...tenantRoutes(d),
    ...mfaRoutes(d),
    ...invitationRoutes(d),
    route({
      method: 'POST',
      path: '/v1/media/uploads',
      summary:
        'Start an upload: one signed PUT URL, or above the part size a multipart upload with a signed URL per part; bytes go straight to storage',
      tag: 'media',
      auth: true,
      body: createUploadBody,
      responses: {
        201: {
          type: 'object',
          properties: {
            mediaId: { type: 'string' },
            upload: {
              type: 'object',
              description: 'single upload: send the bytes with this method, URL and headers',
              properties: {
                method: { type: 'string' },
                url: { type: 'string' },
                headers: { type: 'object' },
              },
            },
            multipart: { $ref: '#/components/schemas/MultipartUpload' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
        400: 'Error',
        409: 'Error',
        429: 'Error',
      },
      handler: async ({ principal, body }) => {
        const res = await d.downstream.media.createUpload({
          caller: caller(principal),
          name: body.filename,
          contentType: body.contentType,
          size: body.size,
        });
        return {
          status: 201,
          body: {
            mediaId: res.mediaId,
            ...(res.multipart
              ? { multipart: res.multipart }
              : { upload: { method: 'PUT', url: res.uploadUrl, headers: res.uploadHeaders } }),
            expiresAt: res.expiresAt,
          },
        };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/media/:mediaId/complete',
      summary:
        'Finish an upload: the stored bytes are checked (exact size, type sniffed from the content); images go on to processing',
      tag: 'media',
      auth: true,
      params: mediaParams,
      body: completeUploadBody,
      responses: { 200: 'MediaEnvelope', 400: 'Error', 404: 'Error' },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: {
          media: (
            await d.downstream.media.completeUpload({
              caller: caller(principal),
              mediaId: params.mediaId,
              parts: body.parts,
            })
          ).media,
        },
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/media/:mediaId/parts',
      summary: 'Resume a multipart upload: fresh part URLs and the parts already stored',
      tag: 'media',
      auth: true,
      params: mediaParams,
      responses: {
        200: {
          type: 'object',
          properties: {
            multipart: { $ref: '#/components/schemas/MultipartUpload' },
            uploaded: { type: 'array', items: { $ref: '#/components/schemas/UploadedPart' } },
          },
        },
        400: 'Error',
        404: 'Error',
      },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.media.getUploadParts({ caller: caller(principal), mediaId: params.mediaId }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/media/:mediaId',
      summary:
        'A file with short-lived URLs (and thumbnails for images): for its uploader and the members of a conversation it was sent in',
      tag: 'media',
      auth: true,
      params: mediaParams,
      responses: { 200: 'MediaEnvelope', 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await d.downstream.media.getMedia({ caller: caller(principal), mediaId: params.mediaId }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/search/messages',
      summary:
        'Full-text search in the caller’s conversations: every word must match; newest first; highlights are HTML-escaped with <em> around matches',
      tag: 'messages',
      auth: true,
      query: searchQuery,
      responses: {
        200: {
          type: 'object',
          properties: {
            results: { type: 'array', items: { $ref: '#/components/schemas/SearchResult' } },
            nextCursor: { type: 'string', description: 'absent on the last page' },
          },
        },
        404: 'Error',
        503: 'Error',
      },
      handler: async ({ principal, query }) => {
        const res = await d.downstream.message.searchMessages({
          caller: caller(principal),
          query: query.q,
          conversationId: query.conversationId ?? '',
          cursor: query.cursor ?? '',
          limit: query.limit ?? 0,
        });
        return { status: 200, body: { results: res.results, nextCursor: res.nextCursor || undefined } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/presence',
      summary: 'Presence of users of the caller’s tenant',
      tag: 'presence',
      auth: true,
      query: presenceQuery,
      responses: {
        200: {
          type: 'object',
          properties: { presence: { type: 'array', items: { $ref: '#/components/schemas/Presence' } } },
        },
      },
      handler: async ({ principal, query }) => ({
        status: 200,
        body: await d.downstream.presence.getPresence({ caller: caller(principal), userIds: query.userIds }),
      }),
    }),
  ];
}
