import { AppError } from '@im/platform/errors';
import type { Attachment } from '@im/proto/client/v1';

export interface SendInput {
  conversationId: string;
  clientMsgId: string;
  text: string;
  replyTo?: string | undefined;
  attachments: readonly Attachment[];
}

const CLIENT_MSG_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const ID = /^[A-Za-z0-9-]{1,64}$/;
export const MAX_ATTACHMENTS = 20;

/** Validates a send; throws invalid_argument naming the field. */
export function validateSend(input: SendInput, maxTextChars: number): void {
  if (!ID.test(input.conversationId)) throw new AppError('invalid_argument', 'conversationId: must be an id');
  if (!CLIENT_MSG_ID.test(input.clientMsgId)) {
    throw new AppError('invalid_argument', 'clientMsgId: required, 1-64 of A-Z a-z 0-9 . _ : -');
  }
  const chars = [...input.text].length;
  if (chars > maxTextChars)
    throw new AppError('invalid_argument', `text: at most ${maxTextChars} characters (got ${chars})`);
  if (input.text.trim() === '' && input.attachments.length === 0) {
    throw new AppError('invalid_argument', 'text: required (or at least one attachment)');
  }
  if (input.attachments.length > MAX_ATTACHMENTS) {
    throw new AppError('invalid_argument', `attachments: at most ${MAX_ATTACHMENTS}`);
  }
  if (input.replyTo !== undefined && !ID.test(input.replyTo))
    throw new AppError('invalid_argument', 'replyTo: must be a message id');
  for (const a of input.attachments) {
    if (!ID.test(a.mediaId)) throw new AppError('invalid_argument', 'attachments.mediaId: must be an id');
  }
}
