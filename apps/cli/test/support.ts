import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expect } from 'vitest';

const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI in a child process (real model, real files). `wrapper` is a command line to
 * run node under (`setpriv ...`, say).
 */
export function removebg(
  args: string[],
  options: { wrapper?: string[]; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const node = [process.execPath, '--conditions=source', '--import', 'tsx', mainScript, ...args];
  const [command, ...rest] = [...(options.wrapper ?? []), ...node];
  return new Promise((resolve) => {
    execFile(
      command!,
      rest,
      {
        env: { ...process.env, FORCE_COLOR: '0' },
        timeout: options.timeoutMs ?? 120_000,
        // tsx is resolved from the working folder: stay inside the repository unless told.
        cwd: options.cwd ?? fileURLToPath(new URL('..', import.meta.url)),
        maxBuffer: 16 << 20,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A copy of a fixture, as PNG, `width` pixels wide, at `target`. */
export async function smallCopy(fixture: string, target: string, width = 96): Promise<string> {
  const image = sharp(join(fixtures, fixture)).resize(width);
  await (target.endsWith('.jpg') ? image.jpeg() : image.png()).toFile(target);
  return target;
}

/**
 * Checks that `output` is the cut-out of `input` (a copy of coffee.png, whose cup fills the
 * middle): a PNG at the input's size with an alpha channel, transparent in all four corners
 * (background), opaque in the middle (the subject) with the input's colour there.
 */
export async function expectCutOut(output: string, input: string): Promise<void> {
  const result = await sharp(output).raw().toBuffer({ resolveWithObject: true });
  const source = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = result.info;
  expect([width, height, channels], output).toEqual([source.info.width, source.info.height, 4]);
  const at = (x: number, y: number) => [
    ...result.data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4),
  ];
  const corners = [0, width - 1].flatMap((x) => [0, height - 1].map((y) => [x, y] as const));
  for (const [x, y] of corners) {
    expect(at(x, y)[3], `alpha at corner ${x},${y} of ${output}`).toBeLessThan(16);
  }
  const [cx, cy] = [width >> 1, height >> 1];
  const middle = at(cx, cy);
  expect(middle[3], `alpha in the middle of ${output}`).toBeGreaterThan(240);
  const offset = (cy * width + cx) * 3;
  const colour = [...source.data.subarray(offset, offset + 3)];
  for (let c = 0; c < 3; c++) {
    expect(Math.abs(middle[c]! - colour[c]!), `colour in the middle of ${output}`).toBeLessThan(8);
  }
}
