import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * The all-in-one keeps the admin key it created in `<dataDir>/admin-key` (mode 600): the
 * database holds only its hash, and a restart should still be able to tell the user the key.
 */
export async function rememberAdminKey(dataDir: string, key: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const path = resolve(dataDir, 'admin-key');
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

export async function recallAdminKey(dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(resolve(dataDir, 'admin-key'), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}
