/**
 * What a command shows while a script runs: its console lines and progress messages as they
 * happen on stdout, prefixed with `[script]`, and on a terminal a spinner on stderr while tool
 * calls are in flight. The spinner is transient (it erases itself) and is drawn only where a
 * person watches: never into a pipe, a file or `--json` output.
 *
 * The spinner is drawn here rather than with @clack/prompts' spinner, which takes over standard
 * input while it spins and ends the process with exit code 0 on Ctrl-C.
 */
import type { ScriptEvent } from '@script-harness/core';
import { formatConsoleLine } from './format.ts';
import type { TextSink } from './io.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;
/** Tool calls shorter than this never show the spinner, so quick scripts do not flicker. */
const SPINNER_DELAY_MS = 150;
const CLEAR_LINE = '\r\u001b[2K';

export interface LiveOutputOptions {
  /** Where console and progress lines go; undefined: nowhere (JSON mode). */
  readonly lines: TextSink | undefined;
  /** A terminal to draw the spinner on; undefined: no spinner. */
  readonly spinner: TextSink | undefined;
}

export interface LiveOutput {
  readonly onEvent: (event: ScriptEvent) => void;
  /** Takes the spinner off the screen (for a prompt) until `resume`. */
  pause(): void;
  resume(): void;
  /** Stops the spinner for good. */
  close(): void;
}

export function createLiveOutput(options: LiveOutputOptions): LiveOutput {
  const running = new Map<string, string>();
  const spinner = options.spinner === undefined ? undefined : createSpinner(options.spinner);
  let paused = 0;

  const refresh = () => {
    if (spinner === undefined) return;
    if (running.size === 0 || paused > 0) {
      spinner.stop();
      return;
    }
    const tools = [...new Set(running.values())].map((tool) => `tools.${tool}`);
    spinner.show(`running ${tools.join(', ')}${running.size > tools.length ? ` (${running.size} calls)` : ''}`);
  };

  const writeLine = (text: string) => {
    if (options.lines === undefined) return;
    // The spinner shares the terminal: take it off the line, print, and let it come back.
    spinner?.stop();
    options.lines.write(`${text}\n`);
    refresh();
  };

  return {
    onEvent(event) {
      switch (event.type) {
        case 'console':
          writeLine(formatConsoleLine(event.level, event.text));
          break;
        case 'script_progress':
          writeLine(formatConsoleLine('progress', event.message));
          break;
        case 'tool_call':
          running.set(`${event.scriptId}/${event.callId}`, event.tool);
          refresh();
          break;
        case 'tool_result':
          running.delete(`${event.scriptId}/${event.callId}`);
          refresh();
          break;
        case 'script_completed':
        case 'script_error':
          for (const key of running.keys()) if (key.startsWith(`${event.scriptId}/`)) running.delete(key);
          refresh();
          break;
      }
    },
    pause() {
      paused++;
      refresh();
    },
    resume() {
      paused = Math.max(0, paused - 1);
      refresh();
    },
    close() {
      running.clear();
      spinner?.stop();
    },
  };
}

interface Spinner {
  show(message: string): void;
  stop(): void;
}

function createSpinner(sink: TextSink): Spinner {
  let message = '';
  let frame = 0;
  let drawn = false;
  let timer: NodeJS.Timeout | undefined;
  let delay: NodeJS.Timeout | undefined;

  const draw = () => {
    sink.write(`${CLEAR_LINE}${FRAMES[frame % FRAMES.length]} ${message}`);
    frame++;
    drawn = true;
  };
  return {
    show(next) {
      message = next;
      if (timer !== undefined) return;
      if (delay !== undefined) return;
      delay = setTimeout(() => {
        delay = undefined;
        draw();
        timer = setInterval(draw, FRAME_MS);
        // A spinner never keeps the process alive.
        timer.unref();
      }, SPINNER_DELAY_MS);
      delay.unref();
    },
    stop() {
      clearTimeout(delay);
      delay = undefined;
      clearInterval(timer);
      timer = undefined;
      if (drawn) sink.write(CLEAR_LINE);
      drawn = false;
    },
  };
}
