/**
 * The matchers behind a rule's `tool` pattern and `when` conditions.
 *
 * Conditions read the arguments of a call, which the model chose. Where an argument can be read
 * more than one way (several paths, a shell line, a path with backslashes, a URL that does not
 * parse) the reading depends on what the rule would do: a rule that would allow the call matches
 * only when every reading matches, a rule that would deny it or ask matches when any reading
 * does. An ambiguous call therefore never slips past a restriction into an allowance.
 */
import * as path from 'node:path';
import picomatch from 'picomatch/posix.js';
import { type HostPattern, hostMatches, hostnameOfUrl, parseHostPattern } from './hosts.ts';

/** `allow`: every reading must match. `restrict` (deny, ask): any reading matching is enough. */
export type Polarity = 'allow' | 'restrict';

/** Characters a tool pattern may hold: those of tool names, and `*`. */
const TOOL_PATTERN = /^[\w$.*]+$/;

/** Compiles a tool pattern (`readFile`, `mcp.*`, `*`); `*` matches any run of characters, dots included. */
export function compileToolPattern(pattern: string): (tool: string) => boolean {
  if (!pattern.includes('*')) return (tool) => tool === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.$]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`);
  return (tool) => regex.test(tool);
}

export function isToolPattern(pattern: string): boolean {
  return TOOL_PATTERN.test(pattern);
}

// ---------------------------------------------------------------------------------------------
// Paths

/** Argument keys whose string values (or arrays of strings, for `paths`) name workspace paths. */
export const PATH_ARGUMENT_KEYS = ['path', 'paths', 'from', 'to', 'source', 'destination'] as const;

export interface PathGlobOptions {
  /** Compare paths case-insensitively, for workspaces on case-insensitive file systems. */
  readonly ignoreCase?: boolean;
}

/** Why a path glob is refused; `undefined` when it is fine. */
export function pathGlobProblem(glob: string): string | undefined {
  if (glob.length === 0) return 'a path glob must not be empty';
  if (glob.includes('\0')) return 'a path glob must not contain NUL';
  if (glob.startsWith('/') || path.win32.isAbsolute(glob)) return 'a path glob is relative to the workspace root';
  if (glob.startsWith('!')) return 'negated globs are not supported; write a rule with the opposite decision first';
  if (glob.split('/').some((segment) => segment === '..' || segment === '.')) {
    return 'a path glob must not contain "." or ".." segments';
  }
  return undefined;
}

/**
 * Compiles path globs (picomatch syntax: `*`, `**`, `?`, `[...]`, `{a,b}`). Dotfiles and dot
 * directories match like any other name: a rule on `secrets/**` must cover `secrets/.env`.
 */
export function compilePathGlobs(globs: readonly string[], options: PathGlobOptions = {}): (path: string) => boolean {
  const matcher = picomatch([...globs], { dot: true, nonegate: true, nocase: options.ignoreCase === true });
  return (candidate) => matcher(candidate);
}

/**
 * The path a string names inside the workspace, normalized (`./a/../b/` → `b`), or `undefined`
 * when it names no place inside it: absolute, escaping with `..`, or holding NUL.
 */
export function workspacePath(raw: string): string | undefined {
  if (raw.includes('\0') || path.posix.isAbsolute(raw) || path.win32.isAbsolute(raw)) return undefined;
  const normalized = path.posix.normalize(raw).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) return undefined;
  return normalized === '' ? '.' : normalized;
}

/** The raw path strings of a call's arguments, from `PATH_ARGUMENT_KEYS`. */
export function pathArguments(args: unknown): string[] {
  if (!isRecord(args)) return [];
  const found: string[] = [];
  for (const key of PATH_ARGUMENT_KEYS) {
    const value = args[key];
    if (typeof value === 'string') found.push(value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') found.push(item);
  }
  return found;
}

/**
 * Whether the paths of a call match. A path with a backslash is read both as POSIX (a file name
 * holding `\`) and as Windows (a separator); a path outside the workspace matches no allow rule
 * and every restricting one.
 */
export function pathsMatch(args: unknown, matches: (path: string) => boolean, polarity: Polarity): boolean {
  const raws = pathArguments(args);
  if (raws.length === 0) return false;
  const readingMatches = (reading: string | undefined) => reading !== undefined && matches(reading);
  const readingsOf = (raw: string) =>
    raw.includes('\\') ? [workspacePath(raw), workspacePath(raw.replaceAll('\\', '/'))] : [workspacePath(raw)];
  if (polarity === 'allow') return raws.every((raw) => readingsOf(raw).every(readingMatches));
  return raws.some((raw) => readingsOf(raw).some((reading) => reading === undefined || matches(reading)));
}

// ---------------------------------------------------------------------------------------------
// Hosts

export function compileHostPatterns(patterns: readonly string[]): (hostname: string) => boolean {
  const parsed = patterns.map(parseHostPattern).filter((pattern): pattern is HostPattern => pattern !== undefined);
  return (hostname) => parsed.some((pattern) => hostMatches(pattern, hostname));
}

/** Whether `args.url` names a matching host. A URL that does not parse matches only restricting rules. */
export function hostsMatch(args: unknown, matches: (hostname: string) => boolean, polarity: Polarity): boolean {
  if (!isRecord(args) || typeof args.url !== 'string') return false;
  const hostname = hostnameOfUrl(args.url);
  if (hostname === undefined) return polarity === 'restrict';
  return matches(hostname);
}

// ---------------------------------------------------------------------------------------------
// Commands

/** Shell syntax that joins, redirects or substitutes commands: a line with it is more than one command. */
const SHELL_OPERATORS = /[;&|()<>\n\r`]/;
/** Shell syntax that can spell a word differently from how it reads: quotes, escapes, expansions, globs. */
const SHELL_REWRITING = /[$'"\\*?[\]{}~#]/;
const ENVIRONMENT_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * Whether a call's command starts with `prefix`, compared word by word. The command is
 * `args.command` (a string, split at whitespace, or an argv array) followed by `args.args` (an
 * array of strings) when present.
 *
 * - Allowing: the words must equal the prefix exactly, and a string command must be a plain one:
 *   no operators, quotes, expansions or globs, no leading `NAME=value`.
 * - Restricting: the prefix also matches any command of a shell line (split at `;`, `&&`, `|`,
 *   ...), after leading `NAME=value` words, with the program compared by its base name
 *   (`/usr/bin/rm` is `rm`); and a line with quotes, escapes or expansions matches whatever it
 *   spells, since it can spell anything.
 */
export function commandMatches(args: unknown, prefix: readonly string[], polarity: Polarity): boolean {
  if (!isRecord(args)) return false;
  const { command } = args;
  const extra = args.args;
  let trailing: string[] = [];
  if (extra !== undefined) {
    if (!Array.isArray(extra) || !extra.every((word) => typeof word === 'string')) return polarity === 'restrict';
    trailing = extra;
  }
  if (Array.isArray(command)) {
    if (!command.every((word) => typeof word === 'string')) return polarity === 'restrict';
    return wordsStartWith([...command, ...trailing], prefix, polarity);
  }
  if (typeof command !== 'string') return false;
  if (polarity === 'allow') {
    if (SHELL_OPERATORS.test(command) || SHELL_REWRITING.test(command)) return false;
    const words = splitWords(command);
    if (words[0] !== undefined && ENVIRONMENT_ASSIGNMENT.test(words[0])) return false;
    return wordsStartWith([...words, ...trailing], prefix, 'allow');
  }
  if (SHELL_REWRITING.test(command)) return true;
  const segments = command.split(SHELL_OPERATORS_GLOBAL).map(splitWords);
  const last = segments.length - 1;
  return segments.some((words, index) => {
    let start = 0;
    while (start < words.length && ENVIRONMENT_ASSIGNMENT.test(words[start] ?? '')) start++;
    const commandWords = words.slice(start);
    return wordsStartWith(index === last ? [...commandWords, ...trailing] : commandWords, prefix, 'restrict');
  });
}

const SHELL_OPERATORS_GLOBAL = new RegExp(SHELL_OPERATORS.source, 'g');

function splitWords(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

function wordsStartWith(words: readonly string[], prefix: readonly string[], polarity: Polarity): boolean {
  if (words.length < prefix.length) return false;
  return prefix.every((expected, index) => {
    const word = words[index] ?? '';
    if (word === expected) return true;
    return polarity === 'restrict' && index === 0 && path.posix.basename(word) === path.posix.basename(expected);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
