/**
 * Hostnames and host patterns, shared by the `hosts` condition of rules and by `NetworkPolicy`.
 *
 * A pattern is either a hostname (`api.example.com`, an IP literal) that matches exactly, or
 * `*.` followed by a hostname (`*.example.com`) that matches its subdomains at any depth but not
 * the name itself. Comparison is case-insensitive and ignores a trailing dot; IDN names compare in
 * their ASCII (punycode) form, and IPv4 literals in dotted-decimal form, so `0x7f.1` is
 * `127.0.0.1`. An IP literal is matched only by a pattern that is the same literal: wildcards never
 * match addresses.
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

export interface HostPattern {
  /** True for `*.suffix`: matches subdomains of `name` only. */
  readonly wildcard: boolean;
  /** Canonical hostname (the suffix, for a wildcard). */
  readonly name: string;
}

/** Longest hostname accepted (253 octets in DNS, plus room for a trailing dot and brackets). */
const MAX_HOSTNAME_LENGTH = 256;

/**
 * Characters that never occur in a hostname but do in the rest of a URL. Refusing them keeps a
 * string such as `evil.com/@good.com` from being read as some other host.
 */
const NOT_IN_HOSTNAME = /[\s/\\?#@:%*[\]<>^|"'`{}]/;

/**
 * The canonical form of a hostname: lower case, punycode, no trailing dot, IPv6 without brackets
 * and compressed, IPv4 in dotted-decimal form. `undefined` when the input is not a hostname.
 */
export function canonicalHostname(input: string): string | undefined {
  if (input.length === 0 || input.length > MAX_HOSTNAME_LENGTH) return undefined;
  const unbracketed = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (isIP(unbracketed) === 6) {
    try {
      return new URL(`http://[${unbracketed}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  if (NOT_IN_HOSTNAME.test(input)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${input}/`).hostname;
  } catch {
    return undefined;
  }
  if (hostname.endsWith('.')) hostname = hostname.slice(0, -1);
  if (hostname === '' || hostname.startsWith('.') || hostname.includes('..')) return undefined;
  return hostname;
}

/** Parses a host pattern; `undefined` when it is not one (the schemas report that as an issue). */
export function parseHostPattern(pattern: string): HostPattern | undefined {
  const wildcard = pattern.startsWith('*.');
  const name = canonicalHostname(wildcard ? pattern.slice(2) : pattern);
  if (name === undefined) return undefined;
  // `*.0.0.1` would read as "addresses ending in 0.1"; addresses are only ever listed exactly.
  if (wildcard && isIP(name) !== 0) return undefined;
  return { wildcard, name };
}

/** Whether a canonical hostname (see `canonicalHostname`) matches a parsed pattern. */
export function hostMatches(pattern: HostPattern, hostname: string): boolean {
  if (isIP(hostname) !== 0) return !pattern.wildcard && pattern.name === hostname;
  return pattern.wildcard ? hostname.endsWith(`.${pattern.name}`) : hostname === pattern.name;
}

/** The hostname of a URL in canonical form; `undefined` when it has none or does not parse. */
export function hostnameOfUrl(url: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return undefined;
  }
  return hostname === '' ? undefined : canonicalHostname(hostname);
}

/**
 * Address ranges that are not publicly routable: unspecified, loopback, private, carrier-grade
 * NAT, link-local (cloud metadata endpoints live there), benchmarking, documentation, multicast
 * and reserved. IPv4-mapped and NAT64 IPv6 addresses are all in the list: they reach an IPv4
 * host that this check would otherwise have to decode.
 */
// Two lists: a BlockList also checks IPv4 addresses against IPv6 rules (through their mapped
// form), so one list holding `::ffff:0:0/96` would call every IPv4 address non-public.
const NON_PUBLIC_V4 = new BlockList();
const NON_PUBLIC_V6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC_V4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC_V6.addSubnet(network, prefix, 'ipv6');
}

/**
 * Whether an IP address is outside the public internet (see the ranges above). Anything that is not
 * an IP literal returns false: names are checked after they resolve, by whoever connects.
 */
export function isPrivateAddress(address: string): boolean {
  const canonical = canonicalHostname(address);
  if (canonical === undefined) return false;
  const family = isIP(canonical);
  if (family === 0) return false;
  return family === 4 ? NON_PUBLIC_V4.check(canonical, 'ipv4') : NON_PUBLIC_V6.check(canonical, 'ipv6');
}

/** A host pattern in a schema: `api.example.com`, `*.example.com` or an IP literal. */
export const HostPatternSchema = z.string().refine((pattern) => parseHostPattern(pattern) !== undefined, {
  error: (issue) =>
    `not a host pattern: ${JSON.stringify(issue.input)} (write a hostname, "*." and a hostname, or an IP address)`,
});
