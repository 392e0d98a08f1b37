/**
 * `startServer` with signal handling, in a process of its own (the handlers are process-wide).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// A WebAssembly function that loads from address 0xFFFFFFF0 of a one-page memory. V8 bounds-checks
// such loads by catching the SIGSEGV of its guard region and throws a RuntimeError.
const OUT_OF_BOUNDS_MODULE = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00,
  0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x41, 0x70,
  0x28, 0x02, 0x00, 0x0b,
];

const CHILD = `
const { loadConfig } = await import(${JSON.stringify(new URL('./config.ts', import.meta.url).href)});
const { startServer } = await import(${JSON.stringify(new URL('./start.ts', import.meta.url).href)});
const env = { HARNESS_API_KEYS: 'alpha:key-for-this-test-only-0123456789', HARNESS_HOST: '127.0.0.1', HARNESS_PORT: '0', HARNESS_LOG_LEVEL: 'silent', HARNESS_POOL_SIZE: '1' };
const running = await startServer(await loadConfig({ env }), { handleSignals: true });
const bytes = new Uint8Array(${JSON.stringify(OUT_OF_BOUNDS_MODULE)});
let outcome = 'no trap';
try {
  new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f();
} catch (error) {
  outcome = error.constructor.name + ': ' + error.message;
}
process.stdout.write(outcome + '\\n');
await running.close();
process.exit(0);
`;

describe('startServer with signal handling', () => {
  it('leaves synchronous fault signals to V8: an out-of-bounds WebAssembly access still throws instead of spinning', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    expect(stdout.trim()).toBe('RuntimeError: memory access out of bounds');
  }, 40_000);
});
