import { HarnessError } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import {
  canonicalHostname,
  classifyAddress,
  createAddressFilter,
  matchesHostPattern,
  parseHostPattern,
  parseHostPatterns,
  pinnedLookup,
  resolveChecked,
} from './net.ts';

const live = new AbortController().signal;

function matches(pattern: string, hostname: string): boolean {
  const parsed = parseHostPattern(pattern);
  if (parsed === undefined) throw new Error(`bad pattern ${pattern}`);
  const canonical = canonicalHostname(hostname);
  return canonical !== undefined && matchesHostPattern(parsed, canonical);
}

async function refusal(promise: Promise<unknown>): Promise<HarnessError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HarnessError);
  return error as HarnessError;
}

describe('hostnames and host patterns', () => {
  it('canonicalises case, a trailing dot, IDN names and numeric IPv4 forms', () => {
    expect(canonicalHostname('API.Example.COM.')).toBe('api.example.com');
    expect(canonicalHostname('bücher.example')).toBe('xn--bcher-kva.example');
    expect(canonicalHostname('2130706433')).toBe('127.0.0.1');
    expect(canonicalHostname('0x7f.1')).toBe('127.0.0.1');
    expect(canonicalHostname('0177.0.0.1')).toBe('127.0.0.1');
    expect(canonicalHostname('[::FFFF:127.0.0.1]')).toBe('::ffff:7f00:1');
    expect(canonicalHostname('evil.com/@good.com')).toBeUndefined();
    expect(canonicalHostname('')).toBeUndefined();
  });

  it('matches exact names and *.suffix subdomains, case-insensitively and ignoring a trailing dot', () => {
    expect(matches('api.example.com', 'API.example.com.')).toBe(true);
    expect(matches('api.example.com', 'example.com')).toBe(false);
    expect(matches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(matches('*.example.com', 'example.com')).toBe(false);
    expect(matches('*.example.com', 'badexample.com')).toBe(false);
    expect(matches('*.example.com', 'example.com.evil.net')).toBe(false);
  });

  it('matches an IP literal only by the same literal, never by a wildcard', () => {
    expect(matches('127.0.0.1', '0x7f.1')).toBe(true);
    expect(matches('::1', '[0:0::1]')).toBe(true);
    expect(parseHostPattern('*.0.0.1')).toBeUndefined();
    expect(matches('*.example.com', '127.0.0.1')).toBe(false);
  });

  it('names every pattern that does not parse', () => {
    expect(() => parseHostPatterns(['ok.example', 'http://x', 'a b'], 'allowHosts')).toThrow(
      /allowHosts: not a host pattern: "http:\/\/x", "a b"/,
    );
  });
});

describe('address classes', () => {
  it('S42: loopback, private, link-local, CGNAT, unspecified, multicast and broadcast IPv4 are not public (threat 22)', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['100.127.255.255', 'carrier-grade NAT'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.10', 'documentation'],
      ['198.18.0.1', 'benchmarking'],
    ];
    for (const [address, kind] of cases) expect(classifyAddress(address), address).toBe(kind);
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '172.15.255.255', '11.0.0.1']) {
      expect(classifyAddress(address), address).toBe('public');
    }
  });

  it('S42: IPv6 loopback, unique-local, link-local and the IPv4-in-IPv6 forms are not public (threat 22)', () => {
    const cases: [string, string][] = [
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::ffff:127.0.0.1', 'IPv4-mapped'],
      ['::ffff:7f00:1', 'IPv4-mapped'],
      ['::ffff:8.8.8.8', 'IPv4-mapped'],
      ['::127.0.0.1', 'IPv4-compatible'],
      ['::ffff:0:127.0.0.1', 'IPv4-translated'],
      ['64:ff9b::127.0.0.1', 'NAT64'],
      ['64:ff9b::a9fe:a9fe', 'NAT64'],
      ['64:ff9b:1::1', 'NAT64'],
      ['2002:7f00:1::1', '6to4'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['febf::1', 'link-local'],
      ['fec0::1', 'site-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['100::1', 'reserved'],
      ['4000::1', 'reserved'],
    ];
    for (const [address, kind] of cases) expect(classifyAddress(address), address).toBe(kind);
    for (const address of ['2606:4700:4700::1111', '2001:4860:4860::8888', '64:ff9b::8.8.8.8', '2002:808:808::1']) {
      expect(classifyAddress(address), address).toBe('public');
    }
  });

  it('does not classify what is not an IP address', () => {
    expect(classifyAddress('example.com')).toBeUndefined();
    expect(classifyAddress('127.1')).toBeUndefined();
    expect(classifyAddress('')).toBeUndefined();
  });
});

describe('address filter', () => {
  it('refuses every non-public address by default and allows public ones', () => {
    const filter = createAddressFilter();
    expect(filter('93.184.216.34')).toBeUndefined();
    expect(filter('127.0.0.1')).toBe('a loopback address');
    expect(filter('169.254.169.254')).toMatch(/link-local/);
    expect(filter('not-an-ip')).toMatch(/not an IP address/);
  });

  it('allows non-public addresses when told to, but never the unspecified, multicast or IPv4-mapped forms', () => {
    const filter = createAddressFilter(true);
    expect(filter('127.0.0.1')).toBeUndefined();
    expect(filter('10.0.0.1')).toBeUndefined();
    expect(filter('0.0.0.0')).toMatch(/unspecified/);
    expect(filter('::')).toMatch(/unspecified/);
    expect(filter('224.0.0.1')).toMatch(/multicast/);
    expect(filter('255.255.255.255')).toMatch(/broadcast/);
    expect(filter('::ffff:127.0.0.1')).toMatch(/IPv4-mapped/);
  });

  it('allows just the listed addresses and ranges when given a list', () => {
    const filter = createAddressFilter(['127.0.0.1', '10.1.0.0/16', 'fd00::/8']);
    expect(filter('127.0.0.1')).toBeUndefined();
    expect(filter('10.1.200.3')).toBeUndefined();
    expect(filter('fd00::5')).toBeUndefined();
    expect(filter('127.0.0.2')).toBe('a loopback address');
    expect(filter('10.2.0.1')).toBe('a private address');
    expect(filter('169.254.169.254')).toMatch(/link-local/);
    expect(() => createAddressFilter(['10.0.0.0/33'])).toThrow(/not an IP address or CIDR range: "10.0.0.0\/33"/);
    expect(() => createAddressFilter(['example.com'])).toThrow(HarnessError);
  });
});

describe('resolveChecked', () => {
  const filter = createAddressFilter();

  it('S42: one non-public address among the answers refuses the name, without naming the address (threat 22)', async () => {
    const error = await refusal(
      resolveChecked('mixed.example', {
        resolver: async () => ['93.184.216.34', '10.0.0.7'],
        filter,
        signal: live,
      }),
    );
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.message).toBe('host "mixed.example" resolves to a private address; refused');
    expect(error.message).not.toContain('10.0.0.7');
  });

  it('S42: an answer in IPv4-mapped or NAT64 form is refused like the address it embeds (threat 22)', async () => {
    for (const answer of ['::ffff:127.0.0.1', '64:ff9b::10.0.0.1', '::ffff:169.254.169.254']) {
      const error = await refusal(
        resolveChecked('sneaky.example', { resolver: async () => [answer], filter, signal: live }),
      );
      expect(error.code, answer).toBe('POLICY_DENIED');
    }
  });

  it('returns every checked address of a public name, and checks an IP literal without resolving it', async () => {
    let lookups = 0;
    const resolver = async () => {
      lookups++;
      return ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'];
    };
    expect(await resolveChecked('public.example', { resolver, filter, signal: live })).toEqual({
      hostname: 'public.example',
      addresses: ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    });
    expect(await resolveChecked('8.8.8.8', { resolver, filter, signal: live })).toEqual({
      hostname: '8.8.8.8',
      addresses: ['8.8.8.8'],
    });
    expect(lookups).toBe(1);
    const error = await refusal(resolveChecked('127.0.0.1', { resolver, filter, signal: live }));
    expect(error.message).toBe('host "127.0.0.1" is a loopback address; refused');
  });

  it('reports resolution failures and empty answers as TOOL_ERROR with the code only', async () => {
    const failing = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example /etc/hosts'), { code: 'ENOTFOUND' });
    };
    const error = await refusal(resolveChecked('nowhere.example', { resolver: failing, filter, signal: live }));
    expect(error.code).toBe('TOOL_ERROR');
    expect(error.message).toBe('host "nowhere.example" could not be resolved (ENOTFOUND)');
    const empty = await refusal(resolveChecked('empty.example', { resolver: async () => [], filter, signal: live }));
    expect(empty.message).toMatch(/did not resolve to any address/);
  });

  it('stops waiting for the resolver when the signal fires', async () => {
    const controller = new AbortController();
    const pending = resolveChecked('slow.example', {
      resolver: () => new Promise(() => {}),
      filter,
      signal: controller.signal,
    });
    controller.abort(new HarnessError('CANCELLED', 'stop'));
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('pinnedLookup', () => {
  it('S42: answers with the pinned address whatever name is asked, in both callback forms (threat 22)', async () => {
    const lookupFn = pinnedLookup('203.0.113.9') as unknown as (
      hostname: string,
      options: { all?: boolean },
      callback: (...args: unknown[]) => void,
    ) => void;
    const single = await new Promise<unknown[]>((resolve) =>
      lookupFn('rebind.example', {}, (...args) => resolve(args)),
    );
    expect(single).toEqual([null, '203.0.113.9', 4]);
    const all = await new Promise<unknown[]>((resolve) =>
      lookupFn('other.example', { all: true }, (...args) => resolve(args)),
    );
    expect(all).toEqual([null, [{ address: '203.0.113.9', family: 4 }]]);
  });
});
