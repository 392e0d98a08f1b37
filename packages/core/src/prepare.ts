/**
 * Preparation: from the model's source text to JavaScript a runtime can compile.
 * UTF-8 check, BOM strip, size cap, TypeScript strip (positions preserved, so errors point at the
 * model's own line and column), parse, and a static report of constructs the sandbox does not offer.
 *
 * The static report is a courtesy to the model (a clear message before anything runs). The sandbox
 * is safe without it: nothing here is a security boundary.
 */

import { createRequire } from 'node:module';
import { parse as acornParse, type Node } from 'acorn';
import { type ErrorCode, errorData, type HarnessErrorData } from './errors.ts';

export type ScriptLanguage = 'ts' | 'js';

export interface Finding {
  readonly code: ErrorCode;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  /** For BANNED_CONSTRUCT: which construct (`require`, `import`, `eval`, `Function`). `with` is a syntax error: scripts are strict. */
  readonly construct?: string;
}

export interface PreparedScript {
  /** `(async function () {"use strict";\n<stripped source>\n})` */
  readonly code: string;
  readonly lineOffset: number;
  readonly language: ScriptLanguage;
  /** Tool names referenced statically as `tools.a.b(...)`, when the source was parsed. */
  readonly referencedTools?: readonly string[];
}

export type PrepareResult =
  | { readonly ok: true; readonly script: PreparedScript }
  | { readonly ok: false; readonly error: HarnessErrorData; readonly findings: readonly Finding[] };

export interface PrepareOptions {
  readonly language?: ScriptLanguage;
  readonly maxSourceBytes: number;
  /** Parse and collect statically referenced tool names even when no banned token is present. */
  readonly analyze?: boolean;
}

const WRAP_PREFIX = '(async function () {"use strict";\n';
const WRAP_SUFFIX = '\n})';
const LINE_OFFSET = 1;

/**
 * Tokens whose presence makes the full AST check worthwhile. This only decides whether to parse;
 * a finding always comes from the AST, so strings and comments never trigger one. `\u` is here
 * because identifiers may be written with unicode escapes (`\u0065val`).
 */
const NEEDS_AST_CHECK = /require|import|eval|Function|\\u/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Deepest bracket nesting a script may have; real scripts stay far below it. */
const MAX_NESTING = 500;

function maxBracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if ((c === 41 || c === 93 || c === 125) && depth > 0) depth--;
  }
  return max;
}

const requireFromHere = createRequire(import.meta.url);
type Amaro = { transformSync(code: string, options: { mode: 'strip-only' }): { code: string } };
let amaro = requireFromHere('amaro') as Amaro;

/**
 * Strips types with amaro (swc in WebAssembly). A failure that is not a syntax report (a trap or a
 * stack exhaustion inside the WebAssembly instance) leaves that instance unusable, so the module
 * is loaded afresh for the next script; the failure itself is reported as a syntax error.
 */
function stripTypes(wrapped: string): string {
  try {
    return amaro.transformSync(wrapped, { mode: 'strip-only' }).code;
  } catch (error) {
    if (typeof (error as { code?: unknown } | null)?.code !== 'string') {
      const entry = requireFromHere.resolve('amaro');
      const packageDir = entry.slice(0, entry.lastIndexOf('dist'));
      for (const key of Object.keys(requireFromHere.cache)) {
        if (key.startsWith(packageDir)) delete requireFromHere.cache[key];
      }
      amaro = requireFromHere('amaro') as Amaro;
    }
    throw error;
  }
}

export function prepareScript(source: string | Uint8Array, options: PrepareOptions): PrepareResult {
  const language = options.language ?? 'ts';
  let text: string;
  if (typeof source === 'string') {
    if (!source.isWellFormed())
      return failure('INVALID_ENCODING', 'the script contains unpaired surrogates (not valid UTF-8)');
    text = source;
  } else {
    if (source.byteLength > options.maxSourceBytes) return tooLarge(source.byteLength, options.maxSourceBytes);
    try {
      text = utf8.decode(source);
    } catch {
      return failure('INVALID_ENCODING', 'the script is not valid UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Cheap upper bound first: a UTF-16 length within the cap in bytes can still be 3x in UTF-8.
  if (text.length * 3 > options.maxSourceBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > options.maxSourceBytes) return tooLarge(bytes, options.maxSourceBytes);
  }
  if (text.includes('\0')) return failure('INVALID_ENCODING', 'the script contains NUL characters');
  const depth = maxBracketDepth(text);
  if (depth > MAX_NESTING) {
    // Parsers recurse per level; a bracket bomb must not exhaust the host's stack (or the
    // type stripper's WebAssembly stack) before the sandbox is even involved.
    return failure('SYNTAX_ERROR', `the script nests brackets ${depth} levels deep; the maximum is ${MAX_NESTING}`);
  }

  const wrapped = WRAP_PREFIX + text + WRAP_SUFFIX;
  let code = wrapped;
  if (language === 'ts') {
    try {
      code = stripTypes(wrapped);
    } catch (error) {
      return stripFailure(error);
    }
  }

  const mustParse = language === 'js' || options.analyze === true || NEEDS_AST_CHECK.test(text);
  if (!mustParse) return { ok: true, script: { code, lineOffset: LINE_OFFSET, language } };

  let ast: Node;
  try {
    ast = acornParse(code, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowImportExportEverywhere: true,
      locations: true,
    });
  } catch (error) {
    const { message, line, column } = acornErrorPosition(error);
    return failure('SYNTAX_ERROR', `syntax error: ${message}`, [], line, column);
  }
  const { findings, referencedTools } = analyze(ast);
  if (findings.length > 0) {
    const first = findings[0] as Finding;
    const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : '';
    return {
      ok: false,
      error: errorData('BANNED_CONSTRUCT', first.message + more, {
        line: first.line,
        column: first.column,
        details: { findings },
      }),
      findings,
    };
  }
  return { ok: true, script: { code, lineOffset: LINE_OFFSET, language, referencedTools } };
}

function tooLarge(bytes: number, max: number): PrepareResult {
  return failure('SOURCE_TOO_LARGE', `the script is ${bytes} bytes; the maximum is ${max} bytes`);
}

function failure(
  code: ErrorCode,
  message: string,
  findings: Finding[] = [],
  line?: number,
  column?: number,
): PrepareResult {
  const finding: Finding = { code, message, ...(line === undefined ? {} : { line, column }) };
  return {
    ok: false,
    error: errorData(code, message, { line, column }),
    findings: findings.length > 0 ? findings : [finding],
  };
}

interface AmaroError {
  code?: string;
  message?: string;
  startLine?: number;
  startColumn?: number;
}

function stripFailure(error: unknown): PrepareResult {
  const e = (typeof error === 'object' && error !== null ? error : {}) as AmaroError;
  const line = typeof e.startLine === 'number' ? Math.max(1, e.startLine - LINE_OFFSET) : undefined;
  const column = typeof e.startColumn === 'number' ? e.startColumn + 1 : undefined;
  const detail = String(e.message ?? error).split('\n')[0] ?? 'invalid syntax';
  const hint =
    e.code === 'UnsupportedSyntax' ? ' (only erasable TypeScript is supported: use union types instead of enums)' : '';
  return failure('SYNTAX_ERROR', `syntax error: ${detail}${hint}`, [], line, column);
}

function acornErrorPosition(error: unknown): { message: string; line?: number; column?: number } {
  const e = error as { message?: string; loc?: { line: number; column: number } };
  const message = String(e.message ?? error).replace(/ \(\d+:\d+\)$/, '');
  if (e.loc === undefined) return { message };
  return { message, line: Math.max(1, e.loc.line - LINE_OFFSET), column: e.loc.column + 1 };
}

interface AnyNode {
  type: string;
  loc?: { start: { line: number; column: number } };
  [key: string]: unknown;
}

const BANNED_MESSAGES: Record<string, string> = {
  require: '`require` is not available in the sandbox: there are no modules; call host capabilities through `tools.*`',
  import: '`import` is not available in the sandbox: there are no modules; call host capabilities through `tools.*`',
  eval: '`eval` is not available in the sandbox: write the code directly',
  Function: '`Function` cannot compile code in the sandbox: write the function directly',
};

function analyze(ast: Node): { findings: Finding[]; referencedTools: string[] } {
  const findings: Finding[] = [];
  const tools = new Set<string>();
  const ban = (construct: string, node: AnyNode) => {
    const start = node.loc?.start;
    findings.push({
      code: 'BANNED_CONSTRUCT',
      construct,
      message: BANNED_MESSAGES[construct] as string,
      ...(start === undefined ? {} : { line: start.line - LINE_OFFSET, column: start.column + 1 }),
    });
  };
  const stack: AnyNode[] = [ast as unknown as AnyNode];
  while (stack.length > 0) {
    const node = stack.pop() as AnyNode;
    switch (node.type) {
      case 'ImportDeclaration':
      case 'ImportExpression':
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        ban('import', node);
        break;
      case 'MetaProperty':
        if ((node.meta as AnyNode).name === 'import') ban('import', node);
        break;
      case 'CallExpression':
      case 'NewExpression': {
        const callee = node.callee as AnyNode;
        if (callee.type === 'Identifier') {
          if (callee.name === 'require' || callee.name === 'eval' || callee.name === 'Function') {
            ban(callee.name as string, node);
          }
        }
        const toolName = staticToolName(callee);
        if (toolName !== undefined) tools.add(toolName);
        break;
      }
    }
    for (const key in node) {
      if (key === 'loc') continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) {
          const child = value[i] as AnyNode | null;
          if (child !== null && typeof child === 'object' && typeof child.type === 'string') stack.push(child);
        }
      } else if (value !== null && typeof value === 'object' && typeof (value as AnyNode).type === 'string') {
        stack.push(value as AnyNode);
      }
    }
  }
  findings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return { findings, referencedTools: [...tools] };
}

/** `tools.a.b` (non-computed members on the identifier `tools`) → "a.b". */
function staticToolName(callee: AnyNode): string | undefined {
  const parts: string[] = [];
  let node = callee;
  while (node.type === 'MemberExpression' && node.computed !== true) {
    parts.unshift((node.property as AnyNode).name as string);
    node = node.object as AnyNode;
  }
  if (node.type !== 'Identifier' || node.name !== 'tools' || parts.length === 0) return undefined;
  return parts.join('.');
}
