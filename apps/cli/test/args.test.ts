import { describe, expect, it } from 'vitest';
import { type CliCommand, parseCommandLine, UsageError, usage } from '../src/args.js';

function remove(argv: string[]): Extract<CliCommand, { kind: 'remove' }> {
  const command = parseCommandLine(argv);
  if (command.kind !== 'remove') throw new Error(`expected a remove command, got ${command.kind}`);
  return command;
}

describe('boolean flags', () => {
  it.each([
    [['--alpha-matting'], true],
    [['--alpha-matting=true'], true],
    [['--alpha-matting=1'], true],
    [['--alpha-matting=yes'], true],
    [['--alpha-matting=ON'], true],
    [['--alpha-matting', 'true'], true],
    [['--alpha-matting=false'], false],
    [['--alpha-matting=0'], false],
    [['--alpha-matting=no'], false],
    [['--alpha-matting=off'], false],
    [['--alpha-matting', 'false'], false],
    [['--alpha-matting', 'FALSE'], false],
    [['--no-alpha-matting'], false],
    [[], undefined],
    // The last word wins.
    [['--alpha-matting', '--no-alpha-matting'], false],
    [['--no-alpha-matting', '--alpha-matting=1'], true],
  ])('%j sets alpha_matting to %s and leaves only the file', (flags, expected) => {
    const command = remove(['photo.png', ...flags]);
    expect(command.inputs).toEqual(['photo.png']);
    expect(command.params.alpha_matting).toBe(expected);
    expect(command.videoParams.alpha_matting).toBe(expected);
  });

  it('reads `--flag false` before a file as the value, not as a file called false', () => {
    const command = remove(['--alpha-matting', 'false', 'photo.png']);
    expect(command.inputs).toEqual(['photo.png']);
    expect(command.params.alpha_matting).toBe(false);
  });

  it('takes only true/false as a separate value; anything else is a file', () => {
    expect(remove(['--alpha-matting', 'yes']).inputs).toEqual(['yes']);
    expect(remove(['--alpha-matting', '0']).params.alpha_matting).toBe(true);
    expect(remove(['--alpha-matting', '0']).inputs).toEqual(['0']);
  });

  it('treats everything after -- as files, and ./false as a file', () => {
    const command = remove(['--alpha-matting', '--', 'false', '--no-only-mask']);
    expect(command.params.alpha_matting).toBe(true);
    expect(command.inputs).toEqual(['false', '--no-only-mask']);
    expect(remove(['--alpha-matting', './false']).inputs).toEqual(['./false']);
  });

  it('handles every boolean flag the same way', () => {
    const command = remove([
      'a.png',
      '--only-mask=false',
      '--video-bg-color-enabled',
      'false',
      '--quiet=yes',
      '--progress=0',
      '--debug',
      'true',
    ]);
    expect(command.inputs).toEqual(['a.png']);
    expect(command.params.only_mask).toBe(false);
    expect(command.videoParams.video_bg_color_enabled).toBe(false);
    expect([command.quiet, command.progress, command.debug]).toEqual([true, false, true]);
    expect(remove(['a.png', '--no-only-mask']).params.only_mask).toBe(false);
    expect(remove(['a.png', '--only-mask', 'true']).params.only_mask).toBe(true);
    expect(remove(['a.png', '-q', 'false']).quiet).toBe(false);
    expect(remove(['a.png', '-q', '--no-quiet']).quiet).toBe(false);
    expect(remove(['a.png', '--no-quiet', '-q']).quiet).toBe(true);
    expect(parseCommandLine(['--help=1'])).toEqual({ kind: 'help' });
  });

  it('keeps string options as they were, and an explicit --no-video-bg-color-enabled', () => {
    const command = remove(['-o', 'false', 'clip.mp4', '--video-bg-color', '#000']);
    expect(command.outputDir).toBe('false');
    expect(command.inputs).toEqual(['clip.mp4']);
    expect(command.videoParams.video_bg_color_enabled).toBe(true);
    expect(
      remove(['clip.mp4', '--video-bg-color', '#000', '--no-video-bg-color-enabled']).videoParams
        .video_bg_color_enabled,
    ).toBe(false);
  });

  it('refuses values that are not booleans, and --no-flag with a value', () => {
    expect(() => parseCommandLine(['a.png', '--alpha-matting=maybe'])).toThrow(UsageError);
    expect(() => parseCommandLine(['a.png', '--alpha-matting=maybe'])).toThrow(
      `Option '--alpha-matting' is a switch: give true or false (also 1/0, yes/no, on/off), got "maybe"`,
    );
    expect(() => parseCommandLine(['a.png', '--alpha-matting='])).toThrow(UsageError);
    expect(() => parseCommandLine(['a.png', '--no-alpha-matting=true'])).toThrow(
      "Option '--no-alpha-matting' takes no value",
    );
    expect(() => parseCommandLine(['a.png', '--no-model'])).toThrow("Unknown option '--no-model'");
  });

  it('documents the boolean forms in --help', () => {
    expect(usage).toContain('--no-flag');
    expect(usage).toContain('--flag=false');
    expect(usage).toContain('--debug');
  });
});
