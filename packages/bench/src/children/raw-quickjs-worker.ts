/**
 * Worker thread of `floor.throughput.raw2`: loads raw QuickJS once, then for each message `n`
 * runs n fresh runtime + context + eval of `1+1` + dispose and answers `n`.
 */

import { parentPort } from 'node:worker_threads';
import releaseSyncVariant from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, type QuickJSSyncVariant } from 'quickjs-emscripten-core';

const port = parentPort;
if (port === null) throw new Error('must run as a worker thread');
// The package's types describe its CommonJS build; under ESM its default export is the variant itself.
const module = await newQuickJSWASMModuleFromVariant(releaseSyncVariant as unknown as QuickJSSyncVariant);

port.on('message', (count: number) => {
  for (let i = 0; i < count; i++) {
    const runtime = module.newRuntime();
    const context = runtime.newContext();
    context.unwrapResult(context.evalCode('1+1')).dispose();
    context.dispose();
    runtime.dispose();
  }
  port.postMessage(count);
});
port.postMessage('ready');
