// The SSRF guard: where a webhook may be sent. In live, HTTPS only and never to loopback,
// private, link-local, carrier-grade NAT or cloud metadata addresses, checked at registration
// and again at every send on the address actually connected to (resolved once, then pinned),
// so a DNS answer that changes between the check and the connect cannot slip through.
// Sandbox allows loopback, private and plain HTTP by default so a local receiver works (never
// link-local or metadata addresses); an operator turns that off with
// webhooks.sandbox_allow_private_urls = false.
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Environment } from '../merchant.js';
import type { StablerailConfig } from '../config.js';
import { DomainError } from '../merchant.js';

export const URL_LENGTH_MAX = 2048;
/** A host resolving to more addresses than this is refused rather than checked forever. */
export const RESOLVED_ADDRESSES_MAX = 16;

export interface UrlPolicy {
  allowPrivate: boolean;
  requireHttps: boolean;
}

export function urlPolicy(environment: Environment, config: StablerailConfig): UrlPolicy {
  const open = environment === 'sandbox' && config.webhooks.sandbox_allow_private_urls;
  return { allowPrivate: open, requireHttps: !open };
}

// Never reachable, sandbox included: link-local (cloud metadata lives there) and the metadata
// addresses that sit elsewhere. A sandbox key must not turn the service into a metadata proxy.
const metadata = new BlockList();
metadata.addSubnet('169.254.0.0', 16, 'ipv4');
metadata.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud
metadata.addSubnet('fe80::', 10, 'ipv6');
metadata.addSubnet('fd00:ec2::', 32, 'ipv6'); // AWS IMDS over IPv6

// Not public: refused in live (and in sandbox when the operator turns private URLs off).
const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) internal.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32],
] as const) internal.addSubnet(net, prefix, 'ipv6');

function check(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 4) return list.check(address, 'ipv4');
  if (family === 6) {
    // IPv4-mapped IPv6 is judged by its IPv4.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    return mapped ? list.check(mapped[1]!, 'ipv4') : list.check(address, 'ipv6');
  }
  return true; // not an address at all
}

/** Whether a webhook may never reach this address (allowPrivate: loopback and private are fine; metadata never is). */
export function isForbiddenAddress(address: string, opts: { allowPrivate?: boolean } = {}): boolean {
  if (!isIP(address)) return true;
  return check(metadata, address) || (!opts.allowPrivate && check(internal, address));
}

/** Syntax and scheme: what can be decided without the network. */
export function parseEndpointUrl(raw: string, policy: UrlPolicy): URL {
  if (raw.length > URL_LENGTH_MAX) throw new DomainError('url_invalid', `url is longer than ${URL_LENGTH_MAX} characters`, 'url');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DomainError('url_invalid', 'url is not an absolute URL', 'url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DomainError('url_invalid', 'url must be http or https', 'url');
  if (policy.requireHttps && url.protocol !== 'https:') throw new DomainError('url_insecure', 'url must use https', 'url');
  if (url.username || url.password) throw new DomainError('url_invalid', 'url must not carry credentials', 'url');
  if (url.hash) throw new DomainError('url_invalid', 'url must not carry a fragment', 'url');
  return url;
}

export interface ResolvedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export class ForbiddenAddressError extends DomainError {
  constructor(host: string, address: string) {
    super('url_forbidden', `url host ${host} resolves to ${address}, which webhooks may not reach`, 'url');
  }
}

/** Resolve once, check every address, and answer the one to connect to. */
export async function resolveTarget(url: URL, policy: UrlPolicy): Promise<ResolvedTarget> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch (err) {
    throw new DomainError('url_unresolvable', `url host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'url');
  }
  if (addresses.length === 0) throw new DomainError('url_unresolvable', `url host ${host} has no address`, 'url');
  if (addresses.length > RESOLVED_ADDRESSES_MAX) throw new DomainError('url_forbidden', `url host ${host} resolves to too many addresses`, 'url');
  // Every address, not just the first: a host with one public and one private address is refused.
  for (const a of addresses) if (isForbiddenAddress(a.address, policy)) throw new ForbiddenAddressError(host, a.address);
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
