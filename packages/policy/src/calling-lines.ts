/**
 * Finding the line of a script that made a tool call, for the person asked to approve it. An
 * approval request carries the call (tool, arguments, sequence) but not where in the script it was
 * made, so whoever shows the approval and still has the source looks the call up by name.
 */

/** Candidate lines shown when a tool is called from several lines of the script. */
const MAX_CALLING_LINES = 3;

/**
 * The line(s) of `source` that call `tools.<tool>`, numbered as the model wrote them: one line
 * when the tool is called from one place, the first few candidates when from several, undefined
 * when the call is not written out (a computed name, a destructured tool).
 */
export function describeCallingLines(source: string, tool: string): string | undefined {
  const lines = findCallingLines(source, tool);
  if (lines.length === 0) return undefined;
  const shown = lines.slice(0, MAX_CALLING_LINES).map(({ line, text }) => `line ${line}: ${text}`);
  if (lines.length === 1) return shown[0];
  const more = lines.length > MAX_CALLING_LINES ? `\n(and ${lines.length - MAX_CALLING_LINES} more)` : '';
  return `one of\n${shown.join('\n')}${more}`;
}

/** Every line of `source` that mentions `tools.<tool>` (dots of namespaced tools included). */
export function findCallingLines(source: string, tool: string): { line: number; text: string }[] {
  const path = tool
    .split('.')
    .map((part) => part.replace(/[$]/g, '\\$'))
    .join('\\s*\\??\\.\\s*');
  const pattern = new RegExp(`\\btools\\s*\\??\\.\\s*${path}(?![\\w$])`);
  const found: { line: number; text: string }[] = [];
  source.split(/\r?\n/).forEach((text, index) => {
    if (pattern.test(text)) found.push({ line: index + 1, text: text.trim() });
  });
  return found;
}
