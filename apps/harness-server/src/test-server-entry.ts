/**
 * A server process for the shutdown test: configured from the environment like `harness serve`,
 * with the test tools added, shutting down on SIGTERM. Prints `listening <url>` once it listens.
 */
import { loadConfig } from './config.ts';
import { startServer } from './start.ts';
import { echoTool, sleepTool } from './test-support.ts';

const config = await loadConfig({ env: process.env });
const running = await startServer(config, { dependencies: { tools: [echoTool, sleepTool] }, handleSignals: true });
process.stdout.write(`listening ${running.url}\n`);
