import type { webApi } from '@slack/bolt';
import { ensureBotInConversation } from '../conversation-access.js';
import { buildOptionsModal, type ModalContext } from '../options-modal.js';
import { type NoticeTarget, requestSummary, tellUser } from '../replies.js';
import type { SlackFile } from '../slack-files.js';
import { type SlackRequest, startRequest } from '../start-request.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';

/**
 * Runs a listener's work; a fault of ours is logged with `failure` and the person is told
 * privately that the request could not start.
 */
export async function tellingFailures(
  deps: HandlerDeps,
  client: webApi.WebClient,
  notice: NoticeTarget,
  failure: string,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    deps.logger.error({ err: error }, failure);
    await tellUser(client, notice, START_FAILED_TEXT, deps.logger);
  }
}

/**
 * Whether the bot can work in the notice's conversation (see `ensureBotInConversation`); when
 * it cannot, the person is told why and how to let it in.
 */
export async function botMayWorkHere(
  deps: HandlerDeps,
  client: webApi.WebClient,
  notice: NoticeTarget,
  botUserId: string | undefined,
): Promise<boolean> {
  const access = await ensureBotInConversation(client, notice.channel, botUserId);
  if (!access.ok) await tellUser(client, notice, access.reason, deps.logger);
  return access.ok;
}

/**
 * Opens the options modal for `context` with the interaction's trigger, once the bot can work in
 * the conversation; a failure is logged with `failure` and told to the person.
 */
export async function openOptionsModal(
  deps: HandlerDeps,
  client: webApi.WebClient,
  notice: NoticeTarget,
  opening: { triggerId: string; botUserId: string | undefined; failure: string },
  context: ModalContext,
): Promise<void> {
  await tellingFailures(deps, client, notice, opening.failure, async () => {
    if (!(await botMayWorkHere(deps, client, notice, opening.botUserId))) return;
    await client.views.open({ trigger_id: opening.triggerId, view: buildOptionsModal(context) });
  });
}

/**
 * Starts one person's request in the notice's conversation once the bot can work there, then
 * tells them privately what started and what was refused (`emptyText` when nothing was there).
 */
export async function startAndTell(
  deps: HandlerDeps,
  client: webApi.WebClient,
  notice: NoticeTarget,
  request: Pick<SlackRequest, 'threadTs' | 'requestKey' | 'options'> & {
    botUserId: string | undefined;
    emptyText: string;
  },
  files: readonly SlackFile[],
): Promise<void> {
  if (!(await botMayWorkHere(deps, client, notice, request.botUserId))) return;
  const outcome = await startRequest(
    deps,
    client,
    {
      channel: notice.channel,
      threadTs: request.threadTs,
      userId: notice.user,
      requestKey: request.requestKey,
      options: request.options,
    },
    files,
  );
  await tellUser(client, notice, requestSummary(outcome, request.emptyText), deps.logger);
}
