/**
 * The operator guide (docs/policy.md) shows rules and policies to copy: each must be valid, and the
 * first-match example must decide as the text says.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ToolCallRequest } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { type AuditRecord, auditLine } from './audit.ts';
import { parseFilePolicy, parseNetworkPolicy } from './resources.ts';
import { createRulePolicy, type PolicyRule, parsePolicyRules } from './rules.ts';

const guide = readFileSync(path.join(import.meta.dirname, '..', '..', '..', 'docs', 'policy.md'), 'utf8');

function blocks(language: string): string[] {
  const fence = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  return [...guide.matchAll(fence)].map((match) => match[1] ?? '');
}

const jsonBlocks = blocks('json').map((text) => JSON.parse(text) as unknown);
const ruleBlocks = jsonBlocks.filter((value): value is PolicyRule[] => Array.isArray(value));

describe('docs/policy.md', () => {
  it('every rule example is valid', () => {
    expect(ruleBlocks.length).toBeGreaterThanOrEqual(6);
    for (const rules of ruleBlocks) expect(() => parsePolicyRules(rules)).not.toThrow();
  });

  it('every network and file policy example is valid', () => {
    const objects = jsonBlocks.filter((value) => !Array.isArray(value)) as Record<string, unknown>[];
    expect(objects.map((value) => ('allowHosts' in value ? 'network' : 'file'))).toEqual(['network', 'file']);
    for (const value of objects) {
      if ('allowHosts' in value) expect(() => parseNetworkPolicy(value)).not.toThrow();
      else expect(() => parseFilePolicy(value)).not.toThrow();
    }
  });

  it('the first-match example decides as described', () => {
    const policy = createRulePolicy({ rules: ruleBlocks[0] ?? [] });
    const decide = (filePath: string) => {
      const request: ToolCallRequest = {
        scriptId: 's',
        callId: '1',
        sequence: 1,
        tool: 'writeFile',
        args: { path: filePath, content: '' },
        toolRequiresApproval: false,
      };
      return (policy.decide(request) as { decision: string }).decision;
    };
    expect(decide('src/.env.pem')).toBe('deny');
    expect(decide('src/index.ts')).toBe('allow');
    expect(decide('README.md')).toBe('ask');
  });

  it('the audit lines shown are what the JSONL sink writes', () => {
    const auditBlock = blocks('text').find((text) => text.includes('"decision"'));
    const lines = (auditBlock ?? '').trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(auditLine(JSON.parse(line) as AuditRecord)).toBe(line);
  });
});
