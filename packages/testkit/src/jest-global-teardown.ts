// jest globalTeardown (root package.json): stops the containers jest-global-setup.ts started.
// (testcontainers' reaper removes them too if this process dies first.)
import type { StartedTestContainer } from 'testcontainers';
import { CONTAINERS_KEY } from './jest-global-setup';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as typeof globalThis & { [CONTAINERS_KEY]?: StartedTestContainer[] };
  const started = holder[CONTAINERS_KEY] ?? [];
  delete holder[CONTAINERS_KEY];
  await Promise.all(started.map((container) => container.stop()));
}
