import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running the module `name` (without extension) that sits next to the
 * caller: `name.js` in built code, `name.ts` through tsx's ESM hooks when the caller itself runs
 * from the TypeScript sources (tests, `tsx`). `purpose` names the thread in the error thrown when
 * sources are run without tsx installed.
 */
export function startModuleWorker(callerUrl: string, name: string, purpose: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl));
  const source = new URL(`./${name}.ts`, callerUrl).href;
  const register = tsxRegisterUrl(purpose);
  // Node 20 applies hooks registered inside a worker to that worker's later imports only, so
  // the entry is a one-line bootstrap that registers tsx and then imports the real module.
  const code = `import(${JSON.stringify(register)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(code, { eval: true });
}

/** The file URL of tsx's ESM registration API (`tsx/esm/api`, import condition). */
function tsxRegisterUrl(purpose: string): string {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve('tsx/package.json');
  } catch {
    throw new Error(
      `${purpose} from the TypeScript sources needs the tsx package to start its worker thread; install dev dependencies or run the built package`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports?: Record<string, { import?: { default?: string } }>;
  };
  const target = manifest.exports?.['./esm/api']?.import?.default;
  if (!target) throw new Error(`tsx at ${manifestPath} has no ./esm/api export`);
  return pathToFileURL(join(dirname(manifestPath), target)).href;
}
