#!/usr/bin/env node
/**
 * removebg: background removal at a terminal. Runs the pipeline in this process (no Redis, no
 * server); see `removebg --help`.
 */
import { loadCoreConfig, ParamError, stderrLogger } from '@bgremover/core';
import { parseCommandLine, UsageError, usage } from './args.js';
import { runBatch } from './batch.js';
import { collectInputs } from './inputs.js';
import { listModels, pullModels } from './models-command.js';

const print = (line: string) => process.stdout.write(`${line}\n`);
const printError = (line: string) => process.stderr.write(`${line}\n`);

/** Runs one command line and returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
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

  const { files, missing } = await collectInputs(command.inputs);
  for (const path of missing) printError(`${path}: no such file or folder`);
  if (files.length === 0) {
    printError('removebg: no images or videos to process');
    return 1;
  }
  // Frame bars are worth showing for a single video too, so the bars are on whenever stderr is
  // a terminal (runBatch shows the files bar only for batches).
  const showBar = command.progress || (!command.quiet && process.stderr.isTTY === true);
  try {
    const outcomes = await runBatch(files, {
      config,
      params: command.params,
      videoParams: command.videoParams,
      outputDir: command.outputDir,
      backgroundImage: command.backgroundImage,
      backgroundVideo: command.backgroundVideo,
      progress: showBar,
      logger: stderrLogger,
      onFile: (outcome) => {
        if (!outcome.ok) printError(`${outcome.input}: ${outcome.error}`);
        else if (!command.quiet && !(showBar && files.length > 1)) {
          print(
            `${outcome.input} -> ${outcome.output} (${outcome.model}, ${outcome.frames === undefined ? '' : `${outcome.frames} frames, `}${Math.round(outcome.ms)} ms)`,
          );
        }
        if (outcome.ok)
          for (const warning of outcome.warnings) printError(`${outcome.input}: note: ${warning}`);
      },
    });
    const failed = outcomes.filter((outcome) => !outcome.ok).length + missing.length;
    if (!command.quiet) {
      const done = outcomes.length - (failed - missing.length);
      print(
        `${done} done, ${failed} failed${command.outputDir ? `; results in ${command.outputDir}` : ''}`,
      );
    }
    return failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof ParamError) {
      printError(`removebg: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
