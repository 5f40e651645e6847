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
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) internal.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32],
  ['100::', 64], // discard-only
  ['64:ff9b:1::', 48], // local-use NAT64: its IPv4 can sit anywhere, so the whole prefix is internal
] as const) internal.addSubnet(net, prefix, 'ipv6');

/** An IPv6 address (zone id allowed, dotted IPv4 tail allowed) as its 16 bytes, or null. */
export function ipv6Bytes(address: string): number[] | null {
  let a = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(a) !== 6) return null;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (tail) {
    const [w, x, y, z] = tail[1]!.split('.').map(Number) as [number, number, number, number];
    a = `${a.slice(0, -tail[1]!.length)}${((w << 8) | x).toString(16)}:${((y << 8) | z).toString(16)}`;
  }
  const [head, rest] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const words = (part: string) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = words(head);
  const right = rest === undefined ? [] : words(rest);
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((word) => [word >> 8, word & 0xff]);
}

const v4 = (b: number[], at: number, xor = 0) => b.slice(at, at + 4).map((x) => (x ^ xor) & 0xff).join('.');
const zero = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/**
 * The IPv4 addresses an IPv6 address carries, by which it is judged: IPv4-compatible
 * (::a.b.c.d), IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64
 * (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32: its server, and its client stored
 * inverted). A router on the way would deliver such an address to that IPv4 host.
 */
export function embeddedIPv4(address: string): string[] {
  const b = ipv6Bytes(address);
  if (!b) return [];
  if (zero(b, 0, 10) && ((b[10] === 0 && b[11] === 0) || (b[10] === 0xff && b[11] === 0xff))) return [v4(b, 12)];
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return [v4(b, 12)];
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(b, 4, 12)) return [v4(b, 12)];
  if (b[0] === 0x20 && b[1] === 0x02) return [v4(b, 2)];
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return [v4(b, 4), v4(b, 12, 0xff)];
  return [];
}

function check(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 4) return list.check(address, 'ipv4');
  if (family === 6) return embeddedIPv4(address).some((a) => list.check(a, 'ipv4')) || list.check(address.replace(/%.*$/, ''), 'ipv6');
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
