import type { Message } from 'discord.js';
import type { AttachmentInfo } from './attachments.js';
import { attachmentInfo } from './bot-context.js';

/**
 * A message's files: its own attachments, or, for a forwarded message (which has none of its
 * own), those of the message it forwards, carried in `message_snapshots`
 * (https://discord.com/developers/docs/resources/message#message-reference-content-attribution-forwards).
 */
export function messageFiles(message: Message): AttachmentInfo[] {
  const own = [...message.attachments.values()].map(attachmentInfo);
  if (own.length > 0) return own;
  const forwarded: AttachmentInfo[] = [];
  for (const snapshot of message.messageSnapshots.values()) {
    for (const attachment of snapshot.attachments.values())
      forwarded.push(attachmentInfo(attachment));
  }
  return forwarded;
}
