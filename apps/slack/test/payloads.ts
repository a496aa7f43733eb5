import { randomUUID } from 'node:crypto';
import {
  commandBody,
  FORM,
  interactivityBody,
  JSON_TYPE,
  postSigned,
} from '@bgremover/test-kit/slack/signed-requests';
import { type SlackStandIn, startSlackStandIn } from '@bgremover/test-kit/slack/stand-in';
import { BOT_TOKEN, SIGNING_SECRET, type SlackStack, startSlackStack } from './stack.js';

/** Where a request comes from: a channel and the person in it. */
export interface Where {
  channel: string;
  user: string;
}

/** A message shortcut's payload, on a message with `files`. */
export function shortcutPayload(
  standIn: SlackStandIn,
  callbackId: string,
  message: { ts: string; files: unknown[]; thread_ts?: string },
  where: Where,
) {
  return {
    type: 'message_action',
    callback_id: callbackId,
    trigger_id: standIn.triggerId(),
    message_ts: message.ts,
    response_url: standIn.responseUrl(where.user, where.channel),
    message: { type: 'message', user: 'U0AUTHOR', text: 'look', ...message },
    user: { id: where.user, name: 'person' },
    channel: { id: where.channel, name: 'general' },
    team: { id: 'T1', domain: 'test' },
    token: 'legacy',
    action_ts: String(Date.now() / 1000),
  };
}

/** An Events API body around `event` (a fresh event id unless given). */
export function eventBody(event: Record<string, unknown>, eventId?: string): string {
  return JSON.stringify({
    token: 'legacy',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: eventId ?? `Ev${randomUUID().slice(0, 8)}`,
    event_time: Math.floor(Date.now() / 1000),
    event,
  });
}

/** A reaction_added event's body (a fresh event id unless given). */
export function reactionBody(
  standIn: SlackStandIn,
  messageTs: string,
  where: Where,
  options: { eventId?: string; reaction?: string } = {},
): string {
  return eventBody(
    {
      type: 'reaction_added',
      user: where.user,
      reaction: options.reaction ?? 'scissors',
      item_user: 'U0AUTHOR',
      item: { type: 'message', channel: where.channel, ts: messageTs },
      event_ts: standIn.nextTs(),
    },
    options.eventId,
  );
}

/** Builds and sends, signed, the requests Slack sends the app, for one person in one channel. */
export function slackPeople(standIn: SlackStandIn, eventsUrl: () => string) {
  const send = (body: string, type: string, headers: Record<string, string> = {}) =>
    postSigned(eventsUrl(), SIGNING_SECRET, body, type, headers);

  return {
    /** A message shortcut on a message with `files`. */
    shortcut(
      callbackId: string,
      message: { ts: string; files: unknown[]; thread_ts?: string },
      where: Where,
    ) {
      return send(interactivityBody(shortcutPayload(standIn, callbackId, message, where)), FORM);
    },

    /** `/removebg <text>` in a channel. */
    command(text: string, where: Where) {
      return send(
        commandBody({
          token: 'legacy',
          team_id: 'T1',
          channel_id: where.channel,
          channel_name: 'general',
          user_id: where.user,
          user_name: 'person',
          command: '/removebg',
          text,
          api_app_id: 'A1',
          response_url: standIn.responseUrl(where.user, where.channel),
          trigger_id: standIn.triggerId(),
        }),
        FORM,
      );
    },

    /** A reaction_added event (a fresh event id unless given). */
    reaction(
      messageTs: string,
      where: Where,
      options: { eventId?: string; reaction?: string; headers?: Record<string, string> } = {},
    ) {
      return send(reactionBody(standIn, messageTs, where, options), JSON_TYPE, options.headers);
    },

    /** Any Events API event. */
    event(event: Record<string, unknown>) {
      return send(eventBody(event), JSON_TYPE);
    },

    /** Submits an options modal the app opened (`opened` is its views.open `view`). */
    submitModal(
      opened: { callback_id: string; private_metadata: string; blocks: unknown[] },
      user: string,
      values: Record<string, unknown>,
    ) {
      return send(
        interactivityBody({
          type: 'view_submission',
          team: { id: 'T1', domain: 'test' },
          user: { id: user, name: 'person' },
          api_app_id: 'A1',
          token: 'legacy',
          trigger_id: standIn.triggerId(),
          view: {
            id: `V${randomUUID().slice(0, 8).toUpperCase()}`,
            team_id: 'T1',
            type: 'modal',
            callback_id: opened.callback_id,
            private_metadata: opened.private_metadata,
            blocks: opened.blocks,
            state: { values },
            hash: 'h',
          },
        }),
        FORM,
      );
    },
  };
}

/** The modal's state values for the defaults, plus `extra` blocks (e.g. a file input). */
export function modalValues(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: { value: { type: 'static_select', selected_option: null } },
    video_format: { value: { type: 'static_select', selected_option: null } },
    flags: { value: { type: 'checkboxes', selected_options: [] } },
    color: { value: { type: 'plain_text_input', value: '' } },
    ...extra,
  };
}

/** A suite's Slack stand-in, the app's stack on it, and the people sending to the app. */
export async function startSlackSuite(): Promise<{
  standIn: SlackStandIn;
  stack: SlackStack;
  people: ReturnType<typeof slackPeople>;
}> {
  const standIn = await startSlackStandIn(BOT_TOKEN);
  const suite = { standIn, stack: await startSlackStack(standIn) };
  return { ...suite, people: slackPeople(standIn, () => suite.stack.eventsUrl) };
}
