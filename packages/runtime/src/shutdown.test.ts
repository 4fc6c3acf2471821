import { createLogger } from '@alder/logger';
import { createShutdown } from './shutdown';

const log = createLogger({ level: 'silent' });

describe('createShutdown', () => {
  it('runs steps in order once and exits 0', async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const shutdown = createShutdown(log, 1_000, (code) => void exits.push(code));
    shutdown.step('http', () => void order.push('http'));
    shutdown.step('pool', async () => void order.push('pool'));
    await Promise.all([shutdown.run('test'), shutdown.run('again')]);
    expect(order).toEqual(['http', 'pool']);
    expect(exits).toEqual([0]);
  });

  it('keeps closing after a failed step and exits 1', async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const shutdown = createShutdown(log, 1_000, (code) => void exits.push(code));
    shutdown.step('bad', () => {
      throw new Error('nope');
    });
    shutdown.step('pool', () => void order.push('pool'));
    await shutdown.run('test');
    expect(order).toEqual(['pool']);
    expect(exits).toEqual([1]);
  });
});
