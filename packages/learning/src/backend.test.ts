import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';

describe('initBackend', () => {
  it('honours a preference, then returns the same backend on every call', async () => {
    const messages: string[] = [];
    expect(await initBackend((m) => messages.push(m), 'cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(messages).toEqual(['tfjs backend: cpu (via cpu)']);
    expect(await initBackend(undefined, 'wasm')).toBe('cpu');
    expect(messages).toHaveLength(1);
  });
});
