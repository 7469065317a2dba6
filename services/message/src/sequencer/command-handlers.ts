import { Injectable } from '@nestjs/common';
import type { CommandHandler, CommandKind } from './command-handler.js';
import { ChangeMembersHandler } from './handlers/change-members.handler.js';
import { DeleteMessageHandler } from './handlers/delete-message.handler.js';
import { EditMessageHandler } from './handlers/edit-message.handler.js';
import { MarkReadHandler } from './handlers/mark-read.handler.js';
import { PinHandler } from './handlers/pin.handler.js';
import { ReactHandler } from './handlers/react.handler.js';
import { SendMessageHandler } from './handlers/send-message.handler.js';
import { UpdateConversationHandler } from './handlers/update-conversation.handler.js';

/**
 * The one table of which handler sequences which kind of conversation command. A new kind (edit,
 * delete, reaction, pin, membership change) is a case in ConversationCommand, a handler, and a
 * line here.
 */
@Injectable()
export class CommandHandlers {
  private readonly byKind: ReadonlyMap<CommandKind, CommandHandler>;

  constructor(
    send: SendMessageHandler,
    read: MarkReadHandler,
    edit: EditMessageHandler,
    remove: DeleteMessageHandler,
    react: ReactHandler,
    pin: PinHandler,
    settings: UpdateConversationHandler,
    members: ChangeMembersHandler,
  ) {
    const all = [send, read, edit, remove, react, pin, settings, members] as CommandHandler[];
    this.byKind = new Map(all.map((h) => [h.kind, h]));
  }

  for(kind: CommandKind): CommandHandler | undefined {
    return this.byKind.get(kind);
  }
}
