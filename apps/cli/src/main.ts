#!/usr/bin/env node
/**
 * removebg: background removal at a terminal. Runs the pipeline in this process (no Redis, no
 * server); see `removebg --help`.
 */
import { open, stat } from 'node:fs/promises';
import { loadCoreConfig, ParamError, stderrLogger } from '@bgremover/core';
import { parseCommandLine, UsageError, usage } from './args.js';
import { type FileOutcome, runBatch } from './batch.js';
import {
  describeError,
  displayMessage,
  displayName,
  isInternalError,
  notRegularFile,
} from './file-errors.js';
import { collectInputs, MAX_NAME_BYTES } from './inputs.js';
import { listModels, pullModels } from './models-command.js';

const print = (line: string) => process.stdout.write(`${line}\n`);
const printError = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Runs one command line and returns the process exit code: 0 when every file was done, 1 when
 * any failed (or something unexpected stopped the run), 2 for a command line or parameter that
 * cannot be used. Never throws; an unexpected error is one line (its stack with --debug).
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    printError(
      `removebg: ${isInternalError(error) ? 'internal error: ' : ''}${displayMessage(describeError(error))}`,
    );
    if (
      argv.some((arg) => /^--debug(=(true|1|yes|on))?$/i.test(arg)) &&
      error instanceof Error &&
      error.stack
    )
      printError(error.stack);
    else if (isInternalError(error)) printError('removebg: run with --debug to see where');
    return 1;
  }
}

async function run(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseCommandLine>;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    printError(`removebg: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (command.kind === 'help') {
    print(usage);
    return 0;
  }
  // A terminal tool has nothing else on its event loop: infer on the calling thread unless told.
  const config = loadCoreConfig({ INFERENCE_THREAD: 'false', ...process.env });
  if (command.kind === 'models-list') {
    await listModels(config, print);
    return 0;
  }
  if (command.kind === 'models-pull') {
    return (await pullModels(command.names, config, command.baseUrl, print)) ? 0 : 1;
  }

  // Every file would fail (or block, for a FIFO) on a background it cannot read: say so once.
  for (const [flag, path] of [
    ['--bg-image', command.backgroundImage],
    ['--bg-video', command.backgroundVideo],
  ] as const) {
    const problem = path === undefined ? undefined : await unreadableFile(path);
    if (problem !== undefined) {
      printError(`removebg: ${flag} ${displayName(path ?? '')}: ${problem}`);
      return 2;
    }
  }

  const { files, rejected } = await collectInputs(command.inputs);
  for (const { input, reason } of rejected) printError(failureLine(input, reason));
  if (files.length === 0 && rejected.length === 0) {
    printError('removebg: no images or videos to process');
    return 1;
  }
  // Frame bars are worth showing for a single video too, so the bars are on whenever stderr is
  // a terminal (runBatch shows the files bar only for batches).
  const showBar = command.progress || (!command.quiet && process.stderr.isTTY === true);
  let outcomes: FileOutcome[] = [];
  try {
    if (files.length > 0) {
      outcomes = await runBatch(files, {
        config,
        params: command.params,
        videoParams: command.videoParams,
        outputDir: command.outputDir,
        backgroundImage: command.backgroundImage,
        backgroundVideo: command.backgroundVideo,
        progress: showBar,
        logger: stderrLogger,
        onFile: (outcome) => {
          if (!outcome.ok) {
            printError(failureLine(outcome.input, outcome.error));
            if (command.debug && outcome.stack) printError(outcome.stack);
            return;
          }
          if (!command.quiet && !(showBar && files.length > 1)) {
            print(
              `${displayName(outcome.input)} -> ${displayName(outcome.output)} (${outcome.model}, ${outcome.frames === undefined ? '' : `${outcome.frames} frames, `}${Math.round(outcome.ms)} ms)`,
            );
          }
          if (outcome.shortened) {
            printError(
              `${displayName(outcome.input)}: note: the result's name was cut to fit ${MAX_NAME_BYTES} bytes: ${displayName(outcome.output)}`,
            );
          }
          for (const warning of outcome.warnings) {
            printError(`${displayName(outcome.input)}: note: ${displayMessage(warning)}`);
          }
        },
      });
    }
  } catch (error) {
    if (error instanceof ParamError) {
      printError(`removebg: ${error.message}`);
      return 2;
    }
    throw error;
  }

  const failures = [
    ...rejected,
    ...outcomes.flatMap((outcome) =>
      outcome.ok ? [] : [{ input: outcome.input, reason: outcome.error }],
    ),
  ];
  const done = outcomes.filter((outcome) => outcome.ok);
  if (!command.quiet) printSummary(done, failures, command.outputDir);
  return failures.length > 0 ? 1 : 0;
}

/**
 * The end of a batch: the results whose names were shortened, each failure again with the first
 * line of its reason (they may have scrolled away), and the counts as the last line.
 */
function printSummary(
  done: readonly FileOutcome[],
  failures: readonly { input: string; reason: string }[],
  outputDir: string | undefined,
) {
  const shortened = done.filter((outcome) => outcome.ok && outcome.shortened);
  if (shortened.length > 0) {
    print(`Names cut to fit ${MAX_NAME_BYTES} bytes (${shortened.length}):`);
    for (const outcome of shortened) {
      if (outcome.ok) print(`  ${displayName(outcome.input)} -> ${displayName(outcome.output)}`);
    }
  }
  if (failures.length > 0 && done.length + failures.length > 1) {
    printError(`Failed (${failures.length}):`);
    for (const { input, reason } of failures) {
      printError(`  ${failureLine(input, reason.split('\n')[0] ?? '')}`);
    }
  }
  const names = shortened.length > 0 ? `, ${shortened.length} name(s) shortened` : '';
  print(
    `${done.length} done, ${failures.length} failed${names}${outputDir ? `; results in ${displayName(outputDir)}` : ''}`,
  );
}

function failureLine(input: string, reason: string): string {
  return `${displayName(input)}: ${displayMessage(reason)}`;
}

/** Why a file given as an option's value cannot be read, or undefined when it can. */
async function unreadableFile(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return notRegularFile(info);
    await (await open(path, 'r')).close();
    return undefined;
  } catch (error) {
    return describeError(error, path);
  }
}

process.exitCode = await main(process.argv.slice(2));
