/** Peers: other ways to run a snippet from Node, measured the same way as the product. */
import vm from 'node:vm';
import ngVariant from '@jitl/quickjs-ng-wasmfile-release-sync';
import { loadQuickJs, type SandboxOptions } from '@sebastianwessel/quickjs';
import type { QuickJSSyncVariant } from 'quickjs-emscripten-core';
import { measureTask } from '../measure.ts';
import type { Measurement } from '../report.ts';
import type { BenchRow, RunContext } from '../row.ts';

/** The limits the product applies to every run by default, given to the peer as well. */
const PEER_OPTIONS: SandboxOptions = {
  executionTimeout: 30_000,
  memoryLimit: 96 * 1024 * 1024,
  maxStackSize: 512 * 1024,
};

async function sebastianwessel(context: RunContext): Promise<Measurement> {
  // The variant its README documents; the package's types describe its CommonJS build.
  const { runSandboxed } = await loadQuickJs(ngVariant as unknown as QuickJSSyncVariant);
  const run = () => runSandboxed(async ({ evalCode }) => evalCode('export default 1+1'), PEER_OPTIONS);
  const first = await run();
  if (!first.ok || first.data !== 2)
    throw new Error(`@sebastianwessel/quickjs did not return 2: ${JSON.stringify(first)}`);
  const figures = await measureTask(context.profile, async () => {
    const result = await run();
    if (!result.ok) throw new Error('@sebastianwessel/quickjs run failed');
  });
  return {
    p50Ms: figures.p50Ms,
    p99Ms: figures.p99Ms,
    opsPerSec: figures.opsPerSec,
    note: "@sebastianwessel/quickjs 3.1.0 runSandboxed(evalCode('export default 1+1')), fresh context per run, quickjs-ng sync variant as its README documents, same timeout/memory/stack limits as the product's defaults",
  };
}

async function nodeVm(context: RunContext): Promise<Measurement> {
  const fresh = () => vm.runInContext('1+1', vm.createContext({}));
  if (fresh() !== 2) throw new Error('node:vm did not evaluate 1+1');
  const figures = await measureTask(context.profile, fresh);
  return {
    p50Ms: figures.p50Ms,
    p99Ms: figures.p99Ms,
    opsPerSec: figures.opsPerSec,
    note: 'node:vm is NOT a sandbox (no security boundary: code can reach the host); new context + runInContext("1+1"), for scale only',
  };
}

export const peerRows: readonly BenchRow[] = [
  {
    id: 'peer.sebastianwessel.trivial',
    suite: 'peers',
    title: '@sebastianwessel/quickjs 3.1.0: runSandboxed with `export default 1+1`, fresh context per run',
    baselineId: 'floor.quickjs.fresh',
    measure: sebastianwessel,
  },
  {
    id: 'peer.nodevm.trivial',
    suite: 'peers',
    title: "node:vm new context + runInContext('1+1') — not a sandbox, for scale only",
    baselineId: 'floor.quickjs.fresh',
    measure: nodeVm,
  },
];
