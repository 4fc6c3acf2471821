import type { Operation } from './operations';

/** The most values kept per name: the newest, so deleted things age out. */
const KEPT = 24;

/**
 * Ids that exist in the running app, by path parameter name (`project_id`, `task_id`, ...):
 * seeded first, then learnt from every 2xx answer. Requests name them by position (a generated
 * index), so a request replays the same way from a seed while the ids themselves come from the
 * run. Some values are never offered (the fuzzer's own admin user and key: demoting or revoking
 * them would end the run's access), and the first value of each name, seeded, is never offered to
 * a DELETE, so the seeded project, integration and subscription stay for the whole run.
 */
export class KnownValues {
  private readonly byName = new Map<string, string[]>();
  /** Signing secrets of integrations, by integration id (create and rotate answer them). */
  readonly secrets = new Map<string, string>();

  constructor(
    private readonly pathNames: ReadonlySet<string>,
    private readonly never: ReadonlySet<string>,
  ) {}

  add(name: string, value: unknown): void {
    if ((typeof value !== 'string' && typeof value !== 'number') || !this.pathNames.has(name)) return;
    const text = String(value);
    if (this.never.has(text)) return;
    const values = this.byName.get(name) ?? [];
    if (values.includes(text)) return;
    values.push(text);
    // The first (seeded) value stays; the oldest learnt one goes.
    if (values.length > KEPT) values.splice(1, 1);
    this.byName.set(name, values);
  }

  /** The value at `index` (modulo how many are known) for a request of `method`; undefined when none is known. */
  pick(name: string, index: number, method: string): string | undefined {
    const values = this.byName.get(name) ?? [];
    const offered = method === 'DELETE' ? values.slice(1) : values;
    return offered.length ? offered[index % offered.length] : undefined;
  }

  /** Forgets a value (what a DELETE answered 2xx for is gone). */
  forget(name: string, value: string): void {
    const values = this.byName.get(name);
    const at = values?.indexOf(value) ?? -1;
    if (values && at > 0) values.splice(at, 1);
  }

  /**
   * What a 2xx answer tells of ids: every `*_id` and `version` field in it, and `id` as what its
   * path names; after a DELETE of a resource (`/v1/projects/{project_id}`, not a membership
   * `/members/{user_id}`), that its id names nothing any more.
   */
  learn(operation: Operation, pathValues: Record<string, string>, body: unknown): void {
    if (operation.method === 'DELETE') {
      const deleted = /\/([^/{}]+)\/\{([^}]+)\}$/.exec(operation.path);
      if (deleted && idNameOf(`/${deleted[1]}`) === deleted[2] && pathValues[deleted[2]!] !== undefined) this.forget(deleted[2]!, pathValues[deleted[2]!]!);
      return;
    }
    const named = idNameOf(operation.path);
    const walk = (value: unknown, depth: number, top: boolean): void => {
      if (depth > 3 || value === null || typeof value !== 'object') return;
      if (Array.isArray(value)) return value.forEach((item) => walk(item, depth + 1, top));
      const record = value as Record<string, unknown>;
      for (const [key, item] of Object.entries(record)) {
        if (key.endsWith('_id') || key === 'version') this.add(key, item);
        else if (key === 'id' && top && named) this.add(named, item);
        // A list's items are of the path's kind too ({ data: [...] }).
        walk(item, depth + 1, top && key === 'data');
      }
      const secret = record.secret;
      const integration = named === 'integration_id' && top ? record.id : pathValues.integration_id;
      if (typeof secret === 'string' && typeof integration === 'string' && (named === 'integration_id' || operation.path.startsWith('/v1/integrations/'))) {
        this.secrets.set(integration, secret);
      }
    };
    walk(body, 0, true);
  }
}

/** The path parameter an answer's `id` is: the last fixed segment of the path, singular (`/v1/api-keys` → `key_id`). */
function idNameOf(path: string): string | undefined {
  const fixed = path.split('/').filter((segment) => segment && !segment.startsWith('{'));
  const last = fixed.at(-1);
  if (!last || !last.endsWith('s')) return undefined;
  const singular = (last.endsWith('ies') ? `${last.slice(0, -3)}y` : last.slice(0, -1)).replace(/-/g, '_');
  return `${singular === 'api_key' ? 'key' : singular}_id`;
}
