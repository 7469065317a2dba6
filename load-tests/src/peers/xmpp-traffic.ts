import { client, xml } from '@xmpp/client';
import { LatencyHistogram, type Percentiles } from '../metrics.js';

export interface XmppTrafficOptions {
  /** xmpp://host:port of the server's c2s listener */
  service: string;
  domain: string;
  /** ejabberd's HTTP API, for registering the load users */
  apiUrl: string;
  runId: string;
  pairs: number;
  ratePerSec: number;
  durationSec: number;
  textBytes: number;
  graceMs?: number;
}

export interface XmppTrafficResult {
  targetRatePerSec: number;
  durationSec: number;
  sent: number;
  delivered: number;
  lost: number;
  sentPerSec: number;
  deliveredPerSec: number;
  /** send → <message> at the other user's connection */
  receiveLatencyMs: Percentiles;
}

type XmppClient = ReturnType<typeof client>;

/**
 * The same open-loop 1:1 traffic as runTraffic, over XMPP: `pairs` users send chat messages to
 * their partner, the send time in the body, at `ratePerSec` in total; latency is measured at the
 * receiving connection. XMPP has no server ack for a plain message, so only delivery is measured.
 */
export async function runXmppTraffic(o: XmppTrafficOptions): Promise<XmppTrafficResult> {
  const names = Array.from({ length: o.pairs * 2 }, (_, i) => `load-${o.runId}-${i}`);
  for (let i = 0; i < names.length; i += 20)
    await Promise.all(names.slice(i, i + 20).map((n) => register(o.apiUrl, n, o.domain)));

  const receive = new LatencyHistogram();
  let delivered = 0;
  const clients: XmppClient[] = [];
  for (let i = 0; i < names.length; i += 20) {
    clients.push(
      ...(await Promise.all(
        names.slice(i, i + 20).map(async (username) => {
          const c = client({ service: o.service, domain: o.domain, username, password: 'pw', resource: 'r' });
          c.on('error', () => undefined);
          c.on('stanza', (s) => {
            if (!s.is('message')) return;
            const t = Number(/^t=([\d.]+);/.exec(s.getChildText('body') ?? '')?.[1]);
            if (!Number.isFinite(t)) return;
            delivered++;
            receive.recordMs(performance.now() - t);
          });
          await c.start();
          await c.send(xml('presence'));
          return c;
        }),
      )),
    );
  }

  const pad = 'x'.repeat(Math.max(0, o.textBytes - 24));
  let sent = 0;
  const start = performance.now();
  const endAt = start + o.durationSec * 1000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, endAt) - start) * o.ratePerSec) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        const pair = sent % o.pairs;
        const to = `${names[2 * pair + 1]}@${o.domain}/r`;
        const body = `t=${performance.now().toFixed(3)};${pad}`;
        void clients[2 * pair]!.send(
          xml('message', { to, type: 'chat', id: `${o.runId}-${sent}` }, xml('body', {}, body)),
        );
        sent++;
      }
      if (now >= endAt) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const sendDuration = (performance.now() - start) / 1000;
  const graceUntil = performance.now() + (o.graceMs ?? 10_000);
  while (delivered < sent && performance.now() < graceUntil) await new Promise((r) => setTimeout(r, 20));
  await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
  return {
    targetRatePerSec: o.ratePerSec,
    durationSec: Math.round(sendDuration * 10) / 10,
    sent,
    delivered,
    lost: sent - delivered,
    sentPerSec: Math.round(sent / sendDuration),
    deliveredPerSec: Math.round(delivered / sendDuration),
    receiveLatencyMs: receive.summary(),
  };
}

async function register(apiUrl: string, user: string, host: string): Promise<void> {
  const res = await fetch(`${apiUrl}/register`, {
    method: 'POST',
    body: JSON.stringify({ user, host, password: 'pw' }),
  });
  if (!res.ok) throw new Error(`registering ${user}: ${res.status} ${await res.text()}`);
}
