/**
 * The scripts the scenarios send. Each returns `{ id }` (its request's id) when it succeeds, so
 * an answer that belongs to another request, or comes twice, is seen.
 */
import type { ScriptRequest } from './client.ts';

/** Awaits `work` calls of the given durations at once, like an agent fetching a few things. */
export function toolScript(id: string, waitsMs: readonly number[]): ScriptRequest {
  const calls = waitsMs.map((ms) => `tools.work({ ms: ${ms} })`).join(', ');
  return {
    id,
    label: 'normal',
    code: `const done = await Promise.all([${calls}]);\nreturn { id: ${JSON.stringify(id)}, slept: done.reduce((sum, d) => sum + d.slept, 0) };`,
  };
}

/** Spins until its deadline: ends as TIMEOUT. */
export function timeoutScript(id: string, timeoutMs: number): ScriptRequest {
  return { id, label: 'timeout', code: 'let n = 0;\nwhile (true) n++;', limits: { timeoutMs } };
}

/** Allocates until the memory limit: ends as MEMORY_LIMIT. */
export function memoryBombScript(id: string, memoryMb: number): ScriptRequest {
  return {
    id,
    label: 'memory-bomb',
    code: "const parts = [];\nwhile (true) parts.push('x'.repeat(65536) + parts.length);",
    limits: { memoryMb },
  };
}

/** Calls a tool that rejects and does not catch it: ends as TOOL_ERROR. */
export function failingToolScript(id: string): ScriptRequest {
  return {
    id,
    label: 'failing-tool',
    code: `await tools.fail({ text: ${JSON.stringify(id)} });\nreturn { id: ${JSON.stringify(id)} };`,
  };
}

/** Calls a tool that throws a non-Error synchronously: ends as TOOL_ERROR. */
export function crashingToolScript(id: string): ScriptRequest {
  return {
    id,
    label: 'crashing-tool',
    code: `await tools.crash({ text: ${JSON.stringify(id)} });\nreturn { id: ${JSON.stringify(id)} };`,
  };
}

/** Calls a tool that never answers: ends as TIMEOUT at its deadline. */
export function hangingToolScript(id: string, timeoutMs: number): ScriptRequest {
  return {
    id,
    label: 'hanging-tool',
    code: `await tools.hang({ text: ${JSON.stringify(id)} });\nreturn { id: ${JSON.stringify(id)} };`,
    limits: { timeoutMs },
  };
}

/** Calls a tool that ignores its abort and finishes after the deadline (a slow disk): ends as TIMEOUT. */
export function stallingToolScript(id: string, timeoutMs: number, stallMs: number): ScriptRequest {
  return {
    id,
    label: 'stalling-tool',
    code: `await tools.stall({ ms: ${stallMs} });\nreturn { id: ${JSON.stringify(id)} };`,
    limits: { timeoutMs },
  };
}

/** The error code each kind of script must end with (normal scripts end ok). */
export const EXPECTED_CODE: Readonly<Record<string, string | null>> = {
  normal: null,
  timeout: 'TIMEOUT',
  'memory-bomb': 'MEMORY_LIMIT',
  'failing-tool': 'TOOL_ERROR',
  'crashing-tool': 'TOOL_ERROR',
  'hanging-tool': 'TIMEOUT',
  'stalling-tool': 'TIMEOUT',
};
