import type { Message } from '@im/sdk';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { AppSession } from '../app.js';

export type ComposerMode =
  { kind: 'new' } | { kind: 'reply'; to: Message } | { kind: 'edit'; message: Message };

/** Writes, replies, edits and attaches files; sends go through the SDK's outbox. */
export function Composer({
  session,
  conversationId,
  mode,
  onDone,
  disabled,
}: {
  session: AppSession;
  conversationId: string;
  mode: ComposerMode;
  onDone(): void;
  disabled: boolean;
}) {
  const { chat, client, directory } = session;
  const [text, setText] = useState('');
  const [uploading, setUploading] = useState('');
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const file = useRef<HTMLInputElement>(null);

  // a layout effect: it runs before the browser takes the next input, so what the user types
  // right after choosing reply or edit is never overwritten by the reset
  useLayoutEffect(() => {
    setText(mode.kind === 'edit' ? mode.message.text : '');
    input.current?.focus();
  }, [mode]);

  async function submit(e: Event) {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setError('');
    try {
      if (mode.kind === 'edit') await chat.edit(conversationId, mode.message.seq, body);
      else await chat.send(conversationId, body, mode.kind === 'reply' ? { replyTo: mode.to.seq } : {});
      setText('');
      onDone();
    } catch (err) {
      setError(String(err));
    }
  }

  async function attach(picked: File | undefined) {
    if (!picked) return;
    setError('');
    setUploading(picked.name);
    try {
      const bytes = new Uint8Array(await picked.arrayBuffer());
      const media = await client.upload(bytes, {
        filename: picked.name,
        contentType: picked.type || 'application/octet-stream',
      });
      // a message may carry only ready media (images: once their thumbnails are made)
      await client.waitUntilReady(media.id);
      await chat.send(conversationId, text.trim(), { attachments: [{ mediaId: media.id }] });
      setText('');
    } catch (err) {
      setError(`Upload failed: ${String(err)}`);
    } finally {
      setUploading('');
      if (file.current) file.current.value = '';
    }
  }

  return (
    <div class="composer-box">
      {mode.kind !== 'new' && (
        <p class="composer-mode" data-testid="composer-mode">
          {mode.kind === 'reply'
            ? `Replying to ${directory.name(mode.to.senderId)}: ${mode.to.text.slice(0, 60)}`
            : 'Editing your message'}
          <button type="button" class="link" onClick={onDone}>
            cancel
          </button>
        </p>
      )}
      {uploading && <p class="composer-mode">Uploading {uploading}…</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form class="composer" onSubmit={submit}>
        <label class="attach" title="Attach a file">
          📎
          <input
            ref={file}
            type="file"
            name="file"
            disabled={disabled || mode.kind === 'edit'}
            onChange={(e) => void attach(e.currentTarget.files?.[0])}
          />
        </label>
        <input
          ref={input}
          name="message"
          placeholder="Write a message"
          autoComplete="off"
          value={text}
          disabled={disabled}
          onInput={(e) => {
            setText(e.currentTarget.value);
            chat.typing(conversationId);
          }}
        />
        <button type="submit" disabled={!text.trim()}>
          {mode.kind === 'edit' ? 'Save' : 'Send'}
        </button>
      </form>
    </div>
  );
}
