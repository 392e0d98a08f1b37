/**
 * A child process of the pool (started with `--no-node-snapshot`, which isolated-vm needs on
 * Node 20 and later). It loads isolated-vm, says whether that worked, then runs many scripts at a
 * time, each in a fresh isolate; scripts interleave while they wait for tool calls, which the
 * parent executes.
 *
 * It also watches its own resident set: past the bound it reports the scripts running at that
 * moment as the cause and asks to be replaced (an isolate's memory limit is soft, and memory
 * outside the V8 heap is not counted by it at all). The parent reads the same figure as a backstop.
 */
import type { RunOutcome } from '@script-harness/core';
import { type IsolatedVMModule, IsolateFactory, ScriptRun } from './engine.ts';
import { MEMORY_MESSAGE } from './outcome.ts';
import type { ChildConfig, FromChild, ToChild } from './protocol.ts';

if (process.send === undefined) throw new Error('child.ts must be started by the pool, with an IPC channel');

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const send = (message: FromChild): void => {
  if (process.connected) process.send?.(message);
};
const runs = new Map<number, ScriptRun>();
const early: ToChild[] = [];
let factory: IsolateFactory | undefined;
/** Set once the child asked to be replaced: it takes no new scripts. */
let condemned = false;
let sampler: NodeJS.Timeout | undefined;

const RSS_SAMPLE_MS = 50;
const MB = 1024 * 1024;

// The parent closed the channel (pool closed, or the parent died): nothing is left to serve.
process.on('disconnect', () => process.exit(0));
process.on('message', (message: ToChild) => {
  if (factory === undefined) early.push(message);
  else handle(factory, message);
});

function handle(isolates: IsolateFactory, message: ToChild): void {
  switch (message.type) {
    case 'run':
      void runScript(isolates, message);
      return;
    case 'reply':
      runs.get(message.jobId)?.reply(message.callId, message.reply);
      return;
    case 'abort':
      runs.get(message.jobId)?.abort(message.code, message.message);
      return;
    case 'hold':
      runs.get(message.jobId)?.hold();
      return;
    case 'release':
      runs.get(message.jobId)?.release();
      return;
  }
}

async function runScript(isolates: IsolateFactory, message: Extract<ToChild, { type: 'run' }>): Promise<void> {
  const { jobId } = message;
  if (condemned) {
    send({ type: 'done', jobId, outcome: replacedOutcome() });
    return;
  }
  const run = new ScriptRun(isolates, message.limits, message.request, {
    started: (deadline) => send({ type: 'started', jobId, deadline }),
    call: (callId, name, argsJson) => send({ type: 'call', jobId, callId, name, argsJson }),
    emit: (kind, level, text) => send({ type: 'emit', jobId, kind, level, text }),
    // V8 reports only that it lost control of the isolate; the script hears it ran out of memory.
    catastrophe: () => condemn([jobId], 'MEMORY_LIMIT', `${MEMORY_MESSAGE}; its process was replaced`),
  });
  runs.set(jobId, run);
  watchMemory();
  let outcome: RunOutcome;
  try {
    outcome = await run.run();
  } catch {
    outcome = { ok: false, error: { code: 'INTERNAL', message: 'the runtime failed while running the script' } };
  }
  runs.delete(jobId);
  send({ type: 'done', jobId, outcome });
  // Off the reply's path: free this isolate and prepare the next script's while the parent works.
  setImmediate(() => {
    run.dispose();
    if (!condemned) isolates.prepareSpare(message.limits.memoryBytes);
  });
}

function replacedOutcome(): RunOutcome {
  return {
    ok: false,
    error: { code: 'INTERNAL', message: 'the process running the script is being replaced; the script may be retried' },
  };
}

/** Asks the parent to replace this process; it stops taking scripts until then. */
function condemn(culprits: number[], code: 'MEMORY_LIMIT' | 'INTERNAL', message: string): void {
  if (condemned) return;
  condemned = true;
  send({ type: 'fatal', culprits, code, message });
}

function watchMemory(): void {
  if (sampler !== undefined || config.maxRssBytes <= 0) return;
  sampler = setInterval(() => {
    if (runs.size === 0) {
      clearInterval(sampler);
      sampler = undefined;
      return;
    }
    const rss = process.memoryUsage.rss();
    if (rss <= config.maxRssBytes || condemned) return;
    // The scripts running guest code right now are the ones that can have grown the process.
    const running = [...runs.entries()].filter(([, run]) => run.executing).map(([id]) => id);
    const culprits = running.length > 0 ? running : [...runs.keys()];
    const message = `the script ran out of memory (its process grew past ${Math.round(config.maxRssBytes / MB)} MB)`;
    condemn(culprits, 'MEMORY_LIMIT', message);
    // Free what the culprits hold now; the parent replaces the process in any case.
    for (const id of culprits) runs.get(id)?.abort('MEMORY_LIMIT', message);
  }, RSS_SAMPLE_MS);
  sampler.unref();
}

async function load(): Promise<IsolatedVMModule> {
  const loaded = (await import(config.modulePath)) as { default?: IsolatedVMModule } & IsolatedVMModule;
  const ivm = loaded.default ?? loaded;
  // Loading is not enough: the addon must also create and run an isolate in this process.
  const probe = new ivm.Isolate({ memoryLimit: 8 });
  try {
    if (probe.createContextSync().evalSync('1 + 1') !== 2) throw new Error('a probe isolate did not evaluate 1 + 1');
  } finally {
    probe.dispose();
  }
  return ivm;
}

try {
  const ivm = await load();
  factory = new IsolateFactory(ivm, () =>
    condemn([], 'INTERNAL', 'V8 lost control of an isolate; the process was replaced'),
  );
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  send({ type: 'unavailable', message: reason.split('\n')[0] ?? reason });
  process.disconnect();
}
if (factory !== undefined) {
  send({ type: 'ready' });
  for (const message of early.splice(0)) handle(factory, message);
}
