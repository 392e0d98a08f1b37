#!/usr/bin/env node
import { main } from './main.ts';

// An exit code, not process.exit(): pending output is flushed and the process ends on its own.
process.exitCode = await main(process.argv);
