import {
  openProducerConnections,
  openStorage,
  type RunningDeliveryWorker,
  serviceLogger,
} from '@bgremover/jobs';
import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import type { Logger } from 'pino';
import type { BotContext } from './bot-context.js';
import { CONTEXT_MENU_NAME, SLASH_COMMAND_NAME } from './commands.js';
import type { DiscordConfig } from './config.js';
import { OriginalReply } from './delivery/original-reply.js';
import { startDiscordDelivery } from './delivery/start-delivery.js';
import { handleContextMenu, handleSlashCommand } from './interaction-handlers.js';
import { handleReaction } from './reaction-handler.js';

/**
 * Gateway intents: `Guilds` (guilds, channels and interactions) always; for the reaction trigger
 * also `GuildMessageReactions` and `MessageContent` (privileged: without it Discord hides the
 * attachments of a message fetched for a reaction; enable it in the developer portal).
 */
export function botIntents(reactionTrigger: boolean): GatewayIntentBits[] {
  return reactionTrigger
    ? [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessageReactions,
        GatewayIntentBits.MessageContent,
      ]
    : [GatewayIntentBits.Guilds];
}

/**
 * Partials: reactions arrive (and DMs: the DM channel is not cached) for messages the bot never saw, so Message, Channel and Reaction
 * (and User, for reactors not cached) must be accepted as partial structures and fetched.
 */
export const botPartials = [Partials.Message, Partials.Channel, Partials.Reaction, Partials.User];

export interface RunningBot {
  client: Client<true>;
  /**
   * Stops handling new events, waits for the handlers still running, stops the delivery worker
   * (letting the deliveries in hand finish), then disconnects from the gateway and closes the
   * queue and Redis connections.
   */
  close(): Promise<void>;
}

/**
 * Logs the bot in and resolves once the gateway says READY (with its guilds) and the app's
 * delivery worker runs: interactions and reactions are handled from then on, and the results,
 * progress and failures of the jobs they queued are posted by this app (the workers hold no
 * Discord token). Errors in a handler are logged, never thrown out.
 */
export async function startDiscordBot(
  config: DiscordConfig,
  options: { logger?: Logger } = {},
): Promise<RunningBot> {
  const logger = options.logger ?? serviceLogger('discord', config.logLevel);
  // Through a Redis outage: logged (once per 10 s), not printed as "Unhandled error event".
  const connections = openProducerConnections(config.jobs, logger);
  const { queue, redis } = connections;
  const client = new Client({
    intents: botIntents(config.reactionTrigger),
    partials: botPartials,
    ...(config.apiUrl ? { rest: { api: config.apiUrl } } : {}),
  });
  const storage = openStorage(config.jobs);
  const reply = new OriginalReply(client.rest, redis, config.jobs.queueName, logger);
  const bot: BotContext = { config, queue, redis, storage, rest: client.rest, reply, logger };

  // Handlers still running when the bot is asked to stop are awaited, so an acknowledged
  // request is not left half-queued.
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    work.finally(() => inFlight.delete(work));
  };

  client.on(Events.InteractionCreate, (interaction) => {
    const run = async () => {
      if (interaction.isChatInputCommand() && interaction.commandName === SLASH_COMMAND_NAME) {
        await handleSlashCommand(interaction, bot);
      } else if (
        interaction.isMessageContextMenuCommand() &&
        interaction.commandName === CONTEXT_MENU_NAME
      ) {
        await handleContextMenu(interaction, bot);
      }
    };
    track(
      run().catch((error: Error) =>
        logger.error({ err: error, interaction: interaction.id }, 'interaction handler failed'),
      ),
    );
  });
  client.on(Events.MessageReactionAdd, (reaction, user) => {
    if (!config.reactionTrigger) return;
    track(
      handleReaction(reaction, user, bot).catch((error: Error) =>
        logger.error({ err: error, message: reaction.message.id }, 'reaction handler failed'),
      ),
    );
  });
  client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));

  const ready = new Promise<Client<true>>((resolve) => client.once(Events.ClientReady, resolve));
  let delivery: RunningDeliveryWorker | undefined;
  try {
    await client.login(config.token);
    delivery = await startDiscordDelivery(config, { client, storage, redis, reply, logger });
  } catch (error) {
    await Promise.allSettled([delivery?.close(), client.destroy(), connections.close()]);
    throw error;
  }
  const readyClient = await ready;
  const deliveryWorker = delivery;
  logger.info({ user: readyClient.user.tag, queue: config.jobs.queueName }, 'discord bot ready');

  return {
    client: readyClient,
    close: async () => {
      client.removeAllListeners(Events.InteractionCreate);
      client.removeAllListeners(Events.MessageReactionAdd);
      await Promise.allSettled([...inFlight]);
      await deliveryWorker.close();
      await client.destroy();
      await connections.close();
    },
  };
}
