import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** Which addresses a webhook may be sent to (WEBHOOK_ALLOW_PRIVATE_TARGETS, WEBHOOK_ALLOWED_CIDRS). */
export interface TargetPolicy {
  allowPrivate: boolean;
  /** Ranges allowed even when private ones are not (an operator's internal receivers). */
  allowed: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export function targetPolicy(config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: boolean; WEBHOOK_ALLOWED_CIDRS: readonly string[] }): TargetPolicy {
  return { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS, allowed: config.WEBHOOK_ALLOWED_CIDRS.map((cidr) => ipaddr.parseCIDR(cidr)) };
}

/** A target the policy refuses; `message` says which address and why, for the delivery log. */
export class TargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

/**
 * Why the policy refuses an address, or null when it may be reached. Everything but public
 * unicast is refused (private, loopback, link-local, unique-local, CGNAT, multicast, reserved,
 * unspecified, ...); an IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 */
export function addressRefusal(address: string, policy: TargetPolicy): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range === 'unicast' || policy.allowPrivate) return null;
  if (policy.allowed.some(([net, bits]) => net.kind() === parsed.kind() && parsed.match(net, bits))) return null;
  return `${address} is a ${range} address (WEBHOOK_ALLOW_PRIVATE_TARGETS is off)`;
}

/** Why a URL can not be a target before any DNS (scheme, credentials, an IP literal refused), or null. */
export function urlRefusal(url: URL, policy: TargetPolicy): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} is not http or https`;
  if (url.username || url.password) return 'a webhook URL carries no user or password';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(host) ? addressRefusal(host, policy) : null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect that resolves the name and refuses it when any of its addresses is
 * refused. The check is on the addresses the socket then connects to, so a name that resolves
 * differently between a check and the connection (DNS rebinding) can not slip through. (An IP
 * literal is never looked up: urlRefusal judges it.)
 */
export function guardedLookup(policy: TargetPolicy, resolve: typeof dnsLookup = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const refused = list.map((a) => addressRefusal(a.address, policy)).find((why) => why !== null);
      if (refused) return callback(Object.assign(new TargetRefusedError(`${hostname} resolves to ${refused}`), { code: 'ETARGETREFUSED' }), []);
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** Resolves a URL's host now and says why it is refused, or null: the check at subscription time. */
export async function resolvedRefusal(url: URL, policy: TargetPolicy): Promise<string | null> {
  const early = urlRefusal(url, policy);
  if (early) return early;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return null;
  return new Promise((resolve) => {
    guardedLookup(policy)(host, { all: true }, (error) => {
      if (!error) return resolve(null);
      resolve(error instanceof TargetRefusedError ? error.message : `${host} does not resolve (${error.code ?? error.message})`);
    });
  });
}
