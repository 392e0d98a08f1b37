/**
 * Tool discovery on demand: `tools.$search({ query })` finds tools by what they are called and
 * what they do, and `tools.$describe({ name })` returns one tool's TypeScript declaration. With
 * many tools, the prompt can list names only and the model looks the rest up when it needs it.
 *
 * `$` starts both names so they cannot collide with a host's own tools and sort apart from them.
 */
import { type AnyTool, closestNames, defineTool, generateDeclarations, HarnessError } from '@script-harness/core';
import { z } from 'zod';

export const DEFAULT_TOOL_SEARCH_LIMIT = 10;
export const MAX_TOOL_SEARCH_LIMIT = 50;
/** Descriptions in search results are cut here; `$describe` gives the whole text. */
export const TOOL_SEARCH_DESCRIPTION_CHARS = 200;
/** Room left in a tool result for everything but the listed tools. */
const RESULT_OVERHEAD_BYTES = 256;

const STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'by',
  'for',
  'from',
  'how',
  'i',
  'in',
  'is',
  'it',
  'of',
  'on',
  'or',
  'that',
  'the',
  'to',
  'tool',
  'tools',
  'with',
]);

const SearchInput = z.strictObject({
  query: z
    .string()
    .min(1)
    .max(500)
    .describe('What the tool should do or be called, in a few words, e.g. "read file" or "http request".'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_TOOL_SEARCH_LIMIT)
    .optional()
    .describe(`Most tools returned (default ${DEFAULT_TOOL_SEARCH_LIMIT}).`),
});

const SearchOutput = z.object({
  tools: z
    .array(
      z.object({
        name: z.string().describe('Tool name, called as tools.<name>(...).'),
        description: z.string(),
      }),
    )
    .describe('Matching tools, best match first.'),
});

const DescribeInput = z.strictObject({
  name: z.string().min(1).max(200).describe('Tool name as after "tools.", e.g. "readFile" or "spawn.call".'),
});

const DescribeOutput = z.object({
  name: z.string(),
  description: z.string(),
  declaration: z.string().describe('TypeScript declaration of the tool: its arguments and its result.'),
});

export type ToolSearchArgs = z.output<typeof SearchInput>;
export type ToolSearchResult = z.output<typeof SearchOutput>;
export type ToolDescribeArgs = z.output<typeof DescribeInput>;
export type ToolDescribeResult = z.output<typeof DescribeOutput>;

/**
 * Creates `$search` and `$describe` over the tools `getTools` returns at each call (so tools added
 * later are found). Tools whose name starts with `$` are never listed by `$search`.
 */
export function createDiscoveryTools(getTools: () => readonly AnyTool[]): AnyTool[] {
  const search = defineTool<ToolSearchArgs, ToolSearchResult>({
    name: '$search',
    description:
      'Finds tools by name and purpose: returns the names and short descriptions of the best matches for a ' +
      'query. Use tools.$describe({ name }) for the arguments and result of one of them.',
    input: SearchInput,
    output: SearchOutput,
    execute(args, context) {
      const candidates = getTools().filter((tool) => !tool.name.startsWith('$'));
      const ranked = rankTools(candidates, args.query).slice(0, args.limit ?? DEFAULT_TOOL_SEARCH_LIMIT);
      const budget = context.maxOutputBytes - RESULT_OVERHEAD_BYTES;
      const tools: ToolSearchResult['tools'] = [];
      let used = 0;
      for (const tool of ranked) {
        const entry = { name: tool.name, description: shorten(tool.description, TOOL_SEARCH_DESCRIPTION_CHARS) };
        const cost = Buffer.byteLength(JSON.stringify(entry), 'utf8') + 1;
        if (used + cost > budget) break;
        tools.push(entry);
        used += cost;
      }
      return { tools };
    },
  });

  const describe = defineTool<ToolDescribeArgs, ToolDescribeResult>({
    name: '$describe',
    description:
      'Returns the TypeScript declaration of one tool (its arguments, result and documentation), to call it correctly.',
    input: DescribeInput,
    output: DescribeOutput,
    execute(args) {
      const name = args.name.startsWith('tools.') ? args.name.slice('tools.'.length) : args.name;
      const tools = getTools();
      const tool = tools.find((candidate) => candidate.name === name);
      if (tool === undefined) {
        const suggestions = closestNames(
          name,
          tools.map((candidate) => candidate.name),
        );
        const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `tools.${s}`).join(', ')}?` : '';
        throw new HarnessError('TOOL_ERROR', `tools.${name} does not exist${hint}`, { details: { suggestions } });
      }
      return { name: tool.name, description: tool.description, declaration: generateDeclarations([tool]) };
    },
  });

  return [search, describe];
}

interface ToolTerms {
  readonly tool: AnyTool;
  readonly name: string;
  readonly nameTokens: readonly string[];
  readonly descriptionTokens: ReadonlySet<string>;
}

/**
 * Orders tools by how well they match `query`, best first; tools that match nothing are left out.
 * Each query word scores by its best match in the name (exact, prefix, or one or two edits away)
 * plus its best match in the description, so a word in the name counts for more.
 */
export function rankTools(tools: readonly AnyTool[], query: string): AnyTool[] {
  const stripped = query.trim().replace(/^tools\./i, '');
  const wanted = stripped.toLowerCase();
  // Words come from the query as written: lower-casing first would hide its camelCase boundaries.
  const words = tokenize(stripped);
  const terms: ToolTerms[] = tools.map((tool) => ({
    tool,
    name: tool.name.toLowerCase(),
    nameTokens: tokenize(tool.name),
    descriptionTokens: new Set(tokenize(tool.description)),
  }));
  if (words.length === 0) {
    return [...tools].sort((a, b) => compareNames(a.name, b.name));
  }
  const compact = words.join('');
  return terms
    .map((entry) => {
      let score = 0;
      if (entry.name === wanted) score += 100;
      else if (compact.length >= 3 && entry.name.replaceAll('.', '').includes(compact)) score += 8;
      else if (wordScore(wanted, entry.name, 8) > 0) score += 4;
      let matchedWords = 0;
      for (const word of words) {
        const inName = Math.max(0, ...entry.nameTokens.map((token) => wordScore(word, token, 6)));
        const inDescription = Math.max(0, ...[...entry.descriptionTokens].map((token) => wordScore(word, token, 2)));
        if (inName + inDescription > 0) matchedWords++;
        score += inName + inDescription;
      }
      // A tool that matches every word beats one that matches one word very well.
      if (words.length > 1 && matchedWords === words.length) score += 3;
      return { tool: entry.tool, score };
    })
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score || compareNames(a.tool.name, b.tool.name))
    .map((entry) => entry.tool);
}

/** `exact` for the same word, less for a prefix, less again for a near miss (a typo). */
function wordScore(word: string, token: string, exact: number): number {
  if (word === token) return exact;
  if (word.length >= 2 && token.startsWith(word)) return exact * 0.6;
  if (token.length >= 3 && word.startsWith(token)) return exact * 0.5;
  const allowed = word.length >= 8 ? 2 : word.length >= 4 ? 1 : 0;
  if (allowed > 0 && Math.abs(word.length - token.length) <= allowed && editDistance(word, token) <= allowed) {
    return exact * 0.4;
  }
  return 0;
}

/** Lower-case words of a name or text: camelCase, dots, dashes and punctuation split words. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0 && !STOP_WORDS.has(word));
}

/** Edit distance where swapping two neighbouring letters counts as one edit (the commonest typo). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => (rows[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

function shorten(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > limit / 2 ? cut.slice(0, space) : cut}…`;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
