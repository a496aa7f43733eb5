import { modelNames, videoFormats } from '@bgremover/core/contract';
import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  type RESTPostAPIApplicationCommandsJSONBody,
  type SlashCommandAttachmentOption,
  SlashCommandBuilder,
  type SlashCommandStringOption,
} from 'discord.js';

export const SLASH_COMMAND_NAME = 'removebg';
export const CONTEXT_MENU_NAME = 'Remove background';

/** The option names of `/removebg`, as people see them in Discord. */
export const slashOptions = {
  file: 'file',
  url: 'url',
  model: 'model',
  format: 'format',
  alphaMatting: 'alpha_matting',
  onlyMask: 'only_mask',
  bgColor: 'bg_color',
  bgImage: 'bg_image',
} as const;

/** Where commands are registered: one guild (development) or every guild (global). */
export type CommandScope = 'guild' | 'global';

/**
 * Pinned so that enabling user installs in the developer portal does not make the commands
 * reachable where the bot is not (commands without `integration_types` follow the app's
 * configured install contexts:
 * https://discord.com/developers/docs/interactions/application-commands#contexts). The bot runs
 * in servers that installed it (GUILD_INSTALL, 0) and in DMs with it (BOT_DM, 1); guild-scoped
 * commands do not support BOT_DM
 * (https://discord.com/developers/docs/interactions/application-commands#interaction-contexts).
 */
function pinContexts<T extends object>(command: T, scope: CommandScope, dm: boolean) {
  return {
    ...command,
    integration_types: [ApplicationIntegrationType.GuildInstall],
    contexts:
      scope === 'global' && dm
        ? [InteractionContextType.Guild, InteractionContextType.BotDM]
        : [InteractionContextType.Guild],
  };
}

/**
 * `/removebg`: a picture or clip (an attachment, or a link the workers may fetch) plus the
 * protocol's main parameters. In servers and in DMs with the bot. The attachment options filter the
 * picker to pictures and videos (`file_types`:
 * https://discord.com/developers/docs/reference#file-type-filtering).
 */
export function slashCommand(
  scope: CommandScope = 'global',
): RESTPostAPIApplicationCommandsJSONBody {
  const command = new SlashCommandBuilder()
    .setName(SLASH_COMMAND_NAME)
    .setDescription('Remove the background from a picture or a video clip')
    .addAttachmentOption(
      mediaOption(slashOptions.file, 'The picture or clip (or give a url instead)'),
    )
    .addStringOption(
      textOption(slashOptions.url, 'A link to the picture or clip, instead of a file', 2000),
    )
    .addStringOption(
      choiceOption(
        slashOptions.model,
        'Segmentation model (default: the server default)',
        modelNames.slice(0, 25),
      ),
    )
    .addStringOption(choiceOption(slashOptions.format, 'Output format for videos', videoFormats))
    .addBooleanOption((option) =>
      option.setName(slashOptions.alphaMatting).setDescription('Refine soft edges (slower)'),
    )
    .addBooleanOption((option) =>
      option.setName(slashOptions.onlyMask).setDescription('Return the black-and-white mask only'),
    )
    .addStringOption(
      textOption(
        slashOptions.bgColor,
        'Background colour instead of transparency, e.g. #00ff00',
        9,
      ),
    )
    .addAttachmentOption(
      mediaOption(slashOptions.bgImage, 'Background picture to put behind the subject'),
    )
    .toJSON();
  return pinContexts(command, scope, true);
}

/** An attachment option whose picker shows only pictures and videos. */
function mediaOption(name: string, description: string) {
  return (option: SlashCommandAttachmentOption) =>
    option.setName(name).setDescription(description).setFileTypes('image', 'video');
}

/** A free-text option of at most `maxLength` characters. */
function textOption(name: string, description: string, maxLength: number) {
  return (option: SlashCommandStringOption) =>
    option.setName(name).setDescription(description).setMaxLength(maxLength);
}

/** A text option limited to `values` (each shown as itself). */
function choiceOption(name: string, description: string, values: readonly string[]) {
  return (option: SlashCommandStringOption) =>
    option
      .setName(name)
      .setDescription(description)
      .addChoices(...values.map((value) => ({ name: value, value })));
}

/** The message context menu entry "Remove background". In servers (and DMs with the bot). */
export function contextMenuCommand(
  scope: CommandScope = 'global',
): RESTPostAPIApplicationCommandsJSONBody {
  const command = new ContextMenuCommandBuilder()
    .setName(CONTEXT_MENU_NAME)
    .setType(ApplicationCommandType.Message)
    .toJSON();
  return pinContexts(command, scope, true);
}

/** Every command the bot registers, for one scope. */
export function allCommands(
  scope: CommandScope = 'global',
): RESTPostAPIApplicationCommandsJSONBody[] {
  return [slashCommand(scope), contextMenuCommand(scope)];
}
