import { AppError } from '@im/platform/errors';

/** At most this many domains per tenant. */
export const EMAIL_DOMAINS_MAX = 50;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
// letters, digits and . _ - + only: what real addresses use; "%", "!" and "/" route mail on old
// relays, the rest only makes addresses hard to compare
const LOCAL_PART = /^[a-z0-9._+-]{1,64}$/;

/** A DNS name of two or more labels, lower-cased; undefined when it is not one. */
export function normalizeDomain(raw: string): string | undefined {
  const domain = raw.trim().toLowerCase().replace(/\.$/, '');
  if (domain.length > 253) return undefined;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1)!)
    ? domain
    : undefined;
}

/**
 * An address as stored and compared: lower-cased whole (mail systems treat the local part
 * case-insensitively in practice, and one person must not hold two accounts by changing case).
 */
export function normalizeEmail(raw: string): { address: string; domain: string } {
  const address = raw.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = at > 0 ? normalizeDomain(address.slice(at + 1)) : undefined;
  if (
    address.length > 254 ||
    !domain ||
    !LOCAL_PART.test(local) ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..')
  )
    throw new AppError('invalid_argument', 'email: not an email address (name@domain.example)');
  return { address: `${local}@${domain}`, domain };
}

/** The tenant's domain list as stored: each a valid DNS name, lower-cased, once, sorted. */
export function normalizeEmailDomains(raw: readonly string[]): string[] {
  if (raw.length > EMAIL_DOMAINS_MAX)
    throw new AppError('invalid_argument', `emailDomains: at most ${EMAIL_DOMAINS_MAX}`);
  const domains = raw.map((d) => {
    const domain = normalizeDomain(d);
    if (!domain) throw new AppError('invalid_argument', `emailDomains: "${d.slice(0, 64)}" is not a domain`);
    return domain;
  });
  return [...new Set(domains)].sort();
}
