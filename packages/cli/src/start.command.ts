import { runServices, failStart, type ProcessStart } from '@alder/host';
import { ingestService } from '@alder/ingest';
import { labelingApiService } from '@alder/labeling-api';
import { samplingService } from '@alder/sampling';
import { trainerService } from '@alder/trainer';
import { recallAdminKey, rememberAdminKey } from './admin-key';
import { spawnEmbeddedServers } from './embedded-servers';

/** The four services `alder start` runs in one process. */
export const ALL_SERVICES = [ingestService, labelingApiService, trainerService, samplingService];

/**
 * `alder start`: the four services in one process through the same host as each service's own
 * `main`, on one port. With no DATABASE_URL / REDIS_URL it starts an embedded Postgres and Redis
 * under DATA_DIR first, in a process group of their own, and stops them last.
 */
export async function startAllInOne(start: ProcessStart): Promise<void> {
  const { config, log, shutdown } = start;
  try {
    // On the shutdown path from the moment they are spawned: a Ctrl-C during their first start
    // (initdb takes seconds) stops them too.
    const embedded = spawnEmbeddedServers(config);
    shutdown.step('embedded servers', () => embedded.stop(), 'embedded servers');
    const urls = await embedded.ready;
    if (shutdown.started) return;
    const host = await runServices(ALL_SERVICES, {
      ...start,
      databaseUrl: config.DATABASE_URL ?? urls.databaseUrl!,
      redisUrl: config.REDIS_URL ?? urls.redisUrl!,
      migrate: true,
    });

    let adminKey = host.createdAdminKey ?? undefined;
    if (adminKey) await rememberAdminKey(config.DATA_DIR, adminKey);
    else adminKey = await recallAdminKey(config.DATA_DIR);
    const lines = [
      `Alder is running (all-in-one${embedded.names.length ? `, embedded ${embedded.names.join(' + ')} under ${config.DATA_DIR}` : ''})`,
      `  base URL:  ${host.url}`,
      `  API docs:  ${host.url}/docs`,
      config.ALDER_ADMIN_KEY
        ? '  admin key: the one in ALDER_ADMIN_KEY'
        : adminKey
          ? `  admin key: ${adminKey}${host.createdAdminKey ? ` (created now; also saved in ${config.DATA_DIR}/admin-key)` : ` (from ${config.DATA_DIR}/admin-key)`}`
          : '  admin key: created on an earlier start (only its hash is stored); make a new one with POST /v1/api-keys',
      '  stop:      Ctrl-C',
    ];
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
  } catch (error) {
    await failStart(start, 'alder start', error);
  }
}
