import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Whom the per-address limits (logins, registrations, email invites) count against: an IPv4
 * address, or an IPv6 address's /64, the block one subscriber gets (counting single IPv6
 * addresses would give every client 2^64 fresh budgets). Unknown or unparsable: one shared key.
 */
export function clientKey(ip: string | undefined): string {
  if (!ip || isIP(ip) === 0) return 'unknown';
  const addr = ipaddr.process(ip); // IPv4-mapped IPv6 becomes the IPv4 address
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${ipaddr.IPv6.parse(`${parts.map((p) => p.toString(16)).join(':')}::`).toString()}/64`;
}
