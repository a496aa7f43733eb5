import type { App, types } from '@slack/bolt';
import { SLASH_COMMAND } from '../command-text.js';
import { ACCEPTED_MEDIA } from '../slack-files.js';
import type { HandlerDeps } from './deps.js';

/**
 * The App Home tab: how to use the app, in the places Slack offers (message shortcuts, the
 * reaction, `/removebg` in a channel or in this DM), and what it accepts.
 */
export function buildHomeView(
  reactionEmoji: string,
  botUserId: string | undefined,
): types.HomeView {
  const bot = botUserId ? `<@${botUserId}>` : '@bgremover';
  const section = (text: string): types.KnownBlock => ({
    type: 'section',
    text: { type: 'mrkdwn', text },
  });
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Remove the background' } },
      section(
        `I cut the subject out of pictures and videos: ${ACCEPTED_MEDIA}. Results appear in the thread of the message they came from.`,
      ),
      { type: 'divider' },
      section(
        '*On a message with files*: ⋯ (More actions) → *Remove background* for the defaults, or *Remove background…* to choose the model, the video format, alpha matting, only the mask or a background colour.',
      ),
      section(
        `*React* with :${reactionEmoji}: to a message with files: I react :hourglass:, then :white_check_mark: when the results are in the thread (or :x:). Each file is processed once, however many people react.`,
      ),
      section(
        `*\`${SLASH_COMMAND}\`* alone opens a form to upload files (up to 10 MB each, a limit of Slack forms) and choose options; \`${SLASH_COMMAND} <file link> [model=u2netp] [format=webm] [matting] [mask] [color=#ffffff]\` works on a file shared in the conversation you run it in; \`${SLASH_COMMAND} help\` explains.`,
      ),
      section(
        `*Here, in this DM*: send me a picture or a video, then use the shortcut or the reaction on it, or run \`${SLASH_COMMAND}\`.`,
      ),
      section(
        `*In a channel*: I join public channels by myself; invite me to a private one first (\`/invite ${bot}\`). Long videos show their progress; when the queue is long, a picture shows its place in it.`,
      ),
    ],
  };
}

/** Publishes the Home tab whenever someone opens it (`app_home_opened`, tab `home`). */
export function registerAppHome(app: App, deps: HandlerDeps): void {
  app.event('app_home_opened', async ({ event, client, context }) => {
    if (event.tab !== 'home') return;
    await deps.track(async () => {
      try {
        await client.views.publish({
          user_id: event.user,
          view: buildHomeView(deps.config.reactionEmoji, context.botUserId),
        });
      } catch (error) {
        deps.logger.warn({ err: error, user: event.user }, 'could not publish the Home tab');
      }
    });
  });
}
