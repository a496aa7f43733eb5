import { describe, expect, it } from 'vitest';
import { ProgressMessages } from '../src/delivery/progress-messages.js';

/** Records what a Slack client would have been asked to do. */
function recordingClient() {
  const sent: string[] = [];
  return {
    sent,
    client: {
      post: async (_channel: string, _thread: string, text: string) => {
        sent.push(`post ${text}`);
        return '111.222';
      },
      update: async (_channel: string, ts: string, text: string) => {
        sent.push(`update ${ts} ${text}`);
      },
    },
  };
}

describe('Slack progress message', () => {
  it('posts once, then edits the same message no more often than the interval', async () => {
    let now = 0;
    const recorder = recordingClient();
    const progress = new ProgressMessages(recorder.client, 3000, () => now);
    const where = { channel: 'C1', threadTs: '1.1' };
    await progress.show('job', where, '10%');
    now = 1000;
    await progress.show('job', where, '20%');
    now = 3500;
    await progress.show('job', where, '30%');
    now = 4000;
    await progress.show('job', where, '40%');
    expect(recorder.sent).toEqual(['post 10%', 'update 111.222 30%']);
    expect(await progress.finish('job')).toBe('111.222');
    await progress.show('job', where, 'a late update');
    expect(recorder.sent).toEqual(['post 10%', 'update 111.222 30%']);
  });

  it('edits a message the producer posted instead of posting one', async () => {
    const recorder = recordingClient();
    const progress = new ProgressMessages(recorder.client, 0);
    await progress.show('job', { channel: 'C1', threadTs: '1.1', existingTs: '9.9' }, 'half');
    expect(recorder.sent).toEqual(['update 9.9 half']);
    expect(await progress.finish('job', '9.9')).toBe('9.9');
  });
});
