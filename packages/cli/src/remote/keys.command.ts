import type { Schemas } from '@alder/client';
import { CliUsageError, EXIT, type CliEnv, type CliIo } from './cli-io';
import { connect, type ConnectionFlags } from './connection';
import { reportFailure } from './failure';
import { formatTable, shortTime } from './table';

export interface KeysListFlags extends ConnectionFlags {
  json?: boolean;
}

export interface KeysCreateFlags extends ConnectionFlags {
  name: string;
  user?: string;
  expires?: string;
  json?: boolean;
}

function status(key: Schemas['ApiKey'], now: number): string {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && Date.parse(key.expires_at) <= now) return 'expired';
  return 'active';
}

/** `alder keys [list]`: the keys the caller may see (an admin: every key), never the keys themselves. */
export async function runKeysList(flags: KeysListFlags, env: CliEnv, io: CliIo, now = Date.now()): Promise<number> {
  try {
    const { data } = await connect(flags, env, io).listApiKeys();
    if (flags.json) {
      for (const k of data) io.stdout.write(`${JSON.stringify(k)}\n`);
      return EXIT.ok;
    }
    io.stdout.write(
      formatTable(
        ['ID', 'NAME', 'PREFIX', 'USER', 'STATUS', 'CREATED', 'LAST USED', 'EXPIRES'],
        data.map((k) => [k.id, k.name, k.key_prefix, k.user_id, status(k, now), shortTime(k.created_at), shortTime(k.last_used_at), shortTime(k.expires_at)]),
      ),
    );
    return EXIT.ok;
  } catch (error) {
    return reportFailure('keys', error, io);
  }
}

/** `alder keys create --name N`: prints the plain key, which Alder shows this once. */
export async function runKeysCreate(flags: KeysCreateFlags, env: CliEnv, io: CliIo): Promise<number> {
  try {
    if (flags.expires !== undefined && Number.isNaN(Date.parse(flags.expires))) {
      throw new CliUsageError(`--expires must be a date and time such as 2027-01-31T00:00:00Z, not ${JSON.stringify(flags.expires)}`);
    }
    const created = await connect(flags, env, io).createApiKey({
      name: flags.name,
      ...(flags.user ? { user_id: flags.user } : {}),
      ...(flags.expires ? { expires_at: new Date(flags.expires).toISOString() } : {}),
    });
    if (flags.json) io.stdout.write(`${JSON.stringify(created)}\n`);
    else {
      io.stdout.write(`${created.key}\n`);
      io.stderr.write(`key ${created.id} (${created.name}) for user ${created.user_id}: shown this once, Alder keeps only its hash\n`);
    }
    return EXIT.ok;
  } catch (error) {
    return reportFailure('keys create', error, io);
  }
}

/** `alder keys revoke ID`: the key stops working at once. */
export async function runKeysRevoke(id: string, flags: ConnectionFlags, env: CliEnv, io: CliIo): Promise<number> {
  try {
    await connect(flags, env, io).revokeApiKey(id);
    io.stderr.write(`revoked key ${id}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure('keys revoke', error, io);
  }
}
