import ipaddr from 'ipaddr.js';

export type Platform = 'apns' | 'fcm' | 'webpush';
export const PLATFORMS: readonly Platform[] = ['apns', 'fcm', 'webpush'];

export interface WebPushKeys {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export type TargetInput =
  { platform: 'apns' | 'fcm'; token: string } | { platform: 'webpush'; subscription: WebPushKeys };

/** Why a target is refused, in words a client developer can act on. */
export class TargetRejected extends Error {}

const APNS_TOKEN = /^[0-9a-fA-F]{64,200}$/;
const FCM_TOKEN = /^[A-Za-z0-9_:\-.]{20,4096}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

const decodedLength = (b64url: string) =>
  BASE64URL.test(b64url) ? Buffer.from(b64url, 'base64url').length : -1;

/**
 * Checks the shape of a push target: token formats, and for Web Push an endpoint URL that is
 * https (http only to loopback, when allowed) with a P-256 public key and a 16-byte auth secret.
 * Where the endpoint's host resolves is checked separately (isPublicAddress), at registration and
 * again on every connection.
 */
export function checkTarget(
  platform: string,
  token: string,
  subscription: WebPushKeys | undefined,
  allowHttpLoopback: boolean,
): TargetInput {
  if (platform === 'apns' || platform === 'fcm') {
    if (subscription) throw new TargetRejected('subscription: only for platform webpush');
    const shape = platform === 'apns' ? APNS_TOKEN : FCM_TOKEN;
    if (!shape.test(token))
      throw new TargetRejected(
        `token: not a ${platform === 'apns' ? 'APNs device' : 'FCM registration'} token`,
      );
    return { platform, token: platform === 'apns' ? token.toLowerCase() : token };
  }
  if (platform !== 'webpush') throw new TargetRejected('platform: apns, fcm or webpush');
  if (token) throw new TargetRejected('token: not for webpush (send subscription)');
  if (!subscription) throw new TargetRejected('subscription: required for webpush');
  checkPublicUrl(subscription.endpoint, allowHttpLoopback, 'subscription.endpoint');
  if (decodedLength(subscription.p256dh) !== 65 || Buffer.from(subscription.p256dh, 'base64url')[0] !== 4)
    throw new TargetRejected('subscription.keys.p256dh: not an uncompressed P-256 public key');
  if (decodedLength(subscription.auth) !== 16)
    throw new TargetRejected('subscription.keys.auth: not a 16-byte secret');
  return { platform, subscription };
}

/**
 * A URL the platform will call (Web Push endpoints, webhooks): https, no credentials, not an
 * address inside the network; http only to loopback, when allowed (local development).
 */
export function checkPublicUrl(raw: string, allowHttpLoopback: boolean, field: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRejected(`${field}: not a URL`);
  }
  if (raw.length > 2048) throw new TargetRejected(`${field}: too long`);
  if (url.username || url.password) throw new TargetRejected(`${field}: no credentials in the URL`);
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol === 'http:') {
    if (!(allowHttpLoopback && loopback)) throw new TargetRejected(`${field}: must be https`);
  } else if (url.protocol !== 'https:') {
    throw new TargetRejected(`${field}: must be https`);
  }
  const literal = hostLiteral(url.hostname);
  if (literal && !isPublicAddress(literal) && !(allowHttpLoopback && loopback))
    throw new TargetRejected(`${field}: a private or reserved address`);
  return url;
}

/** The address in a URL hostname, when it is one ("[::1]" included). */
export function hostLiteral(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(bare) ? bare : undefined;
}

export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const literal = hostLiteral(hostname);
  return literal !== undefined && ipaddr.process(literal).range() === 'loopback';
}

/** Unicast on the public internet: not private, loopback, link-local, unique-local, reserved… */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** One key per push target, whoever registers it: the same phone or browser is one row. */
export function targetKey(t: TargetInput): string {
  return t.platform === 'webpush' ? `webpush:${t.subscription.endpoint}` : `${t.platform}:${t.token}`;
}
