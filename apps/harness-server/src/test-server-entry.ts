/**
 * A server process for the shutdown and cluster tests: configured from the environment like
 * `harness serve`, with the test tools added (and `node`, which names the process by
 * `TEST_NODE_LABEL`), shutting down on SIGTERM. Prints `listening <url>` once it listens.
 */
import { defineTool } from '@script-harness/core';
import { z } from 'zod';
import { loadConfig } from './config.ts';
import { startServer } from './start.ts';
import { echoTool, sleepTool } from './test-support.ts';

const nodeTool = defineTool({
  name: 'node',
  description: 'Names the server process the script runs in.',
  input: z.strictObject({}),
  execute: () => ({ node: process.env.TEST_NODE_LABEL ?? 'single' }),
});

const config = await loadConfig({ env: process.env });
const running = await startServer(config, {
  dependencies: { tools: [echoTool, sleepTool, nodeTool] },
  handleSignals: true,
});
process.stdout.write(`listening ${running.url}\n`);
