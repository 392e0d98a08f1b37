import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFIG_FILE_VARIABLE,
  ENVIRONMENT_VARIABLES,
  ServerConfigSchema,
} from '../../apps/harness-server/src/config.ts';
import {
  DEFAULT_LIMITS,
  DEFAULT_MAX_LIMITS,
  ERROR_CODES,
  generateDeclarations,
  LimitsSchema,
} from '../../packages/core/src/index.ts';
import {
  CALL_ERROR_CODES,
  checkDocs,
  GENERATED_DOCS,
  GENERATED_MARKER,
  renderConfiguration,
  renderErrorCatalog,
  renderToolReference,
  TOOL_DOCS,
  toolDeclaration,
  withBuiltInTools,
} from './generate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATOR = fileURLToPath(new URL('./generate.ts', import.meta.url));
const REGENERATE = 'regenerate with: node tools/docs/generate.ts';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** The cells of a Markdown table row, `\|` kept as it is. */
function cellsOf(row: string): string[] {
  return row
    .replace(/^\| /, '')
    .replace(/\s*\|$/, '')
    .split(/ \| /)
    .map((cell) => cell.trim());
}

/** Every Markdown table of a text: its header cells and its body rows' cells. */
function tablesOf(text: string): { headers: string[]; rows: string[][] }[] {
  const tables: { headers: string[]; rows: string[][] }[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    if (!lines[index]?.startsWith('| ') || !/^\| -+ \|/.test(lines[index + 1] ?? '')) continue;
    const headers = cellsOf(lines[index] ?? '');
    const rows: string[][] = [];
    index += 2;
    while (lines[index]?.startsWith('| ')) rows.push(cellsOf(lines[index++] ?? ''));
    tables.push({ headers, rows });
  }
  return tables;
}

interface SchemaNode {
  readonly _zod: {
    readonly def: {
      readonly type: string;
      readonly innerType?: SchemaNode;
      readonly shape?: Readonly<Record<string, SchemaNode>>;
    };
  };
  readonly description?: string;
}

/**
 * Every key of the server's configuration, dotted, with its `.describe()` text: the fields of
 * nested objects (the limits included), a list counted as one key.
 */
function serverConfigKeys(): Map<string, string | undefined> {
  const keys = new Map<string, string | undefined>();
  const visit = (shape: Readonly<Record<string, SchemaNode>>, prefix: string): void => {
    for (const [name, field] of Object.entries(shape)) {
      let schema = field;
      let description = field.description;
      while (['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(schema._zod.def.type)) {
        const inner = schema._zod.def.innerType;
        if (inner === undefined) break;
        schema = inner;
        description ??= schema.description;
      }
      const { shape: fields } = schema._zod.def;
      if (schema._zod.def.type === 'object' && fields !== undefined) visit(fields, `${prefix}${name}.`);
      else keys.set(`${prefix}${name}`, description);
    }
  };
  visit(ServerConfigSchema.shape as unknown as Record<string, SchemaNode>, '');
  return keys;
}

/** The lines of a document from one heading up to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) return '';
  const level = heading.indexOf(' ');
  const next = new RegExp(`^#{1,${level}} `);
  const end = lines.findIndex((line, index) => index > start && next.test(line));
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

describe('generated reference documents', () => {
  it('the error catalog is generated from the code and up to date', () => {
    expect(read('docs/errors.md'), `docs/errors.md is out of date; ${REGENERATE}`).toBe(renderErrorCatalog());
  });

  it('the configuration reference is generated from the code and up to date', () => {
    expect(read('docs/configuration.md'), `docs/configuration.md is out of date; ${REGENERATE}`).toBe(
      renderConfiguration(),
    );
  });

  it('the tool reference is generated from the tools and up to date', () => {
    expect(read('docs/tools.md'), `docs/tools.md is out of date; ${REGENERATE}`).toBe(renderToolReference());
  });

  it('marks every generated document as generated on its first line', () => {
    for (const file of Object.keys(GENERATED_DOCS)) {
      expect(read(file).split('\n')[0], file).toBe(GENERATED_MARKER);
    }
  });

  it('documents every error code in table order, with phase, retryable, meaning and remedy', () => {
    const catalog = renderErrorCatalog();
    const codes = Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[];
    const headings = catalog.split('\n').filter((line) => line.startsWith('### '));
    expect(headings).toEqual(codes.map((code) => `### \`${code}\``));
    const index = section(catalog, '## Index');
    for (const code of codes) {
      const info = ERROR_CODES[code];
      const body = section(catalog, `### \`${code}\``);
      expect(body, code).toContain(`- **Phase:** ${info.phase}`);
      expect(body, code).toContain(`- **Retryable:** ${info.retryable ? 'yes' : 'no'}`);
      // Prose is kept word for word apart from tags put into code spans.
      const plain = (text: string) => text.replaceAll('`', '');
      expect(plain(body), code).toContain(plain(info.meaning));
      expect(plain(body), code).toContain(plain(info.remedy));
      expect(index.split(`](#${code.toLowerCase()})`).length - 1, `${code} in the index`).toBe(1);
      const row = index.split('\n').find((line) => line.includes(`(#${code.toLowerCase()})`));
      expect(row?.startsWith(`| ${info.phase} `), `${code} indexed under its phase`).toBe(true);
    }
  });

  it('documents every limit key with its type, default, request maximum and description', () => {
    const configuration = section(renderConfiguration(), '## Limits');
    const rows = configuration.split('\n').filter((line) => line.startsWith('| `'));
    const keys = Object.keys(LimitsSchema.shape) as (keyof typeof DEFAULT_LIMITS)[];
    expect(rows).toHaveLength(keys.length);
    keys.forEach((key, position) => {
      const cells = rows[position]?.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, '').trim()) ?? [];
      expect(cells[0], `row ${position + 1}`).toBe(`\`${key}\``);
      expect(cells[1], `${key} type`).not.toBe('');
      expect(cells[2], `${key} default`).toMatch(new RegExp(`^\`${DEFAULT_LIMITS[key]}\`( \\(.+\\))?$`));
      const maximum = DEFAULT_MAX_LIMITS[key];
      if (maximum === undefined) expect(cells[3], `${key} maximum`).toBe('—');
      else expect(cells[3], `${key} maximum`).toMatch(new RegExp(`^\`${maximum}\`( \\(.+\\))?$`));
      expect(cells[4], `${key} description`).toBe(LimitsSchema.shape[key].description);
    });
  });

  it('explains that overrides above the maximum are refused, never clamped, and where the server reads its settings', () => {
    const configuration = renderConfiguration();
    expect(configuration).toContain('refused with `INVALID_REQUEST`');
    expect(configuration).toContain('never clamped');
    expect(configuration).toContain('"code": "INVALID_REQUEST"');
    expect(configuration).toMatch(/HARNESS_\*. environment variables/);
    expect(configuration).toContain('../apps/harness-server/README.md#configuration');
  });

  it('documents every key of the server configuration and the HARNESS_* variable that sets it', () => {
    const server = section(renderConfiguration(), '## Server configuration');
    expect(server).not.toBe('');
    const tables = tablesOf(server);
    expect(tables.length).toBeGreaterThanOrEqual(2);
    /** Key cell -> the row it heads, for every column a variable column belongs to. */
    const documented = new Map<string, { headers: string[]; row: string[] }>();
    /** Variable -> the key of its row, read from the tables. */
    const variables = new Map<string, string>();
    for (const { headers, rows } of tables) {
      // A variable column belongs to the nearest column on its left that is neither a type nor a default.
      const pairs = headers.flatMap((header, column) => {
        if (header !== 'variable') return [];
        let key = column - 1;
        while (key >= 0 && (headers[key] === 'type' || headers[key] === 'default')) key--;
        return [[key, column] as const];
      });
      for (const row of rows) {
        for (const [keyColumn, variableColumn] of pairs) {
          const key = /^`([^`]+)`$/.exec(row[keyColumn] ?? '')?.[1];
          expect(key, `key cell of ${row.join(' | ')}`).toBeDefined();
          documented.set(key ?? '', { headers, row });
          const variable = /^`(HARNESS_[A-Z0-9_]+)`/.exec(row[variableColumn] ?? '')?.[1];
          if (variable === undefined) expect(row[variableColumn], key).toBe('—');
          else variables.set(variable, key ?? '');
        }
      }
    }

    const keys = serverConfigKeys();
    expect(keys.size).toBeGreaterThan(40);
    for (const [key, description] of keys) {
      const entry = documented.get(key);
      expect(entry, `${key} is documented`).toBeDefined();
      if (key.startsWith('limits.') || key.startsWith('maxLimits.')) continue;
      // Every other key has a row of its own with its type, default and description.
      const cell = (header: string) => entry?.row[entry.headers.indexOf(header)] ?? '';
      expect(description, `${key} has a .describe() text`).toBeTruthy();
      expect(cell('type'), `${key} type`).not.toBe('');
      expect(cell('default'), `${key} default`).not.toBe('');
      expect(cell('description').replaceAll('\\|', '|'), `${key} description`).toContain(description);
    }
    expect(keys.get('port')).toBeDefined();
    expect(documented.get('port')?.row).toEqual([
      '`port`',
      'integer, ≥ 0, ≤ 65535',
      '`8080`',
      '`HARNESS_PORT`',
      keys.get('port'),
    ]);

    // Every variable of the mapping, next to the key it sets; no other variable.
    const expected = Object.fromEntries(
      Object.entries(ENVIRONMENT_VARIABLES).map(([name, variable]) => [name, variable.path.join('.')]),
    );
    expect(Object.fromEntries(variables)).toEqual(expected);
    expect(server).toContain(`\`${CONFIG_FILE_VARIABLE}\``);
  });

  it('explains the precedence of file, environment and flags, and the masking of secrets', () => {
    const server = section(renderConfiguration(), '## Server configuration');
    const precedence = section(server, '### Where the settings come from');
    expect(precedence).toContain('file < environment < flags');
    for (const flag of ['--config FILE', '--port', '--host', '--workspace', '--insecure-no-auth']) {
      expect(precedence).toContain(`\`${flag}\``);
    }
    const secrets = section(server, '### Secrets and `harness config show`');
    expect(secrets).toContain('`harness config show`');
    const [given, shown] = [...secrets.matchAll(/```json\n([\s\S]*?)\n```/g)].map((match) =>
      JSON.parse(match[1] ?? ''),
    );
    const key = given?.apiKeys?.[0]?.key as string;
    const digest = given?.apiKeys?.[1]?.sha256 as string;
    expect(key.length).toBeGreaterThanOrEqual(16);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(shown).toEqual({
      apiKeys: [
        { tenant: given.apiKeys[0].tenant, key: '********' },
        { tenant: given.apiKeys[1].tenant, sha256: `${digest.slice(0, 8)}…` },
      ],
    });
    expect(secrets.split(key).length - 1, 'the example key appears once, in the input').toBe(1);
  });

  it('documents every built-in tool: its declaration, approval, limits, error codes and a valid example', () => {
    const reference = renderToolReference();
    withBuiltInTools((groups) => {
      const tools = groups.flatMap((group) => group.tools);
      expect(tools.map((tool) => tool.name).sort()).toEqual(Object.keys(TOOL_DOCS).sort());
      const headings = reference.split('\n').filter((line) => line.startsWith('### '));
      expect(headings).toEqual(tools.map((tool) => `### \`tools.${tool.name}\``));
      for (const tool of tools) {
        const doc = TOOL_DOCS[tool.name];
        const body = section(reference, `### \`tools.${tool.name}\``);
        expect(body, tool.name).toContain(tool.description);
        expect(body, tool.name).toMatch(
          /- \*\*Approval:\*\* asks itself: (yes|no|depends on the arguments); default rules: (allow|ask|deny) \(`default:[a-z]+`\)\./,
        );
        expect(body, tool.name).toContain(`- **Example:** \`await tools.${tool.name}(`);
        expect(tool.input.safeParse(doc?.example).success, `${tool.name} example`).toBe(true);
        // The declaration is the tool's own method, word for word as generateDeclarations writes it.
        const declaration = toolDeclaration(tool);
        expect(body, tool.name).toContain(`\`\`\`ts\n${declaration}\n\`\`\``);
        const method = tool.name.slice(tool.name.lastIndexOf('.') + 1);
        expect(declaration).toMatch(new RegExp(`^\\s*${method.replace('$', '\\$')}\\(args\\??: `, 'm'));
        const full = generateDeclarations([tool]);
        for (const line of declaration.split('\n')) expect(full, `${tool.name}: ${line}`).toContain(line.trim());
        expect(declaration).not.toContain('declare class ToolError');
        expect(declaration).not.toContain('declare const context');
        for (const limit of doc?.limits ?? []) expect(body, `${tool.name} limit`).toContain(limit.what);
      }
      expect(tools.find((tool) => tool.name === 'exec')?.requiresApproval).toBe(true);
      expect(section(reference, '### `tools.exec`')).toContain('asks itself: yes; default rules: ask (`default:exec`)');
      expect(section(reference, '### `tools.http`')).toContain('default rules: deny (`default:http`)');
    });
  });

  it('names only error codes of the table, each linked to the catalog', () => {
    const codes = [
      ...Object.keys(CALL_ERROR_CODES),
      ...Object.values(TOOL_DOCS).flatMap((doc) => Object.keys(doc.errors)),
    ];
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(Object.keys(ERROR_CODES), code).toContain(code);
    const reference = renderToolReference();
    const links = [...reference.matchAll(/\[`([A-Z_]+)`\]\(errors\.md#([a-z_]+)\)/g)];
    expect(links.length).toBeGreaterThan(0);
    for (const [, code, anchor] of links) {
      expect(Object.keys(ERROR_CODES), code).toContain(code);
      expect(anchor).toBe(code?.toLowerCase());
    }
  });

  it('shows no path of the machine that generated it, and explains MCP tools with a pointer to the README', () => {
    const reference = renderToolReference();
    expect(reference).not.toContain(tmpdir());
    expect(reference).not.toContain(ROOT);
    expect(reference).not.toMatch(/script-harness-tool-docs-/);
    expect(reference).toContain('`tools.mcp.<server>.<tool>(args)`');
    expect(reference).toContain('../packages/tools/README.md#mcp-servers');
    expect(read('packages/tools/README.md').split('\n')).toContain('## MCP servers');
  });

  it('--check names every document that differs from a fresh generation', () => {
    const root = mkdtempSync(join(tmpdir(), 'script-harness-docs-check-'));
    try {
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'docs/errors.md'), `${renderErrorCatalog()}\nedited by hand\n`);
      writeFileSync(join(root, 'docs/configuration.md'), renderConfiguration());
      writeFileSync(join(root, 'docs/tools.md'), renderToolReference());
      expect(checkDocs(root)).toEqual(['docs/errors.md']);
      rmSync(join(root, 'docs/configuration.md'));
      expect(checkDocs(root)).toEqual(['docs/errors.md', 'docs/configuration.md']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the script passes --check on the committed documents and refuses unknown arguments', () => {
    const ok = spawnSync(process.execPath, [GENERATOR, '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    const bad = spawnSync(process.execPath, [GENERATOR, '--bogus'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--bogus');
  });
});

// ---------------------------------------------------------------------------------------------
// TypeScript examples in the documentation
// ---------------------------------------------------------------------------------------------

interface Example {
  /** Where the block is, e.g. `packages/core/README.md:12`. */
  readonly name: string;
  readonly doc: string;
  /** Line in the document of the first line of code. */
  readonly firstLine: number;
  readonly code: string;
  readonly fileName: string;
}

const listDir = (dir: string): string[] => (existsSync(join(ROOT, dir)) ? readdirSync(join(ROOT, dir)).sort() : []);

function documentsWithExamples(): string[] {
  const docs = listDir('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  const readmes = ['packages', 'apps'].flatMap((group) =>
    listDir(group)
      .map((name) => `${group}/${name}/README.md`)
      .filter((file) => existsSync(join(ROOT, file))),
  );
  return [...docs, 'README.md', ...readmes];
}

/** Every fenced ```ts block that imports from `@script-harness/…`. */
function collectExamples(): Example[] {
  const examples: Example[] = [];
  for (const doc of documentsWithExamples()) {
    const lines = read(doc).split('\n');
    for (let index = 0; index < lines.length; index++) {
      const open = /^(\s*)```(?:ts|typescript)\s*$/.exec(lines[index] ?? '');
      if (open === null) continue;
      const indent = open[1] ?? '';
      const start = index + 1;
      let end = start;
      while (end < lines.length && !/^\s*```\s*$/.test(lines[end] ?? '')) end++;
      const code = lines
        .slice(start, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n');
      index = end;
      if (!/from\s+['"]@script-harness\//.test(code)) continue;
      examples.push({
        name: `${doc}:${start + 1}`,
        doc,
        firstLine: start + 1,
        code: `${code}\n`,
        fileName: `${doc.replaceAll('/', '__')}__L${start + 1}.ts`,
      });
    }
  }
  return examples;
}

/** `@script-harness/…` specifiers mapped to the source entry points the workspace packages export. */
function workspacePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const group of ['packages', 'apps']) {
    for (const name of listDir(group)) {
      const manifestFile = join(ROOT, group, name, 'package.json');
      if (!existsSync(manifestFile)) continue;
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { name?: string; exports?: unknown };
      if (typeof manifest.name !== 'string' || typeof manifest.exports !== 'object' || manifest.exports === null) {
        continue;
      }
      for (const [subpath, target] of Object.entries(manifest.exports)) {
        if (typeof target !== 'string' || !target.endsWith('.ts')) continue;
        const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.replace(/^\.\//, '')}`;
        paths[specifier] = [resolve(ROOT, group, name, target)];
      }
    }
  }
  return paths;
}

/** The `.d.ts` files in the sources of the workspace packages. */
function workspaceDeclarations(): string[] {
  return ['packages', 'apps'].flatMap((group) =>
    listDir(group).flatMap((name) => {
      const src = join(ROOT, group, name, 'src');
      if (!existsSync(src)) return [];
      return readdirSync(src, { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.d.ts'))
        .sort()
        .map((file) => join(src, file));
    }),
  );
}

/** Links the third-party packages the examples import (zod, ...) from wherever the workspace installed them. */
function linkDependencies(examples: readonly Example[], nodeModules: string): void {
  const names = new Set<string>();
  for (const example of examples) {
    for (const match of example.code.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('@script-harness/')) {
        continue;
      }
      const parts = specifier.split('/');
      names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier));
    }
  }
  const candidates = (name: string) => [
    join(ROOT, 'node_modules', name),
    ...['packages', 'apps'].flatMap((group) =>
      listDir(group).map((dir) => join(ROOT, group, dir, 'node_modules', name)),
    ),
  ];
  for (const name of names) {
    const found = candidates(name).find((candidate) => existsSync(candidate));
    if (found === undefined) continue; // tsc then reports the import as unresolved
    mkdirSync(dirname(join(nodeModules, name)), { recursive: true });
    symlinkSync(realpathSync(found), join(nodeModules, name), 'dir');
  }
}

interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

function parseDiagnostics(output: string, cwd: string): Diagnostic[] {
  const diagnostics: { file: string; line: number; column: number; text: string }[] = [];
  for (const line of output.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+: .*)$/.exec(line);
    if (match !== null) {
      diagnostics.push({
        file: resolve(cwd, match[1] ?? ''),
        line: Number(match[2]),
        column: Number(match[3]),
        text: match[5] ?? '',
      });
    } else if (/^\s+\S/.test(line) && diagnostics.length > 0) {
      const last = diagnostics[diagnostics.length - 1];
      if (last !== undefined) last.text += `\n${line}`;
    } else if (line.trim() !== '') {
      diagnostics.push({ file: '', line: 0, column: 0, text: line });
    }
  }
  return diagnostics;
}

const examples = collectExamples();

describe('TypeScript examples in the documentation', () => {
  let workDir = '';
  let diagnostics: Diagnostic[] = [];
  let compilerStatus: number | null = null;
  let compilerError = '';

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'script-harness-doc-examples-'));
    for (const example of examples) writeFileSync(join(workDir, example.fileName), example.code);
    linkDependencies(examples, join(workDir, 'node_modules'));
    const tsconfig = {
      compilerOptions: {
        target: 'es2024',
        lib: ['es2024', 'esnext.disposable'],
        module: 'preserve',
        moduleResolution: 'bundler',
        allowImportingTsExtensions: true,
        noEmit: true,
        skipLibCheck: true,
        strict: true,
        isolatedModules: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        paths: workspacePaths(),
      },
      // Ambient declarations of the workspace packages (`declare module …`) belong to their sources.
      files: [...examples.map((example) => example.fileName), ...workspaceDeclarations()],
    };
    writeFileSync(join(workDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--pretty', 'false'], {
      cwd: workDir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    compilerStatus = tsc.status;
    compilerError = tsc.error?.message ?? tsc.stderr;
    diagnostics = parseDiagnostics(`${tsc.stdout}\n${tsc.stderr}`, workDir);
  });

  afterAll(() => {
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
  });

  it('finds the examples of the READMEs and the generated documents', () => {
    expect(examples.map((example) => example.doc)).toEqual(
      expect.arrayContaining(['README.md', 'packages/core/README.md', 'docs/configuration.md']),
    );
  });

  it('runs the compiler of the repository on them', () => {
    expect(compilerStatus, compilerError).not.toBeNull();
    // Status 0: no errors; 1 or 2: errors were reported, each one is checked below.
    expect([0, 1, 2], compilerError).toContain(compilerStatus);
    const unplaced = diagnostics.filter((diagnostic) => diagnostic.file === '');
    expect(unplaced.map((diagnostic) => diagnostic.text)).toEqual([]);
  });

  it.each(examples.map((example) => [example.name, example] as const))('%s type-checks', (_name, example) => {
    const file = join(workDir, example.fileName);
    const found = diagnostics
      .filter((diagnostic) => diagnostic.file === file)
      .map(
        (diagnostic) =>
          `${example.doc}:${example.firstLine + diagnostic.line - 1}:${diagnostic.column} ${diagnostic.text}`,
      );
    expect(found).toEqual([]);
  });
});
