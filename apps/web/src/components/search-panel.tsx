import type { SearchResult } from '@im/sdk';
import { useState } from 'preact/hooks';
import type { AppSession } from '../app.js';

/** Full-text search over the user's conversations; a hit opens its conversation. */
export function SearchPanel({
  session,
  onOpen,
}: {
  session: AppSession;
  onOpen(conversationId: string): void;
}) {
  const { client, directory } = session;
  const [q, setQ] = useState('');
  const [results, setResults] = useState<SearchResult[] | undefined>();
  const [error, setError] = useState('');

  async function search(e: Event) {
    e.preventDefault();
    if (!q.trim()) return setResults(undefined);
    setError('');
    try {
      setResults((await client.search({ q: q.trim(), limit: 20 })).results);
    } catch (err) {
      setError(String(err));
    }
  }

  return (
    <div class="search" data-testid="search">
      <form onSubmit={search}>
        <input
          name="q"
          type="search"
          placeholder="Search messages"
          value={q}
          onInput={(e) => {
            setQ(e.currentTarget.value);
            if (!e.currentTarget.value) setResults(undefined);
          }}
        />
      </form>
      {error && <p class="error">{error}</p>}
      {results && (
        <ul class="results">
          {results.length === 0 && <li class="empty">Nothing found.</li>}
          {results.map((r) => (
            <li key={r.message!.id}>
              <button
                type="button"
                data-testid="search-result"
                onClick={() => onOpen(r.message!.conversationId)}
              >
                <strong>{directory.name(r.message!.senderId)}</strong>{' '}
                <Highlight fragment={r.highlights[0]} fallback={r.message!.text} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The server's fragment is HTML-escaped text with <em> around the matches; it is rendered as text
 * and <em> elements, never as HTML (no markup the server did not mean can get in).
 */
function Highlight({ fragment, fallback }: { fragment: string | undefined; fallback: string }) {
  if (!fragment) return <span>{fallback}</span>;
  let emphasised = false;
  const nodes = fragment.split(/(<em>|<\/em>)/).map((part, i) => {
    if (part === '<em>' || part === '</em>') {
      emphasised = part === '<em>';
      return null;
    }
    const text = unescapeHtml(part);
    return emphasised ? <em key={i}>{text}</em> : text;
  });
  return <span>{nodes}</span>;
}

function unescapeHtml(text: string): string {
  return text.replace(/&(#x?[0-9a-f]+|amp|lt|gt|quot|apos);/gi, (entity, code: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (named[code.toLowerCase()]) return named[code.toLowerCase()]!;
    const n = code[1]?.toLowerCase() === 'x' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
    return Number.isFinite(n) ? String.fromCodePoint(n) : entity;
  });
}
