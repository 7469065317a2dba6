import { LeanSocket } from '../lean-socket.js';
import { pool, registerUsers } from '../population.js';
import type { Lane, Participant } from '../traffic.js';

export interface Env {
  gatewayUrl: string;
  runId: string;
  log(msg: string): void;
}

const wsUrl = (gatewayUrl: string) => `${gatewayUrl.replace(/^http/, 'ws')}/v1/ws`;

/** `pairs` direct conversations, both sides connected, both sides sending. */
export async function directPairs(env: Env, pairs: number) {
  env.log(`registering ${pairs * 2} users`);
  const users = await registerUsers(env.gatewayUrl, pairs * 2, env.runId);
  const members = new Map<string, Participant[]>();
  const lanes: Lane[] = [];
  env.log(`creating ${pairs} direct conversations and connecting ${pairs * 2} sockets`);
  await pool(
    Array.from({ length: pairs }, (_, i) => i),
    16,
    async (i) => {
      const [a, b] = [users[2 * i]!, users[2 * i + 1]!];
      const conv = await a.createConversation('direct', [b.user.id]);
      const [sa, sb] = await Promise.all([
        LeanSocket.connect(wsUrl(env.gatewayUrl), a.session!.accessToken),
        LeanSocket.connect(wsUrl(env.gatewayUrl), b.session!.accessToken),
      ]);
      const pa = { userId: a.user.id, socket: sa };
      const pb = { userId: b.user.id, socket: sb };
      members.set(conv.id, [pa, pb]);
      lanes.push({ sender: pa, conversationId: conv.id }, { sender: pb, conversationId: conv.id });
    },
  );
  return { members, lanes, sockets: [...members.values()].flat().map((p) => p.socket) };
}

/** One group of `size` members, all connected; the first `senders` send. */
export async function group(env: Env, size: number, senders: number) {
  env.log(`registering ${size} users`);
  const users = await registerUsers(env.gatewayUrl, size, env.runId);
  const conv = await users[0]!.createConversation(
    'group',
    users.slice(1).map((u) => u.user.id),
    'load group',
  );
  env.log(`connecting ${size} members`);
  const participants = await pool(users, 32, async (u) => ({
    userId: u.user.id,
    socket: await LeanSocket.connect(wsUrl(env.gatewayUrl), u.session!.accessToken),
  }));
  const members = new Map([[conv.id, participants]]);
  const lanes = participants.slice(0, senders).map((p) => ({ sender: p, conversationId: conv.id }));
  return { members, lanes, sockets: participants.map((p) => p.socket) };
}

/**
 * One channel of `size` members (made with the largest batches the API takes) of whom the first
 * `connected` are online; the owner posts. Only the connected ones count as recipients.
 */
export async function channel(env: Env, size: number, connected: number) {
  env.log(`registering ${size} users`);
  const users = await registerUsers(env.gatewayUrl, size, env.runId);
  const [owner, ...rest] = users;
  const batch = (from: number) => rest.slice(from, from + 999).map((u) => u.user.id);
  const conv = await owner!.createConversation('channel', batch(0), 'load channel');
  for (let from = 999; from < rest.length; from += 999) await owner!.addMembers(conv.id, batch(from));
  env.log(`connecting ${connected} of the ${size} members`);
  const participants = await pool(users.slice(0, connected), 32, async (u) => ({
    userId: u.user.id,
    socket: await LeanSocket.connect(wsUrl(env.gatewayUrl), u.session!.accessToken),
  }));
  return {
    members: new Map([[conv.id, participants]]),
    lanes: [{ sender: participants[0]!, conversationId: conv.id }],
    sockets: participants.map((p) => p.socket),
  };
}

/** `sockets` authenticated sockets spread over `users` users (several devices each). */
export async function idleSockets(env: Env, sockets: number, users: number) {
  env.log(`registering ${users} users`);
  const clients = await registerUsers(env.gatewayUrl, users, env.runId);
  env.log(`opening ${sockets} sockets`);
  return pool(
    Array.from({ length: sockets }, (_, i) => i),
    64,
    (i) => LeanSocket.connect(wsUrl(env.gatewayUrl), clients[i % users]!.session!.accessToken),
  );
}
