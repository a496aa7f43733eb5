import { modelNames, videoFormats } from '@bgremover/core';
import {
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  type RESTPostAPIApplicationCommandsJSONBody,
  SlashCommandBuilder,
} from 'discord.js';

export const SLASH_COMMAND_NAME = 'removebg';
export const CONTEXT_MENU_NAME = 'Remove background';

/** The option names of `/removebg`, as people see them in Discord. */
export const slashOptions = {
  file: 'file',
  model: 'model',
  format: 'format',
  alphaMatting: 'alpha_matting',
  onlyMask: 'only_mask',
  bgColor: 'bg_color',
  bgImage: 'bg_image',
} as const;

/** `/removebg`: a picture or clip plus the seed API's main parameters. Guild-only. */
export function slashCommand(): RESTPostAPIApplicationCommandsJSONBody {
  return new SlashCommandBuilder()
    .setName(SLASH_COMMAND_NAME)
    .setDescription('Remove the background from a picture or a video clip')
    .setContexts(InteractionContextType.Guild)
    .addAttachmentOption((option) =>
      option.setName(slashOptions.file).setDescription('The picture or clip').setRequired(true),
    )
    .addStringOption((option) =>
      option
        .setName(slashOptions.model)
        .setDescription('Segmentation model (default: the server default)')
        .addChoices(...modelNames.slice(0, 25).map((name) => ({ name, value: name }))),
    )
    .addStringOption((option) =>
      option
        .setName(slashOptions.format)
        .setDescription('Output format for videos')
        .addChoices(...videoFormats.map((name) => ({ name, value: name }))),
    )
    .addBooleanOption((option) =>
      option.setName(slashOptions.alphaMatting).setDescription('Refine soft edges (slower)'),
    )
    .addBooleanOption((option) =>
      option.setName(slashOptions.onlyMask).setDescription('Return the black-and-white mask only'),
    )
    .addStringOption((option) =>
      option
        .setName(slashOptions.bgColor)
        .setDescription('Background colour instead of transparency, e.g. #00ff00')
        .setMaxLength(9),
    )
    .addAttachmentOption((option) =>
      option
        .setName(slashOptions.bgImage)
        .setDescription('Background picture to put behind the subject'),
    )
    .toJSON();
}

/** The message context menu entry "Remove background". Guild-only. */
export function contextMenuCommand(): RESTPostAPIApplicationCommandsJSONBody {
  return new ContextMenuCommandBuilder()
    .setName(CONTEXT_MENU_NAME)
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild)
    .toJSON();
}

/** Every command the bot registers. */
export function allCommands(): RESTPostAPIApplicationCommandsJSONBody[] {
  return [slashCommand(), contextMenuCommand()];
}
