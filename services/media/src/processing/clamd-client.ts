import { connect } from 'node:net';
import type { Readable } from 'node:stream';

export type ClamdVerdict = { infected: false } | { infected: true; signature: string };

/** clamd answered but could not scan this file (too large for its StreamMaxLength, an error). */
export class ClamdRefusedError extends Error {
  constructor(readonly reply: string) {
    super(`clamd could not scan the file: ${reply}`);
    this.name = 'ClamdRefusedError';
  }
}

/**
 * clamd hung up in the middle of the stream without an answer that could be read: how a size
 * refusal usually arrives (the reset beats the answer), but also what a clamd restart looks like.
 */
export class ClamdHungUpError extends Error {
  constructor() {
    super(
      'clamd closed the connection in the middle of the stream (over its StreamMaxLength, or restarting)',
    );
    this.name = 'ClamdHungUpError';
  }
}

const CHUNK = 64 * 1024;

/**
 * Streams one file to clamd with INSTREAM (length-prefixed chunks, then a zero length) and reads
 * its one-line verdict. Honours the socket's backpressure, so memory stays at a chunk or two
 * whatever the file's size; the deadline covers the whole scan. Connection errors and the
 * deadline throw (try again later); an answer without a verdict throws ClamdRefusedError, a
 * hang-up mid-stream ClamdHungUpError. The
 * body is destroyed in every case. (Our own client: the `clamscan` package buffers the whole
 * file, and its timeout does not bound a scan.)
 */
export function clamdScan(
  address: { host: string; port: number },
  body: Readable,
  timeoutMs: number,
): Promise<ClamdVerdict> {
  return new Promise<ClamdVerdict>((resolve, reject) => {
    const socket = connect(address.port, address.host);
    let reply = '';
    let settled = false;
    const finish = (err: Error | undefined, verdict?: ClamdVerdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      body.destroy();
      if (err) reject(err);
      else resolve(verdict!);
    };
    const deadline = setTimeout(
      () => finish(new Error(`clamd gave no verdict within ${timeoutMs} ms`)),
      timeoutMs,
    );
    // clamd may answer and hang up before it has read everything (a size limit): its answer counts
    const answered = () => reply.replace(/\0[^]*$/, '');
    // hung up on mid-stream (see ClamdHungUpError); a clamd that is down never accepts the connection
    let streaming = false;
    const hungUp = () => new ClamdHungUpError();
    body.once('error', (err) => finish(err));
    socket.on('error', (err) =>
      reply ? finish(...parseReply(answered())) : finish(streaming ? hungUp() : err),
    );
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      const end = reply.indexOf('\0');
      if (end >= 0) finish(...parseReply(reply.slice(0, end)));
    });
    socket.on('close', () =>
      reply
        ? finish(...parseReply(answered()))
        : finish(streaming ? hungUp() : new Error('clamd closed the connection')),
    );
    socket.on('connect', () => {
      void (async () => {
        const write = (b: Buffer) =>
          socket.write(b) ? Promise.resolve() : new Promise<void>((r) => socket.once('drain', r));
        await write(Buffer.from('zINSTREAM\0'));
        streaming = true;
        for await (const piece of body as AsyncIterable<Buffer>) {
          for (let at = 0; at < piece.length && !settled; at += CHUNK) {
            const chunk = piece.subarray(at, at + CHUNK);
            const length = Buffer.alloc(4);
            length.writeUInt32BE(chunk.length);
            await write(Buffer.concat([length, chunk]));
          }
          if (settled) return; // clamd answered early (a size limit) or the deadline passed
        }
        await write(Buffer.alloc(4)); // the end of the stream
        streaming = false;
      })().catch((err: Error) => finish(err));
    });
  });
}

function parseReply(line: string): [Error | undefined, ClamdVerdict?] {
  const text = line.replace(/^stream:\s*/, '').trim();
  if (text === 'OK') return [undefined, { infected: false }];
  const found = /^(.*) FOUND$/.exec(text);
  if (found) return [undefined, { infected: true, signature: found[1]! }];
  return [new ClamdRefusedError(text)];
}
