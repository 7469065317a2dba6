import type {
  Conversation,
  Device,
  Invitation,
  Media,
  Message,
  PinnedMessage,
  Presence,
  SearchResult,
  User,
} from '@im/proto/client/v1';
import { ApiError, type MfaChallenge } from './errors.js';
import { qs } from './query-string.js';
import { ImSocket, type SocketOptions } from './socket.js';
import { resumeUpload, uploadMedia, waitUntilReady, type UploadOptions } from './uploads.js';

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  /** A login's: kept (deviceToken) and presented at the next login. */
  deviceToken?: string;
}

/** The REST API of the gateway, plus sockets for the same user. */
export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}

/** GET /v1/conversations/{id}/notification-settings. */
export interface ConversationPushSettings {
  level: 'all' | 'mentions' | 'none';
  mutedUntil?: string;
}

/** GET /v1/me/notification-settings. */
export interface UserSettings {
  readReceipts: boolean;
  previews: 'full' | 'sender' | 'none';
  quietHours?: QuietHours;
  keywords: string[];
}

/**
 * A refresh token is single-use, and presenting a spent one revokes the session. Where one session
 * is shared (browser tabs, CLI runs), refreshes must take turns and adopt each other's result.
 */
export interface RefreshCoordinator {
  /** Runs fn while no other holder of the session is refreshing (e.g. navigator.locks). */
  lock<T>(fn: () => Promise<T>): Promise<T>;
  /** The session as last stored by any holder. */
  latest(): Session | undefined | Promise<Session | undefined>;
}

/** Refresh this long before the access token expires (at most half its lifetime ahead). */
const REFRESH_AHEAD_MS = 60_000;

export class ImClient {
  /** Told of every new session (login, refresh) and of its end: persist it to stay logged in. */
  onSession: ((session: Session | undefined) => void) | undefined;
  /**
   * This device's token from its last login, sent with the next one: a known device is not held
   * back when strangers' failed guesses lock the account. Outlives logout; persist it with
   * onDeviceToken.
   */
  deviceToken: string | undefined;
  onDeviceToken: ((token: string) => void) | undefined;
  /** Set where several tabs or processes share this session (see RefreshCoordinator). */
  refreshCoordinator: RefreshCoordinator | undefined;
  private current: Session | undefined;
  private expiresAt = 0;
  private refreshing: Promise<Session> | undefined;

  constructor(
    readonly baseUrl: string,
    readonly tenant?: string,
  ) {}

  get session(): Session | undefined {
    return this.current;
  }

  /** Sets the session (a stored one, or another client's); its token counts as fresh for expiresIn. */
  set session(session: Session | undefined) {
    this.current = session;
    this.expiresAt = session ? Date.now() + session.expiresIn * 1000 : 0;
  }

  /** A valid access token: refreshed first when it expires within a minute (one refresh at a time). */
  async accessToken(): Promise<string> {
    if (!this.current) throw new ApiError('unauthenticated', 'not logged in', 401);
    const ahead = Math.min(REFRESH_AHEAD_MS, (this.current.expiresIn * 1000) / 2);
    if (Date.now() >= this.expiresAt - ahead) await this.refresh();
    return this.current.accessToken;
  }

  get user(): User {
    if (!this.session) throw new Error('not logged in');
    return this.session.user;
  }

  get wsUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/v1/ws`;
  }

  /**
   * `invite`: needed for a tenant that takes new users by invite only. In a tenant that requires
   * MFA the account is made but throws `mfa_required` (enrolled: false): enrol, then completeMfa.
   */
  async register(
    username: string,
    password: string,
    displayName?: string,
    invite?: string,
  ): Promise<Session> {
    return this.startSession(
      await this.call<Session>(
        'POST',
        '/v1/auth/register',
        { tenant: this.tenant, username, password, displayName, invite },
        false,
      ),
    );
  }

  /**
   * Mails a single-use invite to `email` when the tenant takes people from its domain
   * (`email_domain_not_allowed` otherwise); register with the invite from the mail.
   */
  requestEmailInvite(email: string): Promise<{ expiresAt: string }> {
    return this.call('POST', '/v1/auth/email-invites', { tenant: this.tenant, email }, false);
  }

  /** Throws ApiError `mfa_required` with `.mfa` when a second factor is needed: then completeMfa. */
  async login(username: string, password: string): Promise<Session> {
    return this.startSession(
      await this.call<Session>(
        'POST',
        '/v1/auth/login',
        { tenant: this.tenant, username, password, deviceToken: this.deviceToken },
        false,
      ),
    );
  }

  /**
   * The second step of a login: an authenticator code or a recovery code. When the challenge was
   * an enrolment (beginMfaEnrolment with its token), the answer carries the recovery codes.
   */
  async completeMfa(mfaToken: string, code: string): Promise<Session & { recoveryCodes?: string[] }> {
    const res = await this.call<Session & { recoveryCodes?: string[] }>(
      'POST',
      '/v1/auth/mfa',
      { mfaToken, code },
      false,
    );
    this.startSession(res);
    return res;
  }

  /**
   * A new TOTP secret to put into an authenticator app: during a login (the challenge's mfaToken),
   * or logged in (the user's password again).
   */
  beginMfaEnrolment(
    proof: { mfaToken: string } | { password: string },
  ): Promise<{ secret: string; uri: string }> {
    return 'mfaToken' in proof
      ? this.call('POST', '/v1/auth/mfa/totp', { mfaToken: proof.mfaToken }, false)
      : this.call('POST', '/v1/users/me/mfa/totp', { password: proof.password });
  }

  /** Turns the second factor on with a first code; the recovery codes are shown once. */
  confirmMfaEnrolment(code: string): Promise<{ recoveryCodes: string[] }> {
    return this.call('POST', '/v1/users/me/mfa/totp/confirm', { code });
  }

  mfaStatus(): Promise<{ totp: 'off' | 'pending' | 'on'; recoveryCodesLeft: number; required: boolean }> {
    return this.call('GET', '/v1/users/me/mfa');
  }

  regenerateRecoveryCodes(code: string): Promise<{ recoveryCodes: string[] }> {
    return this.call('POST', '/v1/users/me/mfa/recovery-codes', { code });
  }

  disableMfa(code: string): Promise<void> {
    return this.call('POST', '/v1/users/me/mfa/disable', { code });
  }

  /** Renews the tokens; concurrent callers share one request (a refresh token is single-use). */
  refresh(): Promise<Session> {
    const coordinator = this.refreshCoordinator;
    this.refreshing ??= (
      coordinator ? coordinator.lock(() => this.refreshUnlessDone(coordinator)) : this.refreshNow()
    ).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Under the lock: another holder of the session (a tab, a process) may have refreshed it already. */
  private async refreshUnlessDone(coordinator: RefreshCoordinator): Promise<Session> {
    const latest = await coordinator.latest();
    if (latest && this.current && latest.refreshToken !== this.current.refreshToken) {
      this.session = latest;
      return latest;
    }
    return this.refreshNow();
  }

  private async refreshNow(): Promise<Session> {
    const refreshToken = this.current?.refreshToken;
    return this.startSession(await this.call<Session>('POST', '/v1/auth/refresh', { refreshToken }, false));
  }

  /** Ends the session on the server; the local session is forgotten even when that call fails. */
  async logout(): Promise<void> {
    try {
      await this.call('POST', '/v1/auth/logout');
    } finally {
      this.session = undefined;
      this.onSession?.(undefined);
    }
  }

  private startSession(session: Session): Session {
    if (session.deviceToken) {
      this.deviceToken = session.deviceToken;
      this.onDeviceToken?.(session.deviceToken);
    }
    this.session = session;
    this.onSession?.(session);
    return session;
  }

  me(): Promise<{ user: User }> {
    return this.call('GET', '/v1/users/me');
  }

  /** Users of the caller's tenant by id (at most 200); unknown ids are left out. */
  async users(ids: string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return (await this.call<{ users: User[] }>('GET', `/v1/users${qs({ ids: ids.join(',') })}`)).users;
  }

  /** The user with this exact username in the caller's tenant (ApiError not_found otherwise). */
  async userByUsername(username: string): Promise<User> {
    return (await this.call<{ user: User }>('GET', `/v1/users/by-username/${encodeURIComponent(username)}`))
      .user;
  }

  async createConversation(
    type: 'direct' | 'group' | 'channel',
    memberIds: string[],
    title?: string,
  ): Promise<Conversation> {
    return (
      await this.call<{ conversation: Conversation }>('POST', '/v1/conversations', { type, memberIds, title })
    ).conversation;
  }

  listConversations(
    query: { cursor?: string; limit?: number } = {},
  ): Promise<{ conversations: Conversation[]; nextCursor?: string }> {
    return this.call('GET', `/v1/conversations${qs(query)}`);
  }

  async getConversation(id: string): Promise<Conversation> {
    return (await this.call<{ conversation: Conversation }>('GET', `/v1/conversations/${id}`)).conversation;
  }

  async updateConversation(
    id: string,
    settings: { title?: string; topic?: string; archived?: boolean; announcement?: boolean },
  ): Promise<Conversation> {
    return (await this.call<{ conversation: Conversation }>('PATCH', `/v1/conversations/${id}`, settings))
      .conversation;
  }

  async addMembers(id: string, userIds: string[], role?: 'member' | 'admin'): Promise<Conversation> {
    return (
      await this.call<{ conversation: Conversation }>('POST', `/v1/conversations/${id}/members`, {
        userIds,
        role,
      })
    ).conversation;
  }

  /** A member's role (the owner decides) or mute (admins and the owner). */
  async updateMember(
    id: string,
    userId: string,
    change: { role?: 'member' | 'admin'; muted?: boolean },
  ): Promise<Conversation> {
    return (
      await this.call<{ conversation: Conversation }>(
        'PATCH',
        `/v1/conversations/${id}/members/${userId}`,
        change,
      )
    ).conversation;
  }

  /** Joins a channel of the caller's tenant. */
  async join(id: string): Promise<Conversation> {
    return (await this.call<{ conversation: Conversation }>('POST', `/v1/conversations/${id}/join`))
      .conversation;
  }

  /** Leaves; an owner hands over to `handOverTo` (default: the longest-standing admin, else member). */
  async leave(id: string, handOverTo?: string): Promise<void> {
    await this.call('POST', `/v1/conversations/${id}/leave`, handOverTo ? { handOverTo } : {});
  }

  /** Open invitations into groups and channels (tenants where being added needs consent). */
  async invitations(): Promise<Invitation[]> {
    return (await this.call<{ invitations: Invitation[] }>('GET', '/v1/invitations')).invitations;
  }

  async acceptInvitation(conversationId: string): Promise<Conversation> {
    return (
      await this.call<{ conversation: Conversation }>('POST', `/v1/invitations/${conversationId}/accept`)
    ).conversation;
  }

  declineInvitation(conversationId: string): Promise<void> {
    return this.call('DELETE', `/v1/invitations/${conversationId}`);
  }

  async removeMember(id: string, userId: string): Promise<Conversation> {
    return (
      await this.call<{ conversation: Conversation }>('DELETE', `/v1/conversations/${id}/members/${userId}`)
    ).conversation;
  }

  /** `replyTo`: the seq of the message replied to; `mentions`: member ids or "all". */
  async sendMessage(
    id: string,
    clientMsgId: string,
    text: string,
    extra: { replyTo?: number; mentions?: string[]; attachments?: Array<{ mediaId: string }> } = {},
  ): Promise<Message> {
    return (
      await this.call<{ message: Message }>('POST', `/v1/conversations/${id}/messages`, {
        clientMsgId,
        text,
        ...extra,
      })
    ).message;
  }

  /** A thread: the replies of the message at `seq`, oldest first. */
  replies(
    id: string,
    seq: number,
    query: { afterSeq?: number; limit?: number } = {},
  ): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.call('GET', `/v1/conversations/${id}/messages/${seq}/replies${qs(query)}`);
  }

  async editMessage(id: string, seq: number, text: string): Promise<Message> {
    return (
      await this.call<{ message: Message }>('PATCH', `/v1/conversations/${id}/messages/${seq}`, { text })
    ).message;
  }

  async deleteMessage(id: string, seq: number): Promise<Message> {
    return (await this.call<{ message: Message }>('DELETE', `/v1/conversations/${id}/messages/${seq}`))
      .message;
  }

  /** Adds (or, with add = false, removes) the caller's reaction; idempotent. */
  async react(id: string, seq: number, emoji: string, add = true): Promise<Message> {
    const path = `/v1/conversations/${id}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`;
    return (await this.call<{ message: Message }>(add ? 'PUT' : 'DELETE', path)).message;
  }

  /** Pins (or, with pin = false, unpins) a message; idempotent. */
  async pin(id: string, seq: number, pin = true): Promise<Message> {
    return (
      await this.call<{ message: Message }>(pin ? 'PUT' : 'DELETE', `/v1/conversations/${id}/pins/${seq}`)
    ).message;
  }

  async pins(id: string): Promise<PinnedMessage[]> {
    return (await this.call<{ pins: PinnedMessage[] }>('GET', `/v1/conversations/${id}/pins`)).pins;
  }

  async receipts(id: string): Promise<Array<{ userId: string; readSeq: number }>> {
    return (
      await this.call<{ receipts: Array<{ userId: string; readSeq: number }> }>(
        'GET',
        `/v1/conversations/${id}/receipts`,
      )
    ).receipts;
  }

  settings(): Promise<UserSettings> {
    return this.call('GET', '/v1/me/notification-settings');
  }

  /** Fields left out stay as they are; `quietHours: null` removes them. */
  updateSettings(
    settings: Partial<Omit<UserSettings, 'quietHours'>> & { quietHours?: QuietHours | null },
  ): Promise<UserSettings> {
    return this.call('PUT', '/v1/me/notification-settings', settings);
  }

  listMessages(
    id: string,
    query: { beforeSeq?: number; afterSeq?: number; limit?: number } = {},
  ): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.call('GET', `/v1/conversations/${id}/messages${qs(query)}`);
  }

  /** Every message of a conversation, oldest first, paging through history. */
  async allMessages(id: string): Promise<Message[]> {
    const out: Message[] = [];
    let afterSeq = 0;
    for (;;) {
      const page = await this.listMessages(id, { afterSeq, limit: 200 });
      out.push(...page.messages);
      if (!page.hasMore || page.messages.length === 0) return out;
      afterSeq = page.messages[page.messages.length - 1]!.seq;
    }
  }

  markRead(id: string, seq: number): Promise<{ readSeq: number; unreadCount: number }> {
    return this.call('POST', `/v1/conversations/${id}/read`, { seq });
  }

  /** Full-text search over the caller's conversations (never deleted text), newest first, paged. */
  search(query: {
    q: string;
    conversationId?: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ results: SearchResult[]; nextCursor?: string }> {
    return this.call('GET', `/v1/search/messages${qs(query)}`);
  }

  /** Registers this device for pushes (201 new, 200 already known: the same id). */
  registerDevice(
    device:
      | { platform: 'apns' | 'fcm'; token: string }
      | { platform: 'webpush'; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } },
  ): Promise<Device> {
    return this.call('POST', '/v1/devices', device);
  }

  async devices(): Promise<Device[]> {
    return (await this.call<{ devices: Device[] }>('GET', '/v1/devices')).devices;
  }

  removeDevice(id: string): Promise<void> {
    return this.call('DELETE', `/v1/devices/${id}`);
  }

  /** The VAPID public key for PushManager.subscribe({ applicationServerKey }). */
  async webPushKey(): Promise<string> {
    return (await this.call<{ publicKey: string }>('GET', '/v1/devices/webpush-key')).publicKey;
  }

  conversationSettings(id: string): Promise<ConversationPushSettings> {
    return this.call('GET', `/v1/conversations/${id}/notification-settings`);
  }

  /** `level: "default"` goes back to the default; `mutedUntil: null` unmutes. */
  updateConversationSettings(
    id: string,
    settings: { level?: ConversationPushSettings['level'] | 'default'; mutedUntil?: string | null },
  ): Promise<ConversationPushSettings> {
    return this.call('PUT', `/v1/conversations/${id}/notification-settings`, settings);
  }

  presence(userIds: string[]): Promise<{ presence: Presence[] }> {
    return this.call('GET', `/v1/presence?userIds=${userIds.join(',')}`);
  }

  connect(options: SocketOptions = {}): Promise<ImSocket> {
    if (!this.session) throw new Error('not logged in');
    return ImSocket.connect(this.wsUrl, this.session.accessToken, options);
  }

  /** Uploads a file straight to storage (signed URLs) and completes it; attach it by its id. */
  upload(bytes: Uint8Array, options: UploadOptions): Promise<Media> {
    return uploadMedia(this, bytes, options);
  }

  /** Finishes an interrupted multipart upload: sends the parts the store lacks, then completes. */
  resumeUpload(mediaId: string, bytes: Uint8Array): Promise<Media> {
    return resumeUpload(this, mediaId, bytes);
  }

  /** The media with fresh URLs once it is ready (images: thumbnails made). */
  waitUntilReady(mediaId: string, timeoutMs?: number): Promise<Media> {
    return waitUntilReady(this, mediaId, timeoutMs);
  }

  async media(mediaId: string): Promise<Media> {
    return (await this.call<{ media: Media }>('GET', `/v1/media/${mediaId}`)).media;
  }

  /** A REST call; rejects with ApiError carrying the HTTP status and the stable code. */
  async call<T = unknown>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    try {
      return await this.callOnce<T>(method, path, body, auth);
    } catch (err) {
      // expired in flight (or the clock is off): refresh once and try again
      if (!(auth && err instanceof ApiError && err.code === 'token_expired' && this.current)) throw err;
      await this.refresh();
      return this.callOnce<T>(method, path, body, auth);
    }
  }

  private async callOnce<T>(method: string, path: string, body: unknown, auth: boolean): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth && this.current) headers.authorization = `Bearer ${await this.accessToken()}`;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => ({}))) as {
      error?: { code: string; message: string; retryAfterMs?: number; mfa?: MfaChallenge };
    };
    if (!res.ok) {
      throw new ApiError(
        json.error?.code ?? 'http_error',
        json.error?.message ?? res.statusText,
        res.status,
        json.error?.retryAfterMs,
        json.error?.mfa,
      );
    }
    return json as T;
  }
}
