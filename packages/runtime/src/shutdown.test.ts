import { createLogger } from '@alder/logger';
import { createShutdown, ShutdownUnderway } from './shutdown';

const log = createLogger({ level: 'silent' });

describe('createShutdown', () => {
  it('runs steps once, by phase and then in the order added, and exits 0', async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const shutdown = createShutdown(log, 1_000, (code) => void exits.push(code));
    shutdown.step('pool', async () => void order.push('pool'), 'postgres pool');
    shutdown.step('embedded', () => void order.push('embedded'), 'embedded servers');
    shutdown.step('http', () => void order.push('http'), 'http');
    shutdown.step('trainer', () => void order.push('trainer'), 'workers');
    shutdown.step('sampling', () => void order.push('sampling'), 'workers');
    expect(shutdown.started).toBe(false);
    await Promise.all([shutdown.run('test'), shutdown.run('again')]);
    expect(shutdown.started).toBe(true);
    expect(order).toEqual(['http', 'trainer', 'sampling', 'pool', 'embedded']);
    expect(exits).toEqual([0]);
  });

  it('keeps closing after a failed step and exits 1', async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const shutdown = createShutdown(log, 1_000, (code) => void exits.push(code));
    shutdown.step('bad', () => {
      throw new Error('nope');
    }, 'http');
    shutdown.step('pool', () => void order.push('pool'), 'postgres pool');
    await shutdown.run('test');
    expect(order).toEqual(['pool']);
    expect(exits).toEqual([1]);
  });

  it('also closes what is opened while it runs', async () => {
    const order: string[] = [];
    const shutdown = createShutdown(log, 1_000, () => undefined);
    shutdown.step('http', async () => {
      order.push('http');
      // A start still under way opens its pool while HTTP closes: it is told to stop.
      expect(() => shutdown.step('late pool', () => void order.push('late pool'), 'postgres pool')).toThrow(ShutdownUnderway);
    }, 'http');
    shutdown.step('workers', () => void order.push('workers'), 'workers');
    await shutdown.run('test');
    expect(order).toEqual(['http', 'workers', 'late pool']);
  });

  it('closes at once what is opened after it finished', async () => {
    const closed: string[] = [];
    const shutdown = createShutdown(log, 1_000, () => undefined);
    await shutdown.run('test');
    expect(() => shutdown.step('too late', () => void closed.push('too late'), 'workers')).toThrow(ShutdownUnderway);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toEqual(['too late']);
  });

  it('exits with the code a failed start asks for', async () => {
    const exits: number[] = [];
    const shutdown = createShutdown(log, 1_000, (code) => void exits.push(code));
    await shutdown.run('start failed', 1);
    expect(exits).toEqual([1]);
  });

  it('refuses an unknown phase', () => {
    const shutdown = createShutdown(log, 1_000, () => undefined);
    expect(() => shutdown.step('x', () => undefined, 'later' as never)).toThrow(/unknown shutdown phase/);
  });
});
