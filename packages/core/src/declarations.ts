/**
 * What the model is told about the sandbox: a `.d.ts` of the globals a script sees (`tools` with
 * one typed method per tool, `console`, `context`, `ToolError`, `ApprovalDeniedError`) and a short
 * system-prompt section around it.
 *
 * Tool types come from the zod schemas through `z.toJSONSchema`: inputs as the tool accepts them
 * (`io: 'input'`, so defaulted fields are optional), outputs as the script receives them. Whatever
 * JSON Schema cannot express (transforms, custom checks, dates, maps) becomes `unknown` instead of
 * failing: a declaration that says less is better than no declaration.
 */
import { z } from 'zod';
import { ERROR_CODES, HarnessError } from './errors.ts';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';
import { type AnyTool, createToolRegistry } from './tool.ts';

export interface DeclarationOptions {
  /** Only these tools (as `RunOptions.tools` allows them). Default: all. */
  readonly names?: readonly string[];
}

export interface PromptSectionOptions extends DeclarationOptions {
  /** The limits the scripts will run under; unset ones are the defaults. */
  readonly limits?: Partial<Limits>;
}

type JsonSchema = z.core.JSONSchema.JSONSchema;
type JsonSchemaOrBoolean = z.core.JSONSchema._JSONSchema;

/** Declarations of the globals a script sees, as `.d.ts` text. Sorted by tool name, so stable. */
export function generateDeclarations(tools: readonly AnyTool[], options: DeclarationOptions = {}): string {
  const aliases = new AliasTable();
  const tree = new Map<string, NamespaceNode>();
  for (const tool of selectTools(tools, options.names)) {
    const parts = tool.name.split('.');
    let level = tree;
    for (const part of parts.slice(0, -1)) {
      // The registry has already refused a name that is both a tool and a namespace.
      let node = level.get(part) as Extract<NamespaceNode, { kind: 'namespace' }> | undefined;
      if (node === undefined) {
        node = { kind: 'namespace', members: new Map() };
        level.set(part, node);
      }
      level = node.members;
    }
    level.set(parts[parts.length - 1] as string, { kind: 'tool', text: toolMethod(tool, aliases) });
  }
  const sections = [
    ...aliases.all(),
    `/** Host tools. Every call returns a Promise: await it. */\ndeclare const tools: ${renderNamespace(tree)};`,
    TOOL_ERROR_DECLARATIONS,
    CONSOLE_DECLARATION,
    CONTEXT_DECLARATION,
  ];
  return `${sections.join('\n\n')}\n`;
}

/** A system-prompt section (markdown) that explains code mode and lists the declarations. */
export function generatePromptSection(tools: readonly AnyTool[], options: PromptSectionOptions = {}): string {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(options.limits ?? {}) as [keyof Limits, number | undefined][]) {
    if (value !== undefined) limits[key] = value;
  }
  const declarations = generateDeclarations(tools, { names: options.names });
  return [
    '## Code mode',
    '',
    'To use tools, write a short TypeScript program in a block of its own, in either form:',
    '',
    '<tool-calls>',
    'const [a, b] = await Promise.all([tools.first(...), tools.second(...)]);',
    'return { a, b };',
    '</tool-calls>',
    '',
    '```ts tool-calls',
    '...same program...',
    '```',
    '',
    'After your message each block runs in a fresh sandbox; you get back the value it returned (or its error) and its console output.',
    '',
    '- The program is the body of an async function: use top-level `await` and `return`.',
    '- Call tools only through `tools` (declared below). `await` every call; start independent calls together with `Promise.all`.',
    '- A failed tool call throws a `ToolError` with a `code` (e.g. `TOOL_VALIDATION`) and a `message`; catch it with try/catch to recover.',
    '- Return small JSON data (the fields, counts or items you need), not whole documents. Tool results are frozen: copy before changing.',
    '- No `require`, `import`, `eval`, `new Function`, timers or network: only tools reach outside. Types are stripped, not checked; no `enum` or `namespace`.',
    '- `context.previousResults` holds the results of earlier blocks in the same message.',
    `- Limits per program: ${formatDuration(limits.timeoutMs)} (tool calls included), ${limits.memoryMb} MB memory, ` +
      `${limits.maxToolCalls} tool calls (${limits.maxConcurrentToolCalls} at a time), ` +
      `${formatBytes(limits.maxSourceBytes)} of source, ${formatBytes(limits.maxOutputBytes)} of returned JSON.`,
    '',
    'What the program sees:',
    '',
    '```ts',
    declarations.trimEnd(),
    '```',
    '',
  ].join('\n');
}

function selectTools(tools: readonly AnyTool[], names: readonly string[] | undefined): AnyTool[] {
  // The registry rejects duplicate names and a name that is also a namespace, as the harness would.
  const registry = createToolRegistry(tools);
  if (names === undefined) return registry.names.map((name) => registry.get(name) as AnyTool);
  const unknown = names.filter((name) => registry.get(name) === undefined);
  if (unknown.length > 0) {
    throw new HarnessError('INVALID_REQUEST', `unknown tools in the allowlist: ${unknown.join(', ')}`, {
      details: { unknown, known: registry.names },
    });
  }
  return [...new Set(names)].sort().map((name) => registry.get(name) as AnyTool);
}

type NamespaceNode =
  | { readonly kind: 'tool'; readonly text: string }
  | { readonly kind: 'namespace'; readonly members: Map<string, NamespaceNode> };

function renderNamespace(members: Map<string, NamespaceNode>): string {
  const lines = [...members.keys()].sort(compareCodeUnits).map((key) => {
    const node = members.get(key) as NamespaceNode;
    return node.kind === 'tool' ? node.text : `${propertyKey(key)}: ${renderNamespace(node.members)};`;
  });
  if (lines.length === 0) return '{}';
  return `{\n${lines.map(indentLines).join('\n')}\n}`;
}

function toolMethod(tool: AnyTool, aliases: AliasTable): string {
  const name = tool.name.slice(tool.name.lastIndexOf('.') + 1);
  const typeName = pascalCase(tool.name);
  const input = schemaType(tool.input, 'input', `${typeName}Input`, aliases);
  const output =
    tool.output === undefined
      ? { type: UNKNOWN, description: undefined }
      : schemaType(tool.output, 'output', `${typeName}Output`, aliases);
  // Arguments the schema accepts as missing (`.optional()`, `.default()`) may be left out.
  const argsOptional = tool.input._zod.optin !== undefined;
  const returns = tool.output?._zod.optout === 'optional' ? union([output.type, UNDEFINED]) : output.type;
  const doc = jsDoc([
    tool.description,
    input.description === undefined ? undefined : `@param args ${input.description}`,
    output.description === undefined ? undefined : `@returns ${output.description}`,
  ]);
  return `${doc}${propertyKey(name)}(args${argsOptional ? '?' : ''}: ${input.type.text}): Promise<${returns.text}>;`;
}

/** The TypeScript type of one schema, plus the schema's own description (for `@param`/`@returns`). */
function schemaType(
  schema: z.ZodType,
  io: 'input' | 'output',
  rootName: string,
  aliases: AliasTable,
): { type: RenderedType; description: string | undefined } {
  let json: JsonSchema;
  try {
    json = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  } catch {
    // Only unusual schemas get here (e.g. a registry override that throws); they still get a method.
    return { type: UNKNOWN, description: undefined };
  }
  const defs = json.$defs ?? {};
  const root: JsonSchema = { ...json };
  delete root.$defs;
  delete root.$schema;
  const renderer = new TypeRenderer(rootName, io, defs, aliases);
  const description = typeof root.description === 'string' ? root.description : undefined;
  // A recursive root (`z.lazy` of itself) refers to `#`: it needs a name to refer to.
  if (JSON.stringify(json).includes('"$ref":"#"')) {
    return { type: { text: renderer.rootAlias(root), precedence: 'atom' }, description };
  }
  return { type: renderer.render(root), description };
}

type Precedence = 'union' | 'intersection' | 'atom';

interface RenderedType {
  readonly text: string;
  readonly precedence: Precedence;
  /** The members of a union, so that nested unions flatten instead of nesting in parentheses. */
  readonly members?: readonly RenderedType[];
}

const UNKNOWN: RenderedType = { text: 'unknown', precedence: 'atom' };
const UNDEFINED: RenderedType = { text: 'undefined', precedence: 'atom' };
const NEVER: RenderedType = { text: 'never', precedence: 'atom' };
const PRIMITIVES: Record<string, string> = {
  string: 'string',
  number: 'number',
  integer: 'number',
  boolean: 'boolean',
  null: 'null',
};
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** The key of a recursive root among the def keys; `#` cannot be a def key of zod's. */
const ROOT_KEY = '#';
const INLINE_OBJECT_WIDTH = 72;

/** Renders the JSON Schema of one tool's input or output, naming its `$defs` through the alias table. */
class TypeRenderer {
  private readonly namePrefix: string;
  private readonly io: 'Input' | 'Output';
  private readonly defs: Record<string, JsonSchema>;
  private readonly aliases: AliasTable;
  /** Alias names of this schema's defs (and of its root, when it recurses), by def key. */
  private readonly localNames = new Map<string, string>();

  constructor(namePrefix: string, io: 'input' | 'output', defs: Record<string, JsonSchema>, aliases: AliasTable) {
    this.namePrefix = namePrefix;
    this.io = io === 'input' ? 'Input' : 'Output';
    this.defs = defs;
    this.aliases = aliases;
  }

  /** Names a root schema that refers to itself (`$ref: '#'`). */
  rootAlias(root: JsonSchema): string {
    return this.alias(ROOT_KEY, root, [this.namePrefix]);
  }

  render(schema: JsonSchemaOrBoolean): RenderedType {
    if (schema === true) return UNKNOWN;
    if (schema === false) return NEVER;
    if (typeof schema.$ref === 'string') return { text: this.reference(schema.$ref), precedence: 'atom' };
    if (schema.const !== undefined) return literal(schema.const);
    if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));
    const parts: RenderedType[] = [];
    if (Array.isArray(schema.anyOf)) parts.push(union(schema.anyOf.map((member) => this.render(member))));
    if (Array.isArray(schema.oneOf)) parts.push(union(schema.oneOf.map((member) => this.render(member))));
    if (Array.isArray(schema.allOf)) parts.push(...schema.allOf.map((member) => this.render(member)));
    const own = this.ownType(schema);
    if (own !== undefined) parts.push(own);
    if (parts.length === 0) return isNever(schema) ? NEVER : UNKNOWN;
    return intersection(parts);
  }

  /** The type its `type` keyword (or, without one, its object or array keywords) gives a schema. */
  private ownType(schema: JsonSchema): RenderedType | undefined {
    const types =
      schema.type === undefined ? impliedTypes(schema) : Array.isArray(schema.type) ? schema.type : [schema.type];
    if (types.length === 0) return undefined;
    return union(
      types.map((type): RenderedType => {
        if (type === 'object') return this.object(schema);
        if (type === 'array') return this.array(schema);
        return { text: PRIMITIVES[type] ?? 'unknown', precedence: 'atom' };
      }),
    );
  }

  private object(schema: JsonSchema): RenderedType {
    const required = new Set(schema.required ?? []);
    const members: { key: string; optional: boolean; type: RenderedType; doc: string }[] = [];
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      members.push({
        key,
        optional: !required.has(key),
        type: this.render(property),
        doc: propertyDoc(property, this.io),
      });
    }
    const extra: RenderedType[] = [];
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
      const valueType = this.render(schema.additionalProperties);
      // A record with enum keys (`z.record(z.enum([...]), ...)`) has exactly those keys.
      const keyNames = enumKeys(schema.propertyNames);
      if (keyNames === undefined) extra.push(valueType);
      else {
        for (const key of keyNames) {
          if (!members.some((member) => member.key === key)) {
            members.push({ key, optional: !required.has(key), type: valueType, doc: '' });
          }
        }
      }
    }
    for (const pattern of Object.values(schema.patternProperties ?? {})) extra.push(this.render(pattern));

    const lines = members.map(
      ({ key, optional, type, doc }) => `${doc}${propertyKey(key)}${optional ? '?' : ''}: ${type.text};`,
    );
    if (extra.length > 0) {
      // An index signature must admit every named property too, so it is the union of them all.
      const named = members.map(({ type, optional }) => (optional ? union([type, UNDEFINED]) : type));
      lines.push(`[key: string]: ${union([...extra, ...named]).text};`);
    }
    if (members.length === 0 && extra.length > 0) {
      return { text: `Record<string, ${union(extra).text}>`, precedence: 'atom' };
    }
    if (lines.length === 0) return { text: '{}', precedence: 'atom' };
    const inline = `{ ${lines.join(' ').slice(0, -1)} }`;
    if (inline.length <= INLINE_OBJECT_WIDTH && !inline.includes('\n') && !inline.includes('/**')) {
      return { text: inline, precedence: 'atom' };
    }
    return { text: `{\n${lines.map(indentLines).join('\n')}\n}`, precedence: 'atom' };
  }

  private array(schema: JsonSchema): RenderedType {
    const prefix = Array.isArray(schema.prefixItems)
      ? schema.prefixItems
      : Array.isArray(schema.items)
        ? schema.items
        : undefined;
    const rest = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
    if (prefix === undefined) {
      return { text: `${this.arrayElement(rest ?? true)}[]`, precedence: 'atom' };
    }
    const minItems = typeof schema.minItems === 'number' ? schema.minItems : prefix.length;
    const elements = prefix.map((item, index) => `${this.render(item).text}${index >= minItems ? '?' : ''}`);
    if (rest !== undefined && rest !== false) elements.push(`...${this.arrayElement(rest)}[]`);
    return { text: `[${elements.join(', ')}]`, precedence: 'atom' };
  }

  private arrayElement(schema: JsonSchemaOrBoolean): string {
    const element = this.render(schema);
    return element.precedence === 'atom' ? element.text : `(${element.text})`;
  }

  private reference(ref: string): string {
    if (ref === '#') return this.localNames.get(ROOT_KEY) ?? 'unknown';
    const key = ref.startsWith('#/$defs/') ? decodePointer(ref.slice('#/$defs/'.length)) : undefined;
    const def = key === undefined ? undefined : this.defs[key];
    if (key === undefined || def === undefined) return 'unknown';
    const known = this.localNames.get(key);
    if (known !== undefined) return known;
    // zod names the defs it extracts for recursion `__schema0`, `__schema1`...; ids from `.meta({ id })` are kept.
    const generated = /^__schema(\d+)$/.exec(key);
    if (generated !== null) return this.alias(key, def, [`${this.namePrefix}Def${generated[1]}`]);
    // The same id can mean different types for input and output (defaults, transforms).
    return this.alias(key, def, [identifierOf(key), `${identifierOf(key)}${this.io}`]);
  }

  /**
   * Declares a type alias for a def and returns its name: the first candidate that is free or
   * already declares the very same type (so a schema shared by several tools is declared once).
   * The name is taken before the body is rendered, because a recursive body refers to it.
   */
  private alias(key: string, schema: JsonSchema, candidates: readonly string[]): string {
    for (let attempt = 0; ; attempt++) {
      const name = this.aliases.candidate(candidates, attempt);
      if (name === undefined) continue;
      const existing = this.aliases.declaration(name);
      const mark = this.aliases.mark();
      const localMark = new Set(this.localNames.keys());
      if (existing === undefined) this.aliases.claim(name);
      this.localNames.set(key, name);
      const declaration = `${jsDoc([descriptionOf(schema)])}type ${name} = ${this.render(schema).text};`;
      if (existing === undefined) {
        this.aliases.define(name, declaration);
        return name;
      }
      if (existing === declaration) return name;
      // Another type has this name: forget whatever this attempt declared and try the next name.
      this.aliases.rollback(mark);
      for (const local of [...this.localNames.keys()]) if (!localMark.has(local)) this.localNames.delete(local);
    }
  }
}

/**
 * The type aliases of one declaration file, in the order they were declared. A name is claimed
 * (without a declaration yet) while its body renders.
 */
class AliasTable {
  private readonly entries = new Map<string, string | undefined>();

  /**
   * The name to try at `attempt`: the candidates in order, then the last one numbered; undefined
   * when that name is a standard type or claimed by an alias still rendering (it cannot be shared).
   */
  candidate(names: readonly string[], attempt: number): string | undefined {
    const name =
      attempt < names.length ? (names[attempt] as string) : `${names[names.length - 1]}${attempt - names.length + 2}`;
    if (RESERVED_TYPE_NAMES.has(name)) return undefined;
    if (this.entries.has(name) && this.entries.get(name) === undefined) return undefined;
    return name;
  }

  declaration(name: string): string | undefined {
    return this.entries.get(name);
  }

  claim(name: string): void {
    this.entries.set(name, undefined);
  }

  define(name: string, declaration: string): void {
    this.entries.set(name, declaration);
  }

  mark(): number {
    return this.entries.size;
  }

  /** Drops every name claimed or declared since `mark`. */
  rollback(mark: number): void {
    for (const name of [...this.entries.keys()].slice(mark)) this.entries.delete(name);
  }

  all(): string[] {
    return [...this.entries.values()].filter((declaration) => declaration !== undefined);
  }
}

/** Names an alias must not take: the globals declared here and the standard library's types. */
const RESERVED_TYPE_NAMES = new Set([
  'ToolError',
  'ApprovalDeniedError',
  'Array',
  'ArrayBuffer',
  'ArrayLike',
  'Awaited',
  'BigInt',
  'Boolean',
  'DataView',
  'Date',
  'Error',
  'EvalError',
  'Exclude',
  'Extract',
  'Function',
  'Iterable',
  'Iterator',
  'JSON',
  'Map',
  'Math',
  'NonNullable',
  'Number',
  'Object',
  'Omit',
  'Parameters',
  'Partial',
  'Pick',
  'Promise',
  'PromiseLike',
  'Proxy',
  'RangeError',
  'Readonly',
  'ReadonlyArray',
  'ReadonlyMap',
  'ReadonlySet',
  'Record',
  'ReferenceError',
  'Reflect',
  'RegExp',
  'Required',
  'ReturnType',
  'Set',
  'String',
  'Symbol',
  'SyntaxError',
  'TypeError',
  'URIError',
  'WeakMap',
  'WeakRef',
  'WeakSet',
]);

function literal(value: unknown): RenderedType {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    return { text: JSON.stringify(value), precedence: 'atom' };
  }
  if (typeof value === 'number' && Number.isFinite(value)) return { text: String(value), precedence: 'atom' };
  return UNKNOWN;
}

function union(members: readonly RenderedType[]): RenderedType {
  const texts = uniqueTexts(members.flatMap((member) => member.members ?? [member]));
  if (texts.length === 0) return NEVER;
  if (texts.some((member) => member.text === 'unknown')) return UNKNOWN;
  const withoutNever = texts.filter((member) => member.text !== 'never');
  if (withoutNever.length === 0) return NEVER;
  if (withoutNever.length === 1) return withoutNever[0] as RenderedType;
  return {
    text: withoutNever.map((member) => (member.precedence === 'atom' ? member.text : `(${member.text})`)).join(' | '),
    precedence: 'union',
    members: withoutNever,
  };
}

function intersection(parts: readonly RenderedType[]): RenderedType {
  const texts = uniqueTexts(parts).filter((part) => part.text !== 'unknown');
  if (texts.length === 0) return UNKNOWN;
  if (texts.length === 1) return texts[0] as RenderedType;
  if (texts.some((part) => part.text === 'never')) return NEVER;
  return {
    text: texts.map((part) => (part.precedence === 'union' ? `(${part.text})` : part.text)).join(' & '),
    precedence: 'intersection',
  };
}

function uniqueTexts(members: readonly RenderedType[]): RenderedType[] {
  const seen = new Set<string>();
  return members.filter((member) => !seen.has(member.text) && seen.add(member.text));
}

function impliedTypes(schema: JsonSchema): string[] {
  if (
    schema.properties !== undefined ||
    schema.additionalProperties !== undefined ||
    schema.patternProperties !== undefined ||
    schema.propertyNames !== undefined
  ) {
    return ['object'];
  }
  if (schema.items !== undefined || schema.prefixItems !== undefined) return ['array'];
  return [];
}

/** `{ not: {} }` is how zod writes `z.never()`. */
function isNever(schema: JsonSchema): boolean {
  const not = schema.not;
  return not === true || (typeof not === 'object' && Object.keys(not).length === 0);
}

function enumKeys(propertyNames: JsonSchemaOrBoolean | undefined): string[] | undefined {
  if (typeof propertyNames !== 'object' || !Array.isArray(propertyNames.enum)) return undefined;
  return propertyNames.enum.map(String);
}

function propertyKey(key: string): string {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

/** JSDoc of a property: its description, deprecation and (for arguments, which may leave it out) default. */
function propertyDoc(schema: JsonSchemaOrBoolean, io: 'Input' | 'Output'): string {
  if (typeof schema !== 'object') return '';
  const defaultJson = schema.default === undefined || io === 'Output' ? undefined : JSON.stringify(schema.default);
  return jsDoc([
    descriptionOf(schema),
    defaultJson === undefined || defaultJson.length > 60 ? undefined : `@default ${defaultJson}`,
    schema.deprecated === true ? '@deprecated' : undefined,
  ]);
}

function descriptionOf(schema: JsonSchema): string | undefined {
  return typeof schema.description === 'string' && schema.description.trim() !== ''
    ? schema.description.trim()
    : undefined;
}

/** A JSDoc comment (with its trailing newline) of the given lines, or '' when there are none. */
function jsDoc(parts: readonly (string | undefined)[]): string {
  const lines = parts
    .filter((part): part is string => part !== undefined && part.trim() !== '')
    .flatMap((part) => part.trim().split(/\r?\n/))
    .map((line) => line.trimEnd().replaceAll('*/', '*\\/'));
  if (lines.length === 0) return '';
  if (lines.length === 1) return `/** ${lines[0]} */\n`;
  return `/**\n${lines.map((line) => (line === '' ? ' *' : ` * ${line}`)).join('\n')}\n */\n`;
}

/** Indents a member (its JSDoc and every line of its type) one level. */
function indentLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}

function pascalCase(dottedName: string): string {
  return dottedName
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function identifierOf(id: string): string {
  const cleaned = id.replace(/[^\w$]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase());
  const name = cleaned === '' ? 'Type' : cleaned;
  return /^[A-Za-z_$]/.test(name) ? name.charAt(0).toUpperCase() + name.slice(1) : `T${name}`;
}

function decodePointer(segment: string): string {
  return decodeURIComponent(segment).replaceAll('~1', '/').replaceAll('~0', '~');
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

const TOOL_ERROR_CODES = Object.entries(ERROR_CODES)
  .filter(([, info]) => info.phase === 'tool')
  .map(([code]) => code);

const TOOL_ERROR_DECLARATIONS = `/** Thrown by a failed tool call. */
declare class ToolError extends Error {
  constructor(code: string, message: string, details?: unknown);
  /** Stable error code, e.g. ${TOOL_ERROR_CODES.join(', ')}. */
  readonly code: string;
  readonly details?: unknown;
}

/** Thrown when a tool call needed approval and was denied (code APPROVAL_DENIED). */
declare class ApprovalDeniedError extends ToolError {}`;

const CONSOLE_DECLARATION = `/** Console lines are returned with the result. */
declare const console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
};`;

const CONTEXT_DECLARATION = `/** Details of this run (frozen). */
declare const context: {
  readonly scriptId: string;
  readonly runtime: string;
  /** Names of the tools this script may call. */
  readonly tools: readonly string[];
  readonly mode: 'enabled';
  /** Tool calls this script may still make when it starts. */
  readonly remainingToolCalls: number;
  readonly limits: {
    readonly timeoutMs: number;
    readonly memoryMb: number;
    readonly maxToolCalls: number;
    readonly maxOutputBytes: number;
  };
  /** Results of the earlier blocks of the same message, in order. */
  readonly previousResults?: readonly {
    readonly callId: string;
    readonly ok: boolean;
    readonly value?: unknown;
    readonly error?: { readonly code: string; readonly message: string; readonly details?: unknown };
  }[];
  readonly workingDirectory?: string;
  /** Reports progress to the user while the script runs. */
  emitProgress(message: string): void;
};`;
