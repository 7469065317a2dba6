#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { Message } from '@im/proto/client/v1';
import { ImChat } from '../chat.js';
import { ImClient } from '../client.js';
import { ApiError } from '../errors.js';
import { headerSocketFactory } from '../socket.js';
import {
  clearProfile,
  loadDeviceToken,
  loadProfile,
  readPassword,
  saveDeviceToken,
  saveProfile,
  type Profile,
} from './profile.js';

const USAGE = `im: the IM platform from a terminal (for operators, bot authors and scripts)

  im login <username> [--url http://127.0.0.1:8080] [--tenant name] [--code 123456]
                                           password: IM_PASSWORD or stdin; --code (or IM_MFA_CODE):
                                           the authenticator or a recovery code, if MFA is on
  im logout
  im whoami
  im conversations
  im send <conversationId> <text> [--client-msg-id id]
  im history <conversationId> [--limit 50]
  im tail <conversationId>                 prints new messages as they come; reconnects by itself
  im upload <conversationId> <file> [--text caption] [--type image/png]

  --json    one JSON object per line (scriptable)
  Session: $IM_CONFIG_DIR/session.json (default ~/.config/im), mode 600; this device's login
  token (kept across logouts, so strangers' failed guesses cannot lock you out): devices.json.
  Exit codes: 0 ok, 1 refused or failed (the API's error code is printed), 2 usage.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      tenant: { type: 'string' },
      limit: { type: 'string' },
      text: { type: 'string' },
      type: { type: 'string' },
      'client-msg-id': { type: 'string' },
      code: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const out = new Output(values.json);
  const need = (n: number, what: string) => {
    if (args.length < n) throw new UsageError(`usage: im ${command} ${what}`);
  };

  switch (command) {
    case 'login': {
      need(1, '<username> [--url …] [--tenant …]');
      const url = values.url ?? process.env.IM_URL ?? 'http://127.0.0.1:8080';
      const client = new ImClient(url.replace(/\/+$/, ''), values.tenant);
      client.deviceToken = await loadDeviceToken(client.baseUrl, values.tenant, args[0]!);
      const session = await client.login(args[0]!, await readPassword()).catch(async (err: unknown) => {
        const code = values.code ?? process.env.IM_MFA_CODE;
        if (!(err instanceof ApiError && err.code === 'mfa_required' && err.mfa?.enrolled && code)) throw err;
        return client.completeMfa(err.mfa.mfaToken, code);
      });
      await saveProfile({ url: client.baseUrl, tenant: values.tenant, session });
      // the next login presents it, after a logout too
      if (client.deviceToken)
        await saveDeviceToken(client.baseUrl, values.tenant, args[0]!, client.deviceToken);
      return out.line({ user: session.user }, `logged in as ${session.user.username} (${session.user.id})`);
    }
    case 'logout': {
      const client = await loggedIn();
      await client.logout().catch(() => undefined);
      await clearProfile();
      return out.line({ ok: true }, 'logged out');
    }
    case 'whoami': {
      const { user } = await (await loggedIn()).me();
      return out.line({ user }, `${user.username} (${user.id}) in tenant ${user.tenantId}`);
    }
    case 'conversations': {
      const client = await loggedIn();
      let cursor: string | undefined;
      do {
        const page = await client.listConversations({ cursor, limit: 100 });
        for (const c of page.conversations)
          out.line(
            c,
            `${c.id}  ${c.type.padEnd(7)} ${String(c.unreadCount).padStart(4)} unread  ${c.title || '(direct)'}`,
          );
        cursor = page.nextCursor;
      } while (cursor);
      return;
    }
    case 'send': {
      need(2, '<conversationId> <text>');
      const client = await loggedIn();
      const clientMsgId = values['client-msg-id'] ?? globalThis.crypto.randomUUID();
      const message = await client.sendMessage(args[0]!, clientMsgId, args.slice(1).join(' '));
      return out.line(message, `sent #${message.seq}`);
    }
    case 'history': {
      need(1, '<conversationId> [--limit N]');
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200)
        throw new UsageError('--limit must be a whole number from 1 to 200');
      const client = await loggedIn();
      const conversation = await client.getConversation(args[0]!);
      const page = await client.listMessages(args[0]!, { beforeSeq: conversation.lastSeq + 1, limit });
      // the page comes newest first; a terminal reads oldest first
      for (const m of [...page.messages].sort((a, b) => a.seq - b.seq)) out.message(m);
      return;
    }
    case 'tail':
      need(1, '<conversationId>');
      return tail(await loggedIn(), args[0]!, out);
    case 'upload': {
      need(2, '<conversationId> <file> [--text caption]');
      const client = await loggedIn();
      const bytes = new Uint8Array(await readFile(args[1]!));
      const media = await client.upload(bytes, {
        filename: basename(args[1]!),
        contentType: values.type ?? contentTypeOf(args[1]!),
      });
      await client.waitUntilReady(media.id); // only ready media can be attached
      const message = await client.sendMessage(args[0]!, globalThis.crypto.randomUUID(), values.text ?? '', {
        attachments: [{ mediaId: media.id }],
      });
      return out.line({ media, message }, `uploaded ${media.id} (${media.size} bytes), sent #${message.seq}`);
    }
    default:
      throw new UsageError(`unknown command "${command}" (im --help lists them)`);
  }
}

/** Follows a conversation until interrupted; the connection reconnects and heals gaps by itself. */
async function tail(client: ImClient, conversationId: string, out: Output): Promise<void> {
  // not_found now rather than silence forever; and what is there already is history, not news
  const { lastSeq } = await client.getConversation(conversationId);
  const chat = new ImChat(client, { socketFactory: headerSocketFactory });
  chat.on('message', (m) => {
    if (m.conversationId === conversationId && m.seq > lastSeq) out.message(m);
  });
  chat.on('state', (state) => out.status(state));
  const stopped = new Promise<ApiError | undefined>((resolve) => chat.on('stopped', resolve));
  await chat.start();
  const stop = () => chat.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const error = await stopped;
  if (error) throw error;
}

/** The declared type; the media service checks it against the bytes. */
const TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  mp4: 'video/mp4',
};

function contentTypeOf(path: string): string {
  return TYPES[path.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}

async function loggedIn(): Promise<ImClient> {
  const profile = await loadProfile();
  if (!profile) throw new ApiError('unauthenticated', 'not logged in: run `im login <username>` first', 401);
  const client = new ImClient(profile.url, profile.tenant);
  client.session = profile.session;
  client.onSession = (session) => {
    if (session) saveProfile({ ...profile, session } satisfies Profile).catch(() => undefined);
  };
  // another `im` may have refreshed the shared session meanwhile: use its tokens, not the spent ones
  client.refreshCoordinator = { lock: (fn) => fn(), latest: async () => (await loadProfile())?.session };
  return client;
}

/** Human lines, or one JSON object per line with --json. */
class Output {
  constructor(private readonly json: boolean) {}
  line(value: unknown, human: string): void {
    console.log(this.json ? JSON.stringify(value) : human);
  }
  message(m: Message): void {
    const files = m.attachments?.length ? ` [${m.attachments.length} file(s)]` : '';
    this.line(m, `#${m.seq} ${m.createdAt ?? ''} ${m.senderId}: ${m.deleted ? '(deleted)' : m.text}${files}`);
  }
  /** Connection changes go to stderr, so stdout stays the messages. */
  status(state: string): void {
    console.error(this.json ? JSON.stringify({ connection: state }) : `[${state}]`);
  }
}

main(process.argv.slice(2)).then(
  () => undefined,
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`im: ${(err as Error).message}`);
      process.exitCode = 2;
    } else if (err instanceof ApiError) {
      console.error(`im: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(`im: ${(err as Error).message ?? String(err)}`);
      process.exitCode = 1;
    }
  },
);
