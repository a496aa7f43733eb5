/** A worker for thread-rpc.test.ts: methods that echo, fail, wait and exit. */

import { BgRemoverError } from '../src/errors.js';
import { serveThread } from '../src/threads/thread-server.js';
import type { TestMethods } from './thread-rpc.test.js';

serveThread<TestMethods>('thread-rpc-worker', {
  double({ values }) {
    const doubled = values.map((value) => value * 2);
    return { result: doubled, transfer: [doubled.buffer] };
  },
  async wait({ ms, label }) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { result: label };
  },
  refuse({ field }) {
    throw new BgRemoverError('invalid_parameter', `bad ${field}`, { field });
  },
  fail({ message }) {
    throw new Error(message);
  },
  exit({ code }) {
    process.exit(code);
  },
});
