import { HarnessError } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { isPrivateAddress } from './hosts.ts';
import {
  FilePolicySchema,
  isHostAllowed,
  NetworkPolicySchema,
  parseFilePolicy,
  parseNetworkPolicy,
} from './resources.ts';

describe('isHostAllowed', () => {
  const policy = parseNetworkPolicy({ allowHosts: ['api.example.com', '*.cdn.example.net', '93.184.216.34'] });

  it('matches listed names exactly, case-insensitively, ignoring a trailing dot', () => {
    expect(isHostAllowed(policy, 'api.example.com')).toBe(true);
    expect(isHostAllowed(policy, 'API.Example.COM')).toBe(true);
    expect(isHostAllowed(policy, 'api.example.com.')).toBe(true);
    expect(isHostAllowed(policy, 'example.com')).toBe(false);
    expect(isHostAllowed(policy, 'v2.api.example.com')).toBe(false);
  });

  it('"*.suffix" matches subdomains at any depth, never the suffix itself', () => {
    expect(isHostAllowed(policy, 'img.cdn.example.net')).toBe(true);
    expect(isHostAllowed(policy, 'a.b.cdn.example.net')).toBe(true);
    expect(isHostAllowed(policy, 'cdn.example.net')).toBe(false);
    expect(isHostAllowed(policy, 'evilcdn.example.net')).toBe(false);
    expect(isHostAllowed(policy, 'cdn.example.net.evil.example')).toBe(false);
  });

  it('S45: IP literals are allowed only when listed exactly, in any spelling', () => {
    expect(isHostAllowed(policy, '93.184.216.34')).toBe(true);
    expect(isHostAllowed(policy, '93.184.216.35')).toBe(false);
    // The same address written as one number still is the listed address.
    expect(isHostAllowed(policy, String(93 * 2 ** 24 + 184 * 2 ** 16 + 216 * 2 ** 8 + 34))).toBe(true);
    const wildcardOnly = parseNetworkPolicy({ allowHosts: ['*.example.com'] });
    expect(isHostAllowed(wildcardOnly, '1.2.3.4')).toBe(false);
    expect(isHostAllowed(wildcardOnly, '::1')).toBe(false);
  });

  it('S45: private addresses are refused even when listed, unless allowed', () => {
    const listed = { allowHosts: ['127.0.0.1', '10.0.0.8', '::1', '169.254.169.254'] };
    for (const host of ['127.0.0.1', '10.0.0.8', '::1', '[::1]', '169.254.169.254', '0x7f.1']) {
      expect(isHostAllowed(listed, host), host).toBe(false);
    }
    const permissive = { ...listed, denyPrivateAddresses: false };
    expect(isHostAllowed(permissive, '10.0.0.8')).toBe(true);
    expect(isHostAllowed(permissive, '[::1]')).toBe(true);
  });

  it('S45: strings that are not hostnames are refused', () => {
    const any = { allowHosts: ['api.example.com'] };
    for (const host of [
      '',
      'api.example.com/evil',
      'evil.example@api.example.com',
      'api.example.com:443',
      ' api.example.com',
      'api..example.com',
      '*.example.com',
    ]) {
      expect(isHostAllowed(any, host), JSON.stringify(host)).toBe(false);
    }
  });

  it('compares IDN names in their ASCII form', () => {
    const idn = parseNetworkPolicy({ allowHosts: ['bücher.example'] });
    expect(isHostAllowed(idn, 'xn--bcher-kva.example')).toBe(true);
    expect(isHostAllowed(idn, 'BÜCHER.example')).toBe(true);
  });
});

describe('isPrivateAddress', () => {
  it('knows the non-public ranges', () => {
    for (const address of [
      '0.0.0.0',
      '10.1.2.3',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.169.254',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '224.0.0.1',
      '::',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:8.8.8.8',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '93.184.216.34', '2606:4700::1111', 'example.com']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });
});

describe('schemas', () => {
  it('a network policy fills in denyPrivateAddresses and validates header templates', () => {
    expect(NetworkPolicySchema.parse({ allowHosts: [] })).toEqual({ allowHosts: [], denyPrivateAddresses: true });
    const parsed = parseNetworkPolicy({
      allowHosts: ['api.example.com'],
      headerTemplates: { 'api.example.com': { Authorization: 'Bearer {{secrets.apiToken}}' } },
    });
    expect(parsed.headerTemplates?.['api.example.com']).toEqual({ Authorization: 'Bearer {{secrets.apiToken}}' });
  });

  it('an invalid network policy lists every problem', () => {
    let caught: unknown;
    try {
      parseNetworkPolicy({
        allowHosts: ['*', 'ok.example', 'https://x.example'],
        headerTemplates: { 'ok.example': { 'Bad Header': 'x', 'X-Fine': 'a\r\nInjected: 1' } },
        allowAll: true,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HarnessError);
    const problems = (caught as HarnessError).details?.problems as string[];
    expect(problems.map((problem) => problem.split(':')[0])).toEqual([
      'networkPolicy.allowHosts[0]',
      'networkPolicy.allowHosts[2]',
      'networkPolicy.headerTemplates.ok.example.Bad Header',
      'networkPolicy.headerTemplates.ok.example.X-Fine',
      'networkPolicy',
    ]);
  });

  it('a file policy needs roots and defaults to writable', () => {
    expect(FilePolicySchema.parse({ roots: ['workspace'] })).toEqual({ roots: ['workspace'], readOnly: false });
    expect(parseFilePolicy({ roots: ['a', 'b'], readOnly: true }).readOnly).toBe(true);
    expect(() => parseFilePolicy({ roots: [] })).toThrow(/filePolicy\.roots/);
    expect(() => parseFilePolicy({ roots: ['a'], writable: true })).toThrow(/Unrecognized key/);
  });
});
