import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from './auth.ts';
import { ConfigError, ENVIRONMENT_VARIABLES, loadConfig, maskConfig } from './config.ts';

let directory: string;
const KEYS = { HARNESS_API_KEYS: 'team-a:0123456789abcdef0123' };

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'harness-server-config-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function problemsOf(options: Parameters<typeof loadConfig>[0]): Promise<readonly string[]> {
  try {
    await loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('loadConfig', () => {
  it('fills every default', async () => {
    const config = await loadConfig({ env: KEYS, cwd: directory });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      insecureNoAuth: false,
      metricsAuth: false,
      bodyLimitBytes: 1024 * 1024,
      runtime: { mode: 'pool', warmSandboxes: 2 },
      queue: { concurrency: 16, maxQueued: 256, retryAfterSeconds: 1, retry: { maxAttempts: 3 } },
      rateLimit: { max: 600, timeWindowMs: 60_000 },
      limits: {},
      mode: 'enabled',
      shutdownGraceMs: 30_000,
      tools: { files: true, spawn: true },
      policy: { rules: [] },
      approvals: { timeoutMs: 120_000 },
      role: 'all',
      redis: { prefix: 'harness', lockDurationMs: 30_000, stalledIntervalMs: 15_000 },
    });
    expect(config.redis.url).toBeUndefined();
    expect(config.apiKeys).toEqual([{ tenant: 'team-a', key: '0123456789abcdef0123' }]);
    expect(config.workspace).toBeUndefined();
  });

  it('reads HARNESS_* variables into their fields, converting types', async () => {
    const config = await loadConfig({
      cwd: directory,
      env: {
        ...KEYS,
        HARNESS_PORT: '9090',
        HARNESS_HOST: '127.0.0.1',
        HARNESS_METRICS_AUTH: 'yes',
        HARNESS_QUEUE_MAX_QUEUED: '5',
        HARNESS_SHUTDOWN_GRACE_MS: '1000',
        HARNESS_LIMITS_TIMEOUT_MS: '5000',
        HARNESS_MAX_LIMITS_MEMORY_MB: '256',
        HARNESS_WORKSPACE: '.',
        HARNESS_MODE: 'dry-run',
        HARNESS_WARM_SANDBOXES: '0',
        UNRELATED: 'ignored',
      },
    });
    expect(config).toMatchObject({
      port: 9090,
      host: '127.0.0.1',
      metricsAuth: true,
      queue: { maxQueued: 5 },
      shutdownGraceMs: 1000,
      limits: { timeoutMs: 5000 },
      maxLimits: { memoryMb: 256 },
      workspace: directory,
      mode: 'dry-run',
      runtime: { warmSandboxes: 0 },
    });
  });

  it('lets the environment win over the file and flags win over both', async () => {
    const file = join(directory, 'precedence.json');
    await writeFile(
      file,
      JSON.stringify({
        port: 1111,
        queue: { concurrency: 3, maxQueued: 7 },
        apiKeys: [{ tenant: 'hashed', sha256: hashApiKey('a-key-that-is-long-enough') }],
      }),
    );
    const config = await loadConfig({
      file,
      cwd: directory,
      env: { HARNESS_PORT: '2222', HARNESS_QUEUE_CONCURRENCY: '9' },
      overrides: { port: 3333, host: undefined },
    });
    expect(config.port).toBe(3333);
    expect(config.queue).toMatchObject({ concurrency: 9, maxQueued: 7 });
    expect(config.apiKeys[0]?.tenant).toBe('hashed');
  });

  it('finds the file through HARNESS_CONFIG, relative to the working directory', async () => {
    await writeFile(join(directory, 'named.json'), JSON.stringify({ ...{ port: 4444 }, insecureNoAuth: true }));
    const config = await loadConfig({ cwd: directory, env: { HARNESS_CONFIG: 'named.json' } });
    expect(config.port).toBe(4444);
    expect(config.host).toBe('127.0.0.1');
  });

  it('lists every problem at once, each naming its field and source', async () => {
    const file = join(directory, 'broken.json');
    await writeFile(file, JSON.stringify({ port: 'eighty', queue: { concurency: 2 }, logLevel: 'loud' }));
    const problems = await problemsOf({
      file,
      cwd: directory,
      env: { ...KEYS, HARNESS_QUEUE_MAX_QUEUED: 'many', HARNESS_POTR: '1', HARNESS_SHUTDOWN_GRACE_MS: '-5' },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^HARNESS_QUEUE_MAX_QUEUED: expected a whole number, got "many"$/),
        expect.stringMatching(/^HARNESS_POTR: unknown variable; did you mean HARNESS_PORT\?$/),
        expect.stringMatching(/^port \(config file .*broken\.json\): .*expected number/),
        expect.stringMatching(/^queue \(config file .*\): Unrecognized key: "concurency"$/),
        expect.stringMatching(/^logLevel \(config file .*\): /),
        expect.stringMatching(/^shutdownGraceMs \(HARNESS_SHUTDOWN_GRACE_MS\): Too small/),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('lists authentication and workspace problems together with invalid fields', async () => {
    const problems = await problemsOf({ cwd: directory, env: { HARNESS_PORT: '99999', HARNESS_WORKSPACE: 'absent' } });
    expect(problems).toEqual([
      expect.stringMatching(/^port \(HARNESS_PORT\): Too big/),
      expect.stringMatching(/^no API keys are configured/),
      'workspace (HARNESS_WORKSPACE): absent cannot be used (ENOENT)',
    ]);
  });

  it('reports an unreadable or invalid file', async () => {
    expect(await problemsOf({ file: join(directory, 'missing.json'), env: KEYS })).toEqual([
      expect.stringMatching(/missing\.json: cannot be read \(ENOENT\)/),
    ]);
    const bad = join(directory, 'bad.json');
    await writeFile(bad, '{ "port": ');
    expect((await problemsOf({ file: bad, env: KEYS }))[0]).toMatch(/not valid JSON/);
    const list = join(directory, 'list.json');
    await writeFile(list, '[]');
    expect((await problemsOf({ file: list, env: KEYS }))[0]).toMatch(/must hold one JSON object/);
  });

  it('refuses to start without API keys unless insecureNoAuth, which binds 127.0.0.1 only', async () => {
    expect(await problemsOf({ env: {} })).toEqual([
      expect.stringMatching(/no API keys are configured.*--insecure-no-auth/),
    ]);
    const local = await loadConfig({ env: {}, overrides: { insecureNoAuth: true } });
    expect(local.host).toBe('127.0.0.1');
    expect(
      await problemsOf({ env: { HARNESS_HOST: '0.0.0.0' }, overrides: { insecureNoAuth: true }, overrideLabels: {} }),
    ).toEqual([
      expect.stringMatching(/^host \(HARNESS_HOST\): without API keys the server binds to 127\.0\.0\.1 only/),
    ]);
    expect(await problemsOf({ env: { ...KEYS, HARNESS_INSECURE_NO_AUTH: 'true' } })).toEqual([
      expect.stringMatching(/^insecureNoAuth \(HARNESS_INSECURE_NO_AUTH\): API keys are configured too/),
    ]);
  });

  it('checks API keys: format, length, tenant names, one key per tenant', async () => {
    const problems = await problemsOf({
      env: { HARNESS_API_KEYS: 'no-colon,:key-without-tenant,,good:0123456789abcdef' },
    });
    expect(problems).toEqual([
      'HARNESS_API_KEYS: entry 1 is not tenant:key',
      'HARNESS_API_KEYS: entry 2 is not tenant:key',
      'HARNESS_API_KEYS: entry 3 is empty (expected tenant:key)',
    ]);
    const short = await problemsOf({ env: { HARNESS_API_KEYS: 'bad tenant!:short' } });
    expect(short).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^apiKeys\.0\.tenant \(HARNESS_API_KEYS\): a tenant name is/),
        expect.stringMatching(/^apiKeys\.0\.key \(HARNESS_API_KEYS\): an API key must be at least 16 characters long$/),
      ]),
    );
    for (const problem of short) expect(problem).not.toContain('short');
    const file = join(directory, 'keys.json');
    await writeFile(
      file,
      JSON.stringify({ apiKeys: [{ tenant: 'a', key: '0123456789abcdef', sha256: 'ab'.repeat(32) }, { tenant: 'b' }] }),
    );
    expect(await problemsOf({ file, env: {} })).toEqual([
      expect.stringMatching(/^apiKeys\.0 .*: give exactly one of key and sha256$/),
      expect.stringMatching(/^apiKeys\.1 .*: give exactly one of key and sha256$/),
    ]);
    expect(await problemsOf({ env: { HARNESS_API_KEYS: 'a:0123456789abcdef,b:0123456789abcdef' } })).toEqual([
      'apiKeys: one key is given to two tenants (a and b)',
    ]);
  });

  it('keeps every run within the ceilings of overrides', async () => {
    expect(await problemsOf({ env: { ...KEYS, HARNESS_MAX_LIMITS_MEMORY_MB: '64' } })).toEqual([
      'limits.memoryMb: 96 (the default) is above its ceiling maxLimits.memoryMb = 64',
    ]);
    expect(await problemsOf({ env: { ...KEYS, HARNESS_LIMITS_TIMEOUT_MS: '400000' } })).toEqual([
      'limits.timeoutMs (HARNESS_LIMITS_TIMEOUT_MS): 400000 is above its ceiling maxLimits.timeoutMs = 300000',
    ]);
    const fine = await loadConfig({
      env: { ...KEYS, HARNESS_MAX_LIMITS_MEMORY_MB: '64', HARNESS_LIMITS_MEMORY_MB: '32' },
    });
    expect(fine.limits.memoryMb).toBe(32);
  });

  it('checks the workspace and the policy rules', async () => {
    const file = join(directory, 'a-file.txt');
    await writeFile(file, 'x');
    expect(await problemsOf({ env: { ...KEYS, HARNESS_WORKSPACE: file } })).toEqual([
      expect.stringMatching(/^workspace \(HARNESS_WORKSPACE\): .* is not a directory$/),
    ]);
    expect(await problemsOf({ env: { ...KEYS, HARNESS_WORKSPACE: join(directory, 'nowhere') } })).toEqual([
      expect.stringMatching(/cannot be used \(ENOENT\)/),
    ]);
    const rules = join(directory, 'rules.json');
    await writeFile(rules, JSON.stringify({ policy: { rules: [{ tool: 'writeFile', decision: 'perhaps' }] } }));
    expect(await problemsOf({ file: rules, env: KEYS })).toEqual([
      expect.stringMatching(/^policy\.rules\.0\.decision \(config file .*\): /),
    ]);
  });

  it('takes a Redis URL and a role, and refuses a role without Redis or a URL that is not Redis', async () => {
    const config = await loadConfig({
      cwd: directory,
      env: {
        ...KEYS,
        HARNESS_REDIS_URL: 'redis://:secret@cache.internal:6379/2',
        HARNESS_ROLE: 'worker',
        HARNESS_REDIS_PREFIX: 'team-a',
      },
    });
    expect(config).toMatchObject({
      role: 'worker',
      redis: { url: 'redis://:secret@cache.internal:6379/2', prefix: 'team-a' },
    });
    expect(maskConfig(config)).toMatchObject({ redis: { url: 'redis://:********@cache.internal:6379/2' } });

    expect(await problemsOf({ cwd: directory, env: { ...KEYS, HARNESS_ROLE: 'api' } })).toEqual([
      'role (HARNESS_ROLE): the api role shares a queue with other nodes and needs redis.url (HARNESS_REDIS_URL)',
    ]);
    const problems = await problemsOf({
      cwd: directory,
      env: { ...KEYS, HARNESS_REDIS_URL: 'http://user:hunter2@cache:6379', HARNESS_ROLE: 'boss' },
    });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/redis\.url \(HARNESS_REDIS_URL\): must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(problems.join('\n')).toMatch(/^role \(HARNESS_ROLE\): /m);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('maps a variable to every field it documents', () => {
    expect(ENVIRONMENT_VARIABLES.HARNESS_LIMITS_MAX_TOOL_CALLS?.path).toEqual(['limits', 'maxToolCalls']);
    expect(ENVIRONMENT_VARIABLES.HARNESS_QUEUE_MAX_RUNNING_PER_TENANT?.path).toEqual(['queue', 'maxRunningPerTenant']);
  });
});

describe('maskConfig', () => {
  it('never shows a key, and only the start of a digest', async () => {
    const digest = hashApiKey('another-key-long-enough');
    const file = join(directory, 'mask.json');
    await writeFile(file, JSON.stringify({ apiKeys: [{ tenant: 'hashed', sha256: digest }] }));
    const config = await loadConfig({ file, env: KEYS });
    const shown = JSON.stringify(maskConfig(config));
    expect(shown).not.toContain('0123456789abcdef0123');
    expect(shown).not.toContain(digest);
    expect(maskConfig(config).apiKeys).toEqual([{ tenant: 'team-a', key: '********' }]);
    const fromFile = await loadConfig({ file, env: {} });
    expect(maskConfig(fromFile).apiKeys).toEqual([{ tenant: 'hashed', sha256: `${digest.slice(0, 8)}…` }]);
  });
});
