import { lookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from '../domain/push-targets.js';

/**
 * dns.lookup for outgoing pushes that refuses names resolving to private, loopback or reserved
 * addresses (SSRF, DNS rebinding included: it runs on every connection). Loopback passes only
 * when allowed, for local development.
 */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find(
        (a) => !isPublicAddress(a.address) && !(allowLoopback && isLoopback(a.address)),
      );
      if (refused) {
        const e = Object.assign(new Error(`${hostname} resolves to a non-public address`), {
          code: 'EPUSHBLOCKED',
        });
        return callback(e, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

const isLoopback = (address: string) => address === '::1' || address.startsWith('127.');
