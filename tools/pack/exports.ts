/**
 * The names an entry point of the workspace exports, read from its TypeScript source. Entry points
 * consist of explicit named exports (`export { a, type B } from './x.ts'`, or declarations), so
 * reading the export statements is enough; `export *` is refused, because the names behind it
 * cannot be listed without resolving modules.
 *
 * With `verbatimModuleSyntax`, a name that is only a type must be exported as one (`type B` or
 * `export type { … }`), so the split into values and types is exact.
 */

export interface ExportedNames {
  /** Names that exist at run time (functions, constants, classes, enums). */
  readonly values: readonly string[];
  /** Names that exist only for the type checker (interfaces, type aliases, type-only re-exports). */
  readonly types: readonly string[];
}

/** Blanks out comments and the contents of string literals, keeping every other character in place. */
function blankCommentsAndStrings(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      out += c;
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\') {
          out += ' ';
          i++;
        }
        out += source[i] === '\n' ? '\n' : ' ';
        i++;
      }
      out += c ?? '';
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const IDENTIFIER = '[A-Za-z_$][\\w$]*';

export function exportedNames(source: string): ExportedNames {
  const text = blankCommentsAndStrings(source);
  const values = new Set<string>();
  const types = new Set<string>();

  if (/\bexport\s+(type\s+)?\*/.test(text)) {
    throw new Error('an entry point must list its exports by name: `export *` found');
  }

  if (/\bexport\s+(const|let|var)\s*[{[]/.test(text)) {
    throw new Error('an entry point must list its exports by name: a destructuring export found');
  }

  // export { a, type B, c as d } [from '…']   and   export type { A, B } [from '…']
  for (const match of text.matchAll(/\bexport\s+(type\s+)?\{([^}]*)\}/g)) {
    const allTypes = match[1] !== undefined;
    for (const raw of (match[2] ?? '').split(',')) {
      const specifier = raw.trim();
      if (specifier === '') continue;
      const parsed = new RegExp(`^(type\\s+)?(${IDENTIFIER})(?:\\s+as\\s+(${IDENTIFIER}))?$`).exec(specifier);
      if (parsed === null) throw new Error(`cannot read the export specifier \`${specifier}\``);
      const name = parsed[3] ?? parsed[2] ?? '';
      (allTypes || parsed[1] !== undefined ? types : values).add(name);
    }
  }

  // export const a = …, export function f, export class C, export enum E, export interface I, export type T = …
  const declaration = new RegExp(
    `\\bexport\\s+(?:declare\\s+)?(?:(default)\\s+)?(?:(abstract\\s+)?(async\\s+)?(const|let|var|function\\*?|class|enum|interface|type|namespace)\\s+(${IDENTIFIER}))?`,
    'g',
  );
  for (const match of text.matchAll(declaration)) {
    if (match[1] === 'default') {
      values.add('default');
      continue;
    }
    const kind = match[4];
    const name = match[5];
    if (kind === undefined || name === undefined) continue;
    (kind === 'interface' || kind === 'type' ? types : values).add(name);
  }

  return { values: [...values].sort(), types: [...types].sort() };
}
