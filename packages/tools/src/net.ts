/**
 * Address checks for the tools that open network connections (THREATS item 22, server-side
 * request forgery): host patterns, the classification of IP addresses into public and the ranges a
 * request from the host must never reach, and the one resolution per connection whose answer is
 * then pinned.
 *
 * A hostname is resolved once, every address it resolves to is checked, and the connection goes
 * to one of exactly those addresses (`pinnedLookup`): a DNS answer that changes between the check
 * and the connect (rebinding) is never asked for, so it cannot matter.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { HarnessError } from '@script-harness/core';

/** Resolves a hostname to every IP address it names (textual form), in the order to try them. */
export type HostResolver = (hostname: string) => Promise<readonly string[]>;

/** A parsed allowlist entry: an exact hostname or IP literal, or `*.suffix` for subdomains. */
export interface HostPattern {
  /** True for `*.suffix`: matches subdomains of `name` at any depth, not `name` itself. */
  readonly wildcard: boolean;
  /** Canonical hostname (the suffix, for a wildcard). */
  readonly name: string;
}

/**
 * Why an address is not public. `public` is an ordinary internet address; every other class is
 * refused unless the operator allowed non-public addresses.
 */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'carrier-grade NAT'
  | 'link-local'
  | 'unique-local'
  | 'site-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'IPv4-mapped'
  | 'IPv4-compatible'
  | 'IPv4-translated'
  | 'NAT64'
  | '6to4'
  | 'Teredo';

/**
 * Classes refused even when non-public addresses are allowed: none of them names one host a
 * request could mean. The unspecified address reaches the local machine on most systems, and the
 * IPv4-in-IPv6 forms are other spellings of an IPv4 address that should be written as such.
 */
const ALWAYS_REFUSED: ReadonlySet<AddressClass> = new Set([
  'unspecified',
  'multicast',
  'broadcast',
  'IPv4-mapped',
  'IPv4-compatible',
  'IPv4-translated',
]);

/** Longest hostname accepted (253 octets in DNS, plus room for a trailing dot and brackets). */
const MAX_HOSTNAME_LENGTH = 256;

/** Characters that never occur in a hostname but do in the rest of a URL. */
const NOT_IN_HOSTNAME = /[\s/\\?#@:%*[\]<>^|"'`{}]/;

/**
 * The canonical form of a hostname as WHATWG URL parsing gives it: lower case, punycode, IPv4 in
 * dotted-decimal form (so `0x7f.1` is `127.0.0.1`), IPv6 compressed and without brackets, and no
 * trailing dot. `undefined` when the input is not a hostname.
 */
export function canonicalHostname(input: string): string | undefined {
  if (input.length === 0 || input.length > MAX_HOSTNAME_LENGTH) return undefined;
  const unbracketed = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (isIPv6(unbracketed)) {
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
  return hostnameOfParsedUrl(hostname);
}

/**
 * The canonical hostname of an already parsed URL's `hostname`: brackets of an IPv6 literal and
 * a trailing dot removed. `undefined` when nothing is left.
 */
export function hostnameOfParsedUrl(hostname: string): string | undefined {
  let name = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '' || name.startsWith('.') || name.includes('..')) return undefined;
  return name;
}

/** Parses an allowlist entry; `undefined` when it is not a hostname, `*.` and a hostname, or an IP literal. */
export function parseHostPattern(pattern: string): HostPattern | undefined {
  const wildcard = pattern.startsWith('*.');
  const name = canonicalHostname(wildcard ? pattern.slice(2) : pattern);
  if (name === undefined) return undefined;
  // `*.0.0.1` would read as "addresses ending in 0.1"; addresses are only ever listed exactly.
  if (wildcard && isIP(name) !== 0) return undefined;
  return { wildcard, name };
}

/** Whether a canonical hostname matches a pattern. An IP literal matches only the same literal. */
export function matchesHostPattern(pattern: HostPattern, hostname: string): boolean {
  if (isIP(hostname) !== 0) return !pattern.wildcard && pattern.name === hostname;
  return pattern.wildcard ? hostname.endsWith(`.${pattern.name}`) : hostname === pattern.name;
}

/** Parses every pattern of an allowlist, throwing `INVALID_REQUEST` that names the ones that do not parse. */
export function parseHostPatterns(patterns: readonly string[], what: string): HostPattern[] {
  const parsed: HostPattern[] = [];
  const invalid: string[] = [];
  for (const pattern of patterns) {
    const result = typeof pattern === 'string' ? parseHostPattern(pattern) : undefined;
    if (result === undefined) invalid.push(JSON.stringify(pattern));
    else parsed.push(result);
  }
  if (invalid.length > 0) {
    throw new HarnessError(
      'INVALID_REQUEST',
      `${what}: not a host pattern: ${invalid.join(', ')} (write a hostname, "*." and a hostname, or an IP address)`,
    );
  }
  return parsed;
}

/** Classifies an IP address (textual form); `undefined` when it is not one. */
export function classifyAddress(address: string): AddressClass | undefined {
  const zoneless = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  if (isIPv4(zoneless)) return classifyIPv4(ipv4ToNumber(zoneless));
  if (isIPv6(zoneless)) {
    const groups = parseIPv6(zoneless);
    return groups === undefined ? undefined : classifyIPv6(groups);
  }
  return undefined;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function inIPv4Range(value: number, network: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  const start = ipv4ToNumber(network);
  return value >= start && value < start + size;
}

function classifyIPv4(value: number): AddressClass {
  if (value === 0xffffffff) return 'broadcast';
  if (inIPv4Range(value, '0.0.0.0', 8)) return 'unspecified';
  if (inIPv4Range(value, '127.0.0.0', 8)) return 'loopback';
  if (inIPv4Range(value, '10.0.0.0', 8)) return 'private';
  if (inIPv4Range(value, '172.16.0.0', 12)) return 'private';
  if (inIPv4Range(value, '192.168.0.0', 16)) return 'private';
  if (inIPv4Range(value, '100.64.0.0', 10)) return 'carrier-grade NAT';
  // Cloud metadata endpoints (169.254.169.254 and friends) live here.
  if (inIPv4Range(value, '169.254.0.0', 16)) return 'link-local';
  if (inIPv4Range(value, '224.0.0.0', 4)) return 'multicast';
  if (inIPv4Range(value, '192.0.2.0', 24)) return 'documentation';
  if (inIPv4Range(value, '198.51.100.0', 24)) return 'documentation';
  if (inIPv4Range(value, '203.0.113.0', 24)) return 'documentation';
  if (inIPv4Range(value, '198.18.0.0', 15)) return 'benchmarking';
  // IETF protocol assignments, the retired 6to4 relay anycast, and the old class E space.
  if (inIPv4Range(value, '192.0.0.0', 24)) return 'reserved';
  if (inIPv4Range(value, '192.88.99.0', 24)) return 'reserved';
  if (inIPv4Range(value, '240.0.0.0', 4)) return 'reserved';
  return 'public';
}

/** The eight 16-bit groups of an IPv6 address (which `isIPv6` has accepted), an embedded IPv4 tail included. */
function parseIPv6(address: string): number[] | undefined {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  // An embedded dotted IPv4 tail (`::ffff:127.0.0.1`) is the last two groups written another way.
  if (last.includes('.')) {
    if (!isIPv4(last)) return undefined;
    const value = ipv4ToNumber(last);
    text = `${text.slice(0, lastColon + 1)}${Math.floor(value / 0x10000).toString(16)}:${(value % 0x10000).toString(16)}`;
  }
  const toGroups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  let groups: number[];
  const gap = text.indexOf('::');
  if (gap === -1) {
    groups = toGroups(text);
  } else {
    const head = toGroups(text.slice(0, gap));
    const rest = toGroups(text.slice(gap + 2));
    const fill = 8 - head.length - rest.length;
    if (fill < 0) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  }
  if (groups.length !== 8 || groups.some((group) => !Number.isInteger(group) || group < 0 || group > 0xffff)) {
    return undefined;
  }
  return groups;
}

function classifyIPv6(groups: readonly number[]): AddressClass {
  const g = (index: number): number => groups[index] as number;
  const zeroUpTo = (end: number): boolean => groups.slice(0, end).every((group) => group === 0);
  const embeddedV4 = (high: number, low: number): number => high * 0x10000 + low;

  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g(7) === 1) return 'loopback';
  if (zeroUpTo(5) && g(5) === 0xffff) return 'IPv4-mapped';
  if (zeroUpTo(4) && g(4) === 0xffff && g(5) === 0) return 'IPv4-translated';
  if (zeroUpTo(6)) return 'IPv4-compatible';
  // NAT64 well-known prefix: the gateway forwards to the embedded IPv4 address, so that address decides.
  if (g(0) === 0x64 && g(1) === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) {
    return classifyIPv4(embeddedV4(g(6), g(7))) === 'public' ? 'public' : 'NAT64';
  }
  // NAT64 local-use prefix: a translator inside some network, for that network's own hosts.
  if (g(0) === 0x64 && g(1) === 0xff9b && g(2) === 1) return 'NAT64';
  if (g(0) === 0x100 && g(1) === 0 && g(2) === 0 && g(3) === 0) return 'reserved';
  // Teredo tunnels to a relay chosen by the address itself; never a server's address.
  if (g(0) === 0x2001 && g(1) === 0) return 'Teredo';
  if (g(0) === 0x2001 && g(1) === 0x0db8) return 'documentation';
  if (g(0) === 0x2001 && (g(1) & 0xfff0) === 0x0010) return 'reserved';
  // 6to4 carries its IPv4 gateway in the next 32 bits; a non-public one is as bad as the address itself.
  if (g(0) === 0x2002) return classifyIPv4(embeddedV4(g(1), g(2))) === 'public' ? 'public' : '6to4';
  if ((g(0) & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g(0) & 0xffc0) === 0xfe80) return 'link-local';
  if ((g(0) & 0xffc0) === 0xfec0) return 'site-local';
  if ((g(0) & 0xff00) === 0xff00) return 'multicast';
  // Only 2000::/3 is handed out for global unicast; the rest of the space is unassigned.
  if ((g(0) & 0xe000) !== 0x2000) return 'reserved';
  return 'public';
}

const CLASS_PHRASES: Readonly<Record<Exclude<AddressClass, 'public'>, string>> = {
  unspecified: 'the unspecified address',
  loopback: 'a loopback address',
  private: 'a private address',
  'carrier-grade NAT': 'a carrier-grade NAT address',
  'link-local': 'a link-local address (where cloud metadata endpoints live)',
  'unique-local': 'a unique-local address',
  'site-local': 'a site-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  documentation: 'a documentation address',
  benchmarking: 'a benchmarking address',
  'IPv4-mapped': 'an IPv4-mapped IPv6 address',
  'IPv4-compatible': 'an IPv4-compatible IPv6 address',
  'IPv4-translated': 'an IPv4-translated IPv6 address',
  NAT64: 'a NAT64 address of a non-public IPv4 host',
  '6to4': 'a 6to4 address of a non-public IPv4 gateway',
  Teredo: 'a Teredo tunnel address',
};

/** "a loopback address", "a private address", ...: the class named in refusals, never the address itself. */
export function describeAddressClass(kind: Exclude<AddressClass, 'public'>): string {
  return CLASS_PHRASES[kind];
}

/**
 * Which non-public addresses may be reached anyway: `false` (none, the default), `true` (all but
 * the always-refused classes), or a list of addresses and CIDR ranges (`127.0.0.1`,
 * `10.1.0.0/16`, `fd00::/8`) for a known internal service.
 */
export type PrivateAddressAllowance = boolean | readonly string[];

/** Decides whether a connection may go to one address: `undefined` when it may, else the reason. */
export type AddressFilter = (address: string) => string | undefined;

export function createAddressFilter(allowance: PrivateAddressAllowance = false): AddressFilter {
  const exceptions = typeof allowance === 'boolean' ? undefined : parseAddressList(allowance);
  return (address) => {
    const kind = classifyAddress(address);
    if (kind === undefined) return 'an address that is not an IP address';
    if (kind === 'public') return undefined;
    if (ALWAYS_REFUSED.has(kind)) return describeAddressClass(kind);
    if (allowance === true) return undefined;
    if (exceptions !== undefined) {
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (exceptions.check(address.split('%')[0] as string, family)) return undefined;
    }
    return describeAddressClass(kind);
  };
}

function parseAddressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const entry of entries) {
    const [network = '', prefixText, ...extra] = typeof entry === 'string' ? entry.split('/') : [''];
    const family = isIP(network);
    const maxPrefix = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
    if (family === 0 || extra.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
      invalid.push(JSON.stringify(entry));
      continue;
    }
    list.addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  if (invalid.length > 0) {
    throw new HarnessError(
      'INVALID_REQUEST',
      `allowPrivateAddresses: not an IP address or CIDR range: ${invalid.join(', ')}`,
    );
  }
  return list;
}

/** The system resolver (`getaddrinfo`, so `/etc/hosts` counts): every address, in the order given. */
export const systemResolver: HostResolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, order: 'verbatim' });
  return answers.map((answer) => answer.address);
};

export interface CheckedDestination {
  /** The hostname as the request names it (canonical). */
  readonly hostname: string;
  /** Every address the hostname resolved to, all of them checked; connect to these only. */
  readonly addresses: readonly string[];
}

export interface ResolveOptions {
  readonly resolver: HostResolver;
  readonly filter: AddressFilter;
  readonly signal: AbortSignal;
}

/**
 * Resolves `hostname` once and checks every address it names: one non-public address refuses the
 * whole name (`POLICY_DENIED`), since the connection could otherwise be steered to it. An IP
 * literal is checked as it is. Refusals name the host and the class of address, never the address.
 */
export async function resolveChecked(hostname: string, options: ResolveOptions): Promise<CheckedDestination> {
  const { resolver, filter, signal } = options;
  signal.throwIfAborted();
  if (isIP(hostname) !== 0) {
    const refusal = filter(hostname);
    if (refusal !== undefined) throw denied(`host ${JSON.stringify(hostname)} is ${refusal}; refused`);
    return { hostname, addresses: [hostname] };
  }
  let addresses: readonly string[];
  try {
    addresses = await abortable(resolver(hostname), signal);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof HarnessError) throw error;
    throw new HarnessError('TOOL_ERROR', `host ${JSON.stringify(hostname)} could not be resolved${codeSuffix(error)}`);
  }
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw new HarnessError('TOOL_ERROR', `host ${JSON.stringify(hostname)} did not resolve to any address`);
  }
  for (const address of addresses) {
    const refusal = typeof address === 'string' ? filter(address) : 'an address that is not an IP address';
    if (refusal !== undefined) throw denied(`host ${JSON.stringify(hostname)} resolves to ${refusal}; refused`);
  }
  return { hostname, addresses: [...addresses] };
}

/**
 * A `lookup` for `http.request` and `net.connect` that answers with the one checked address,
 * whatever name it is asked about, so the connection cannot go anywhere DNS says later.
 */
export function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    // Node asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily); answer in kind.
    if (typeof options === 'object' && options !== null && options.all === true) {
      process.nextTick(callback, null, [{ address, family }]);
    } else {
      process.nextTick(callback, null, address, family);
    }
  }) as LookupFunction;
}

function denied(message: string): HarnessError {
  return new HarnessError('POLICY_DENIED', message);
}

function codeSuffix(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? ` (${code})` : '';
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
