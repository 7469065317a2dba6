/** `?a=1&b=x` from the defined entries (values URI-encoded); '' when none. */
export function qs(query: Record<string, string | number | undefined>): string {
  const entries = Object.entries(query).filter(([, v]) => v !== undefined);
  return entries.length
    ? `?${entries.map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')}`
    : '';
}
