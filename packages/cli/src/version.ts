import { readFileSync } from 'node:fs';

/**
 * The version `alder --version` prints: that of `@alder/cli`, the package whose `bin` is
 * `alder` (the workspace root is private and has no version of its own).
 */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error('packages/cli/package.json has no version');
  return manifest.version;
}
