import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateDeclarations, generatePromptSection } from './declarations.ts';
import { detectScripts } from './detect.ts';
import { HarnessError } from './errors.ts';
import { type AnyTool, defineTool } from './tool.ts';

/** The repository's own TypeScript compiler, found from this file rather than from the running Node. */
const TSC = fileURLToPath(new URL('../../../node_modules/.bin/tsc', import.meta.url));

/** Compiles the declarations with one usage file, as strictly as a model's script would be read. */
function typeCheck(declarations: string, usage: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'script-harness-declarations-'));
  try {
    writeFileSync(join(dir, 'tools.d.ts'), declarations);
    writeFileSync(join(dir, 'usage.ts'), usage);
    const result = spawnSync(
      TSC,
      [
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        'false',
        '--target',
        'es2022',
        '--lib',
        'es2022',
        'tools.d.ts',
        'usage.ts',
      ],
      { cwd: dir, encoding: 'utf8', timeout: 30_000 },
    );
    return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const createIssue = defineTool({
  name: 'mcp.github.createIssue',
  description: 'Opens an issue in a repository.',
  input: z.object({
    repo: z.string().describe('owner/name'),
    title: z.string(),
    labels: z.array(z.string()).default([]),
    priority: z.enum(['low', 'high']).optional(),
  }),
  output: z.object({ number: z.number().int(), url: z.url() }),
  execute: () => ({ number: 1, url: 'https://example.test/issues/1' }),
});

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.strictObject({ a: z.number(), b: z.number() }),
  output: z.number(),
  execute: ({ a, b }) => a + b,
});

const Person = z.object({ login: z.string(), id: z.int() }).meta({ id: 'Person', description: 'A GitHub account.' });

interface FileTree {
  name: string;
  children: FileTree[];
}
const FileTreeSchema: z.ZodType<FileTree> = z.lazy(() =>
  z.object({ name: z.string(), children: z.array(FileTreeSchema) }),
);

const Category = z.object({
  title: z.string(),
  get subcategories() {
    return z.array(Category);
  },
});

/** One tool per kind of schema the generator has to handle. */
const catalog: AnyTool[] = [
  add,
  createIssue,
  defineTool({
    name: 'mcp.github.listMembers',
    description: 'Lists the members of an organisation.\nPaginated: pass the cursor of the previous page.',
    input: z.object({ org: z.string(), cursor: z.string().nullable().optional() }).describe('Which page of whom.'),
    output: z
      .object({ members: z.array(Person), owner: Person, next: z.string().nullable() })
      .describe('One page of members.'),
    execute: () => ({ members: [], owner: { login: 'o', id: 1 }, next: null }),
  }),
  defineTool({
    name: 'files.tree',
    description: 'Reads a directory tree.',
    input: z.object({ root: z.string(), depth: z.int().min(0).default(2) }),
    output: FileTreeSchema,
    execute: () => ({ name: '.', children: [] }),
  }),
  defineTool({
    name: 'files.categorise',
    description: 'Files documents under categories.',
    input: z.object({ categories: z.array(Category), person: Person }),
    execute: () => null,
  }),
  defineTool({
    name: 'shapes.describe',
    description: 'Describes a shape.',
    input: z.object({
      shape: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('circle'), radius: z.number() }),
        z.object({ kind: z.literal('square'), side: z.number() }),
      ]),
      tags: z.array(z.union([z.string(), z.number()])).nullable(),
      point: z.tuple([z.number(), z.number(), z.number().optional()]),
      path: z.tuple([z.string()], z.number()),
      flag: z.literal(['on', 1, true, null]),
      scores: z.record(z.string(), z.number()),
      sizes: z.record(z.enum(['small', 'large']), z.number()),
      limits: z.partialRecord(z.enum(['min', 'max']), z.number()),
      headers: z.object({ host: z.string(), port: z.number().optional() }).catchall(z.string()),
      extra: z.looseObject({ id: z.string() }),
      'content-type': z.string(),
      '2fa': z.boolean(),
      legacy: z
        .string()
        .optional()
        .meta({ deprecated: true, description: 'Use `shape` instead. */ not a comment end' }),
    }),
    output: z.object({ area: z.number(), unit: z.literal('cm²') }),
    execute: () => ({ area: 1, unit: 'cm²' as const }),
  }),
  defineTool({
    name: 'odd.convert',
    description: 'Takes things JSON Schema cannot describe.',
    input: z
      .object({
        when: z.date(),
        big: z.bigint(),
        checked: z.custom<string>((value) => typeof value === 'string'),
        parsed: z.string().transform((text) => text.length),
        lookup: z.map(z.string(), z.number()),
      })
      .optional(),
    output: z.object({ length: z.number(), trimmed: z.string().transform((text) => text.trim()), at: z.date() }),
    execute: () => ({ length: 4, trimmed: 'four', at: new Date(0) }),
  }),
  defineTool({
    name: 'status',
    description: 'Reports the status; takes no arguments.',
    input: z.object({}).optional(),
    execute: () => 'ok',
  }),
];

describe('generateDeclarations', () => {
  it('F33: generated declarations describe every tool with its input and output types', () => {
    const text = generateDeclarations([createIssue, add]);
    expect(
      text.startsWith(`/** Host tools. Every call returns a Promise: await it. */
declare const tools: {
  /** Adds two numbers. */
  add(args: { a: number; b: number }): Promise<number>;
  mcp: {
    github: {
      /** Opens an issue in a repository. */
      createIssue(args: {
        /** owner/name */
        repo: string;
        title: string;
        /** @default [] */
        labels?: string[];
        priority?: "low" | "high";
      }): Promise<{ number: number; url: string }>;
    };
  };
};
`),
    ).toBe(true);
    for (const global of [
      'declare class ToolError extends Error',
      'declare class ApprovalDeniedError extends ToolError {}',
      'declare const console',
      'declare const context',
    ]) {
      expect(text).toContain(global);
    }
  });

  it('F33: the declarations type-check, and calls that fit them compile', () => {
    const result = typeCheck(
      generateDeclarations(catalog),
      `export {};
async function script() {
  const sum: number = await tools.add({ a: 1, b: 2 });
  const [issue, page] = await Promise.all([
    tools.mcp.github.createIssue({ repo: 'acme/site', title: 'Broken link', priority: 'high' }),
    tools.mcp.github.listMembers({ org: 'acme', cursor: null }),
  ]);
  const url: string = issue.url;
  const logins: string[] = page.members.map((member) => member.login);
  const next: string | null = page.next;
  const tree = await tools.files.tree({ root: '.' });
  const grandchildren: string[] = tree.children.flatMap((child) => child.children.map((c) => c.name));
  await tools.files.categorise({
    categories: [{ title: 'a', subcategories: [{ title: 'b', subcategories: [] }] }],
    person: { login: 'x', id: 1 },
  });
  const shape = await tools.shapes.describe({
    shape: { kind: 'circle', radius: 2 },
    tags: ['red', 3],
    point: [1, 2],
    path: ['root', 1, 2],
    flag: null,
    scores: { alice: 1 },
    sizes: { small: 1, large: 2 },
    limits: { max: 3 },
    headers: { host: 'h', accept: 'json' },
    extra: { id: 'x', anything: [1] },
    'content-type': 'text/plain',
    '2fa': true,
  });
  const unit: 'cm²' = shape.unit;
  const converted: { length: number; trimmed: unknown } = await tools.odd.convert();
  await tools.odd.convert({ when: 1, big: 2, checked: 3, parsed: 'text', lookup: {} });
  const status: unknown = await tools.status();
  // @ts-expect-error: a required argument is missing
  await tools.mcp.github.createIssue({ repo: 'acme/site' });
  // @ts-expect-error: not one of the enum values
  await tools.mcp.github.createIssue({ repo: 'acme/site', title: 't', priority: 'urgent' });
  // @ts-expect-error: no such tool
  await tools.mcp.github.deleteIssue({});
  // @ts-expect-error: a strict object takes no other keys
  await tools.add({ a: 1, b: 2, c: 3 });
  // @ts-expect-error: the discriminant decides the other fields
  await tools.shapes.describe({ shape: { kind: 'square', radius: 1 } });
  // @ts-expect-error: a record with enum keys needs every key
  const partialSizes: Parameters<typeof tools.shapes.describe>[0]['sizes'] = { small: 1 };
  // @ts-expect-error: the arguments of add are required
  await tools.add();
  try {
    await tools.status({});
  } catch (error) {
    if (error instanceof ApprovalDeniedError) console.warn(error.code, error.details);
    else if (error instanceof ToolError) console.error(error.code, error.message);
  }
  context.emitProgress(\`\${context.scriptId} on \${context.runtime}: \${context.tools.join(', ')}\`);
  const budget: number = context.limits.maxToolCalls + context.limits.timeoutMs;
  const earlier: unknown = context.previousResults?.[0]?.value;
  return { sum, url, logins, next, grandchildren, unit, converted, status, budget, earlier, partialSizes };
}
void script;
`,
    );
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('F33: a call with a wrong argument type does not compile', () => {
    const result = typeCheck(
      generateDeclarations(catalog),
      `export {};
async function script() {
  return await tools.mcp.github.createIssue({ repo: 'acme/site', title: 42 });
}
void script;
`,
    );
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/usage\.ts\(3,\d+\): error TS2322/);
  });

  it('nests dotted names into namespaces, sorted at every level', () => {
    const noop = (name: string) =>
      defineTool({ name, description: `Tool ${name}.`, input: z.object({}), execute: () => null });
    const text = generateDeclarations([noop('b.z'), noop('a'), noop('b.c.d'), noop('b.c.a'), noop('B')]);
    expect(text).toContain(`declare const tools: {
  /** Tool B. */
  B(args: {}): Promise<unknown>;
  /** Tool a. */
  a(args: {}): Promise<unknown>;
  b: {
    c: {
      /** Tool b.c.a. */
      a(args: {}): Promise<unknown>;
      /** Tool b.c.d. */
      d(args: {}): Promise<unknown>;
    };
    /** Tool b.z. */
    z(args: {}): Promise<unknown>;
  };
};`);
  });

  it('marks optional properties with ? and keeps defaulted ones required in outputs', () => {
    const tool = defineTool({
      name: 'settings',
      description: 'Settings.',
      input: z.object({ name: z.string(), retries: z.number().default(3), note: z.string().optional() }),
      output: z.object({ name: z.string(), retries: z.number().default(3), note: z.string().optional() }),
      execute: (args) => args,
    });
    const text = generateDeclarations([tool]);
    expect(text).toContain(`settings(args: {
    name: string;
    /** @default 3 */
    retries?: number;
    note?: string;
  }): Promise<{ name: string; retries: number; note?: string }>;`);
  });

  it('writes enums, literals, unions, nullables, tuples and arrays of objects', () => {
    const text = generateDeclarations(catalog);
    expect(text).toContain('shape: { kind: "circle"; radius: number } | { kind: "square"; side: number };');
    expect(text).toContain('tags: (string | number)[] | null;');
    expect(text).toContain('point: [number, number, number?];');
    expect(text).toContain('path: [string, ...number[]];');
    expect(text).toContain('flag: "on" | 1 | true | null;');
    expect(text).toContain('Promise<{ area: number; unit: "cm²" }>');
    expect(text).toContain('priority?: "low" | "high";');
    expect(text).toContain('members: Person[];');
    expect(text).toContain('listMembers(args: { org: string; cursor?: string | null })');
  });

  it('writes records and open objects with index signatures that admit their named properties', () => {
    const text = generateDeclarations(catalog);
    expect(text).toContain('scores: Record<string, number>;');
    expect(text).toContain('sizes: { small: number; large: number };');
    expect(text).toContain('limits: { min?: number; max?: number };');
    expect(text).toContain(`      headers: {
        host: string;
        port?: number;
        [key: string]: string | number | undefined;
      };`);
    expect(text).toContain('extra: { id: string; [key: string]: unknown };');
  });

  it('turns descriptions into JSDoc, with @param, @returns, @default and @deprecated', () => {
    const text = generateDeclarations(catalog);
    expect(text).toContain(`      /**
       * Lists the members of an organisation.
       * Paginated: pass the cursor of the previous page.
       * @param args Which page of whom.
       * @returns One page of members.
       */
      listMembers(args: { org: string; cursor?: string | null }): Promise<{`);
    expect(text).toContain(`      /**
       * Use \`shape\` instead. *\\/ not a comment end
       * @deprecated
       */
      legacy?: string;`);
    expect(text).toContain('/** @default 2 */\n      depth?: number;');
    // A description must not end the comment early.
    expect(text.match(/\/\*\*/g)?.length).toBe(text.match(/\*\//g)?.length);
  });

  it('quotes property names that are not identifiers', () => {
    const text = generateDeclarations(catalog);
    expect(text).toContain('"content-type": string;');
    expect(text).toContain('"2fa": boolean;');
    expect(text).not.toMatch(/\n\s*content-type:/);
  });

  it('falls back to unknown for what JSON Schema cannot describe instead of throwing', () => {
    const text = generateDeclarations(catalog);
    expect(text).toContain(`convert(args?: {
      when: unknown;
      big: unknown;
      checked: unknown;
      parsed: string;
      lookup: unknown;
    }): Promise<{ length: number; trimmed: unknown; at: unknown }>;`);
  });

  it('returns Promise<unknown> for a tool without an output schema and makes optional arguments optional', () => {
    const text = generateDeclarations(catalog);
    expect(text).toContain('status(args?: {}): Promise<unknown>;');
    expect(text).toContain(
      'categorise(args: { categories: FilesCategoriseInputDef0[]; person: Person }): Promise<unknown>;',
    );
  });

  it('names shared and recursive schemas with type aliases', () => {
    const text = generateDeclarations(catalog);
    // Person is used by two tools but declared once, with its own description.
    expect(text.match(/type Person = /g)?.length).toBe(1);
    expect(text).toContain('/** A GitHub account. */\ntype Person = { login: string; id: number };');
    expect(text).toContain('type FilesTreeOutput = { name: string; children: FilesTreeOutput[] };');
    expect(text).toContain('tree(args: {\n      root: string;');
    expect(text).toContain('}): Promise<FilesTreeOutput>;');
    expect(text).toContain(
      'type FilesCategoriseInputDef0 = { title: string; subcategories: FilesCategoriseInputDef0[] };',
    );
  });

  it('gives different schemas under one id, or an id of a standard type, names of their own', () => {
    const Settings = z.object({ level: z.number().default(1) }).meta({ id: 'Settings' });
    const DateId = z.object({ iso: z.string() }).meta({ id: 'Date' });
    const tool = defineTool({
      name: 'configure',
      description: 'Configures.',
      input: z.object({ settings: Settings, since: DateId }),
      output: z.object({ settings: Settings }),
      execute: () => ({ settings: { level: 1 } }),
    });
    const text = generateDeclarations([tool]);
    expect(text).toContain('type Settings = {\n  /** @default 1 */\n  level?: number;\n};');
    expect(text).toContain('type SettingsOutput = { level: number };');
    expect(text).toContain('type DateInput = { iso: string };');
    expect(text).not.toMatch(/type Date =/);
  });

  it('is deterministic: the same text for the same tools in any order', () => {
    const first = generateDeclarations(catalog);
    expect(generateDeclarations([...catalog].reverse())).toBe(first);
    expect(generateDeclarations(catalog)).toBe(first);
  });

  it('declares only the allowed tools and refuses unknown or conflicting ones', () => {
    const text = generateDeclarations(catalog, { names: ['add', 'status', 'add'] });
    expect(text).toContain('add(args: { a: number; b: number }): Promise<number>;');
    expect(text).toContain('status(args?: {}): Promise<unknown>;');
    expect(text).not.toContain('mcp');
    expect(() => generateDeclarations(catalog, { names: ['ad'] })).toThrow(HarnessError);
    expect(() => generateDeclarations(catalog, { names: ['ad'] })).toThrow(/unknown tools in the allowlist: ad/);
    expect(() => generateDeclarations([add, add])).toThrow(/duplicate tool name add/);
  });

  it('declares the context, console and error globals the sandbox provides', () => {
    const text = generateDeclarations([]);
    expect(text).toContain('declare const tools: {};');
    for (const member of [
      'readonly scriptId: string;',
      'readonly runtime: string;',
      'readonly tools: readonly string[];',
      'readonly timeoutMs: number;',
      'readonly memoryMb: number;',
      'readonly maxToolCalls: number;',
      'readonly maxOutputBytes: number;',
      'readonly previousResults?: readonly {',
      'readonly workingDirectory?: string;',
      'emitProgress(message: string): void;',
      'readonly code: string;',
      'readonly details?: unknown;',
    ]) {
      expect(text).toContain(member);
    }
    for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
      expect(text).toContain(`  ${level}(...data: unknown[]): void;`);
    }
  });
});

describe('generatePromptSection', () => {
  it('F34: the prompt section explains the block format and includes the declarations', () => {
    const section = generatePromptSection(catalog);
    expect(section).toContain('<tool-calls>');
    expect(section).toContain('</tool-calls>');
    expect(section).toContain('```ts tool-calls');
    expect(section).toContain('top-level `await` and `return`');
    expect(section).toContain('`Promise.all`');
    expect(section).toContain('`ToolError` with a `code`');
    expect(section).toContain('try/catch');
    expect(section).toContain('small JSON data');
    expect(section).toContain('No `require`, `import`, `eval`');
    expect(section).toContain('timers or network');
    expect(section).toContain(
      'Limits per program: 30 s (tool calls included), 96 MB memory, 32 tool calls (4 at a time), 20 KB of source, 128 KB of returned JSON.',
    );
    expect(section).toContain(`\`\`\`ts\n${generateDeclarations(catalog)}\`\`\`\n`);
  });

  it('shows the two block forms exactly as detection recognises them', () => {
    const segments = detectScripts(generatePromptSection([add]));
    const scripts = segments.filter((segment) => segment.type === 'script');
    expect(scripts.map((segment) => segment.form)).toEqual(['tag', 'fence']);
    expect(segments.some((segment) => segment.type === 'malformed')).toBe(false);
  });

  it('states the limits the scripts will run under', () => {
    const section = generatePromptSection([add], {
      limits: { timeoutMs: 5_000, maxToolCalls: 8, maxOutputBytes: 64 * 1024, memoryMb: undefined },
    });
    expect(section).toContain(
      'Limits per program: 5 s (tool calls included), 96 MB memory, 8 tool calls (4 at a time), 20 KB of source, 64 KB of returned JSON.',
    );
    expect(generatePromptSection([add], { limits: { timeoutMs: 2_500, maxOutputBytes: 1000 } })).toContain(
      '2500 ms (tool calls included)',
    );
    expect(generatePromptSection([add], { limits: { maxOutputBytes: 1000 } })).toContain('1000 bytes of returned JSON');
  });

  it('stays short and passes the allowlist to the declarations', () => {
    const section = generatePromptSection(catalog, { names: ['add'] });
    expect(section).toContain('add(args: { a: number; b: number }): Promise<number>;');
    expect(section).not.toContain('createIssue');
    const prose = section.slice(0, section.indexOf('```ts\n'));
    expect(prose.length).toBeLessThan(2_000);
  });
});
