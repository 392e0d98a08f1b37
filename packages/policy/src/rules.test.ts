import { HarnessError, type PolicyDecision, type PolicyEngine, type ToolCallRequest } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { createRulePolicy, DEFAULT_RULES, layerPolicies, type PolicyRule, parsePolicyRules } from './rules.ts';

function call(tool: string, args: unknown = {}, toolRequiresApproval = false): ToolCallRequest {
  return { scriptId: 'script-1', callId: '1', sequence: 1, tool, args, toolRequiresApproval };
}

function decide(policy: PolicyEngine, request: ToolCallRequest): PolicyDecision {
  const decision = policy.decide(request);
  if (decision instanceof Promise) throw new Error('rule policies decide synchronously');
  return decision;
}

function decisionOf(rules: readonly PolicyRule[], tool: string, args: unknown = {}): string {
  return decide(createRulePolicy({ rules, defaults: [] }), call(tool, args)).decision;
}

function constructionError(build: () => unknown): HarnessError {
  try {
    build();
  } catch (error) {
    if (error instanceof HarnessError) return error;
    throw error;
  }
  throw new Error('expected construction to fail');
}

describe('rule order', () => {
  it('the first matching rule decides, and the decision names it', () => {
    const policy = createRulePolicy({
      rules: [
        { tool: 'writeFile', when: { paths: ['secrets/**'] }, decision: 'deny', reason: 'secrets are off limits' },
        { tool: 'writeFile', decision: 'allow' },
        { tool: 'writeFile', decision: 'deny' },
      ],
    });
    expect(decide(policy, call('writeFile', { path: 'secrets/key.pem' }))).toEqual({
      decision: 'deny',
      rule: 'rules[0]',
      reason: 'secrets are off limits',
    });
    expect(decide(policy, call('writeFile', { path: 'src/a.ts' }))).toEqual({ decision: 'allow', rule: 'rules[1]' });
  });

  it('a rule id replaces the position in the decision', () => {
    const policy = createRulePolicy({ rules: [{ id: 'no-network', tool: 'http', decision: 'deny' }] });
    expect(decide(policy, call('http', { url: 'https://example.com' })).rule).toBe('no-network');
  });

  it('tool patterns: exact names, "*" within a name, "*" alone', () => {
    const rules: PolicyRule[] = [
      { tool: 'mcp.*', decision: 'ask' },
      { tool: 'read*', decision: 'allow' },
      { tool: '*', decision: 'deny' },
    ];
    expect(decisionOf(rules, 'mcp.github.search')).toBe('ask');
    expect(decisionOf(rules, 'mcp')).toBe('deny');
    expect(decisionOf(rules, 'readFile')).toBe('allow');
    expect(decisionOf(rules, 'xmcp.a')).toBe('deny');
    // "." is literal, not "any character".
    expect(
      decisionOf(
        [
          { tool: 'a.b', decision: 'allow' },
          { tool: '*', decision: 'deny' },
        ],
        'axb',
      ),
    ).toBe('deny');
  });
});

describe('when: paths', () => {
  const rules: PolicyRule[] = [
    { tool: '*', when: { paths: ['secrets/**', '**/*.pem'] }, decision: 'deny' },
    { tool: '*', when: { paths: ['src/**', 'docs/*.md'] }, decision: 'allow' },
    { tool: '*', decision: 'ask' },
  ];

  it('matches args.path against the globs', () => {
    expect(decisionOf(rules, 'writeFile', { path: 'src/deep/a.ts' })).toBe('allow');
    expect(decisionOf(rules, 'writeFile', { path: 'docs/guide.md' })).toBe('allow');
    expect(decisionOf(rules, 'writeFile', { path: 'docs/nested/guide.md' })).toBe('ask');
    expect(decisionOf(rules, 'writeFile', { path: 'keys/server.pem' })).toBe('deny');
  });

  it('normalizes before matching, so "./" and ".." cannot step around a glob', () => {
    expect(decisionOf(rules, 'writeFile', { path: './secrets/a' })).toBe('deny');
    expect(decisionOf(rules, 'writeFile', { path: 'src/../secrets/a' })).toBe('deny');
    expect(decisionOf(rules, 'writeFile', { path: 'src//a.ts' })).toBe('allow');
  });

  it('S45: dotfiles match like other names, so a deny on a directory covers its dotfiles', () => {
    expect(decisionOf(rules, 'writeFile', { path: 'secrets/.env' })).toBe('deny');
    expect(decisionOf(rules, 'readFile', { path: 'src/.hidden/a.ts' })).toBe('allow');
  });

  it('S45: a path outside the workspace matches restricting rules and no allowing one', () => {
    expect(decisionOf(rules, 'readFile', { path: '../outside.txt' })).toBe('deny');
    expect(decisionOf(rules, 'readFile', { path: '/etc/passwd' })).toBe('deny');
    const allowOnly: PolicyRule[] = [
      { tool: '*', when: { paths: ['**'] }, decision: 'allow' },
      { tool: '*', decision: 'ask' },
    ];
    expect(decisionOf(allowOnly, 'readFile', { path: 'src/../../x' })).toBe('ask');
    expect(decisionOf(allowOnly, 'readFile', { path: 'C:\\Windows\\x' })).toBe('ask');
  });

  it('S45: with several paths, allowing needs every path to match and restricting needs one', () => {
    expect(decisionOf(rules, 'move', { from: 'src/a.ts', to: 'secrets/a.ts' })).toBe('deny');
    expect(decisionOf(rules, 'move', { from: 'secrets/a.ts', to: 'src/a.ts' })).toBe('deny');
    expect(decisionOf(rules, 'move', { from: 'src/a.ts', to: 'tmp/a.ts' })).toBe('ask');
    expect(decisionOf(rules, 'move', { from: 'src/a.ts', to: 'src/b.ts' })).toBe('allow');
    expect(decisionOf(rules, 'bulk', { paths: ['src/a.ts', 'docs/b.md'] })).toBe('allow');
    expect(decisionOf(rules, 'bulk', { paths: ['src/a.ts', 'secrets/b'] })).toBe('deny');
    expect(decisionOf(rules, 'copy', { source: 'src/a.ts', destination: 'x/.env' })).toBe('ask');
  });

  it('S45: a backslash path is read both ways: as a file name and as separators', () => {
    expect(decisionOf(rules, 'writeFile', { path: 'secrets\\key' })).toBe('deny');
    // As a POSIX name `src\a.ts` is a file in the root, outside `src/**`: not allowed.
    expect(decisionOf(rules, 'writeFile', { path: 'src\\a.ts' })).toBe('ask');
  });

  it('a call without paths does not match a paths condition', () => {
    expect(decisionOf(rules, 'http', { url: 'https://example.com/secrets/x' })).toBe('ask');
    expect(decisionOf(rules, 'listDir', undefined)).toBe('ask');
  });

  it('matches case-sensitively unless asked not to', () => {
    const strict = createRulePolicy({ rules, defaults: [] });
    const relaxed = createRulePolicy({ rules, defaults: [], ignoreCase: true });
    expect(decide(strict, call('writeFile', { path: 'Secrets/a' })).decision).toBe('ask');
    expect(decide(relaxed, call('writeFile', { path: 'Secrets/a' })).decision).toBe('deny');
  });
});

describe('when: commandPrefix', () => {
  const allowGit: PolicyRule[] = [
    { tool: 'exec', when: { commandPrefix: ['git', 'status'] }, decision: 'allow' },
    { tool: 'exec', decision: 'ask' },
  ];

  it('compares words, from a string or an argv array, followed by args.args', () => {
    expect(decisionOf(allowGit, 'exec', { command: 'git status --short' })).toBe('allow');
    expect(decisionOf(allowGit, 'exec', { command: ['git', 'status', '-s'] })).toBe('allow');
    expect(decisionOf(allowGit, 'exec', { command: 'git', args: ['status'] })).toBe('allow');
    expect(decisionOf(allowGit, 'exec', { command: '  git   status' })).toBe('allow');
    expect(decisionOf(allowGit, 'exec', { command: 'git statusx' })).toBe('ask');
    expect(decisionOf(allowGit, 'exec', { command: 'git' })).toBe('ask');
    expect(decisionOf(allowGit, 'exec', { command: 'git push' })).toBe('ask');
  });

  it('S45: an allowing prefix matches only a plain command, never a shell line that does more', () => {
    for (const command of [
      'git status && rm -rf /',
      'git status; curl evil.example',
      'git status | sh',
      'git status $(rm -rf /)',
      'git status `id`',
      'git status > .git/config',
      'git status\nrm -rf /',
      'GIT_DIR=/tmp git status',
      "git 'status'",
    ]) {
      expect(decisionOf(allowGit, 'exec', { command }), command).toBe('ask');
    }
    expect(decisionOf(allowGit, 'exec', { command: '/tmp/evil/git status' })).toBe('ask');
  });

  it('S45: a restricting prefix finds the command anywhere in a shell line', () => {
    const denyRm: PolicyRule[] = [
      { tool: 'exec', when: { commandPrefix: ['rm'] }, decision: 'deny' },
      { tool: 'exec', decision: 'allow' },
    ];
    expect(decisionOf(denyRm, 'exec', { command: 'rm -rf build' })).toBe('deny');
    expect(decisionOf(denyRm, 'exec', { command: 'ls && rm -rf build' })).toBe('deny');
    expect(decisionOf(denyRm, 'exec', { command: 'FOO=1 rm x' })).toBe('deny');
    expect(decisionOf(denyRm, 'exec', { command: '/bin/rm x' })).toBe('deny');
    expect(decisionOf(denyRm, 'exec', { command: ['/usr/bin/rm', 'x'] })).toBe('deny');
    // Quotes and expansions can spell any program name: such a line matches.
    expect(decisionOf(denyRm, 'exec', { command: "r''m -rf build" })).toBe('deny');
    expect(decisionOf(denyRm, 'exec', { command: 'ls -la' })).toBe('allow');
    expect(decisionOf(denyRm, 'exec', { command: 'ls | grep rm' })).toBe('allow');
  });

  it('a call without a command does not match', () => {
    expect(decisionOf(allowGit, 'exec', { cmd: 'git status' })).toBe('ask');
    expect(decisionOf(allowGit, 'exec', { command: 42 })).toBe('ask');
  });
});

describe('when: hosts', () => {
  const rules: PolicyRule[] = [
    { tool: 'http', when: { hosts: ['api.example.com', '*.trusted.dev'] }, decision: 'allow' },
    { tool: 'http', when: { hosts: ['evil.example'] }, decision: 'deny' },
    { tool: 'http', decision: 'ask' },
  ];

  it('matches the hostname of args.url', () => {
    expect(decisionOf(rules, 'http', { url: 'https://api.example.com/v1' })).toBe('allow');
    expect(decisionOf(rules, 'http', { url: 'https://API.Example.com./v1' })).toBe('allow');
    expect(decisionOf(rules, 'http', { url: 'https://a.b.trusted.dev' })).toBe('allow');
    expect(decisionOf(rules, 'http', { url: 'https://trusted.dev' })).toBe('ask');
    expect(decisionOf(rules, 'http', { url: 'https://api.example.com.evil.example' })).toBe('ask');
    expect(decisionOf(rules, 'http', { url: 'https://evil.example/x' })).toBe('deny');
  });

  it('S45: userinfo in a URL does not pass for the host', () => {
    expect(decisionOf(rules, 'http', { url: 'https://api.example.com@evil.example/' })).toBe('deny');
  });

  it('a URL that does not parse matches only restricting rules', () => {
    const denyThenAllow: PolicyRule[] = [
      { tool: 'http', when: { hosts: ['evil.example'] }, decision: 'deny' },
      { tool: 'http', when: { hosts: ['api.example.com'] }, decision: 'allow' },
      { tool: 'http', decision: 'ask' },
    ];
    expect(decisionOf(denyThenAllow, 'http', { url: 'not a url' })).toBe('deny');
    expect(decisionOf(denyThenAllow, 'http', {})).toBe('ask');
  });
});

describe('when: several conditions', () => {
  it('matches only when every given condition matches', () => {
    const rules: PolicyRule[] = [
      { tool: 'exec', when: { commandPrefix: ['npm', 'test'], paths: ['packages/**'] }, decision: 'allow' },
      { tool: 'exec', decision: 'ask' },
    ];
    expect(decisionOf(rules, 'exec', { command: 'npm test', path: 'packages/core' })).toBe('allow');
    expect(decisionOf(rules, 'exec', { command: 'npm test', path: 'apps/cli' })).toBe('ask');
    expect(decisionOf(rules, 'exec', { command: 'npm publish', path: 'packages/core' })).toBe('ask');
    expect(decisionOf(rules, 'exec', { command: 'npm test' })).toBe('ask');
  });
});

describe('defaults', () => {
  const policy = createRulePolicy({ rules: [] });

  it('reads allow, writes and exec ask, http is denied', () => {
    for (const tool of ['readFile', 'listDir', 'fileSearch', 'grep']) {
      expect(decide(policy, call(tool, { path: 'a' }))).toMatchObject({ decision: 'allow', rule: 'default:reads' });
    }
    for (const tool of ['writeFile', 'applyPatch']) {
      expect(decide(policy, call(tool, { path: 'a' }))).toMatchObject({ decision: 'ask', rule: 'default:writes' });
    }
    expect(decide(policy, call('exec', { command: 'ls' }))).toMatchObject({ decision: 'ask', rule: 'default:exec' });
    expect(decide(policy, call('http', { url: 'https://a.example' }))).toMatchObject({
      decision: 'deny',
      rule: 'default:http',
    });
  });

  it('any other tool is allowed unless it asks for approval itself', () => {
    expect(decide(policy, call('search', {}, false))).toEqual({ decision: 'allow', rule: 'default:tool' });
    expect(decide(policy, call('deploy', {}, true))).toMatchObject({ decision: 'ask', rule: 'default:tool' });
  });

  it('rules come before the defaults', () => {
    const open = createRulePolicy({ rules: [{ tool: 'http', when: { hosts: ['a.example'] }, decision: 'allow' }] });
    expect(decide(open, call('http', { url: 'https://a.example' })).decision).toBe('allow');
    expect(decide(open, call('http', { url: 'https://b.example' })).decision).toBe('deny');
  });

  it('DEFAULT_RULES is frozen data that validates as rules', () => {
    expect(Object.isFrozen(DEFAULT_RULES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RULES[0])).toBe(true);
    expect(parsePolicyRules(DEFAULT_RULES)).toEqual(DEFAULT_RULES);
    expect(JSON.parse(JSON.stringify(DEFAULT_RULES))).toEqual(DEFAULT_RULES);
  });

  it('defaults can be replaced; `default:tool` stays the last resort', () => {
    const strict = createRulePolicy({ rules: [], defaults: [{ id: 'deny-all', tool: '*', decision: 'deny' }] });
    expect(decide(strict, call('readFile')).rule).toBe('deny-all');
    const bare = createRulePolicy({ rules: [], defaults: [] });
    expect(decide(bare, call('http')).rule).toBe('default:tool');
  });
});

describe('validation', () => {
  it('fails at construction listing every problem', () => {
    const error = constructionError(() =>
      createRulePolicy({
        rules: [
          { tool: 'readFile', decision: 'maybe' as 'allow' },
          { tool: 'read file', decision: 'allow' },
          { tool: 'x', when: { paths: ['/etc/**', '../up', '!src/**'] }, decision: 'deny' },
          { tool: 'x', when: { hosts: ['*', 'https://example.com'] }, decision: 'deny' },
          // A misspelt condition would otherwise match every call.
          { tool: 'x', when: { path: ['a'] } as never, decision: 'allow' },
          { tool: 'x', when: { commandPrefix: [] }, decision: 'allow' },
        ],
      }),
    );
    expect(error.code).toBe('INVALID_REQUEST');
    const problems = error.details?.problems as string[];
    expect(problems.map((problem) => problem.split(':')[0])).toEqual([
      'rules[0].decision',
      'rules[1].tool',
      'rules[2].when.paths[0]',
      'rules[2].when.paths[1]',
      'rules[2].when.paths[2]',
      'rules[3].when.hosts[0]',
      'rules[3].when.hosts[1]',
      'rules[4].when',
      'rules[5].when.commandPrefix',
    ]);
    expect(error.message).toContain('rules[4].when: Unrecognized key: "path"');
  });

  it('layers report the problems of every layer, named by layer', () => {
    const error = constructionError(() =>
      layerPolicies({
        base: [{ tool: '', decision: 'allow' }],
        request: [{ tool: 'x', decision: 'never' as 'deny' }],
      }),
    );
    const problems = error.details?.problems as string[];
    expect(problems.some((problem) => problem.startsWith('request rules[0].decision'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('base rules[0].tool'))).toBe(true);
  });
});

describe('layering', () => {
  const base: PolicyRule[] = [
    { tool: 'writeFile', when: { paths: ['src/**'] }, decision: 'allow' },
    { tool: 'http', when: { hosts: ['api.example.com'] }, decision: 'allow' },
  ];

  it('a request layer tightens the base', () => {
    const policy = layerPolicies({
      base,
      request: [{ tool: 'writeFile', decision: 'ask', reason: 'review every write in this run' }],
    });
    expect(decide(policy, call('writeFile', { path: 'src/a.ts' }))).toEqual({
      decision: 'ask',
      rule: 'request:rules[0]',
      reason: 'review every write in this run',
    });
  });

  it('S45: request and provider layers cannot loosen the base (threat 25)', () => {
    const policy = layerPolicies({
      base,
      provider: [{ tool: 'http', decision: 'allow' }],
      request: [{ tool: '*', decision: 'allow' }],
    });
    expect(decide(policy, call('http', { url: 'https://evil.example' }))).toMatchObject({
      decision: 'deny',
      rule: 'default:http',
    });
    expect(decide(policy, call('writeFile', { path: 'etc/x' }))).toMatchObject({
      decision: 'ask',
      rule: 'default:writes',
    });
    // Where the base allows, the layers' allow is as strict: the first consulted names it.
    expect(decide(policy, call('writeFile', { path: 'src/a.ts' })).rule).toBe('request:rules[0]');
  });

  it('S45: a request layer cannot undo a provider layer that tightens', () => {
    const policy = layerPolicies({
      base: [{ tool: 'http', decision: 'allow' }],
      provider: [{ id: 'provider-no-net', tool: 'http', decision: 'deny' }],
      request: [{ tool: 'http', decision: 'allow' }],
    });
    expect(decide(policy, call('http', { url: 'https://a.example' }))).toMatchObject({
      decision: 'deny',
      rule: 'provider:provider-no-net',
    });
  });

  it('with allowLoosening the first layer with a matching rule decides', () => {
    const policy = layerPolicies({
      base,
      provider: [{ tool: 'http', when: { hosts: ['*.partner.example'] }, decision: 'allow' }],
      request: [{ tool: 'writeFile', when: { paths: ['tmp/**'] }, decision: 'allow' }],
      allowLoosening: true,
    });
    expect(decide(policy, call('http', { url: 'https://x.partner.example' }))).toMatchObject({
      decision: 'allow',
      rule: 'provider:rules[0]',
    });
    expect(decide(policy, call('writeFile', { path: 'tmp/a' }))).toMatchObject({
      decision: 'allow',
      rule: 'request:rules[0]',
    });
    expect(decide(policy, call('writeFile', { path: 'other/a' })).rule).toBe('default:writes');
  });

  it('without layers it decides like the base', () => {
    const policy = layerPolicies({ base });
    expect(decide(policy, call('writeFile', { path: 'src/a.ts' }))).toEqual({
      decision: 'allow',
      rule: 'base:rules[0]',
    });
    expect(decide(policy, call('readFile', { path: 'x' })).rule).toBe('default:reads');
  });
});
