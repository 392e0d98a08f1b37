/**
 * `/ui`: the web console (`@script-harness/console`), its built files served as they are. The
 * files hold no secrets and need no key; every call the page makes goes to `/v1` with the same
 * API key as any client. The page may talk to this server only: a Content-Security-Policy
 * forbids every other origin, inline script and framing.
 *
 * The published server carries the built console in its own `dist/console`. In the repository the
 * console is built by `pnpm install` (the root `prepare` script) into `apps/console/dist`. When
 * neither is there (installed with `--ignore-scripts`, say), `/ui` answers 503 with a page that
 * says so and how to build it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/** The command that builds the console, from the repository root. */
export const CONSOLE_BUILD_COMMAND = 'npx -y pnpm@12.21.0 build:console';

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The directory of the console's built files: beside the built server (`dist/console`, what the
 * package ships), else the console's build in the repository; undefined when there is neither.
 */
export function consoleAssetsDirectory(): string | undefined {
  const candidates = [new URL('../console/', import.meta.url), new URL('../../../console/dist/', import.meta.url)];
  for (const candidate of candidates) {
    const directory = fileURLToPath(candidate);
    if (existsSync(join(directory, 'index.html'))) return directory;
  }
  return undefined;
}

export interface UiRoutesOptions {
  /** Where the built console is (default: `consoleAssetsDirectory()`). */
  readonly directory?: string | undefined;
}

export function uiRoutes(options: UiRoutesOptions = {}): FastifyPluginAsync {
  const directory = options.directory ?? consoleAssetsDirectory();
  const built = directory !== undefined && existsSync(join(directory, 'index.html'));

  return async (app) => {
    app.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    });

    if (!built || directory === undefined) {
      const page = unavailablePage();
      const answer = (_request: unknown, reply: FastifyReply) =>
        reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
      app.get('/ui', answer);
      app.get('/ui/*', answer);
      return;
    }

    await app.register(fastifyStatic, {
      root: directory,
      prefix: '/ui',
      redirect: true,
      index: ['index.html'],
      // Hashed asset names change with their content; the page itself is always asked for anew.
      setHeaders: (reply, path) => {
        reply.header(
          'cache-control',
          path.startsWith(join(directory, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
      cacheControl: false,
    });
  };
}

function unavailablePage(): string {
  const why = 'not built';
  const explanation = `harness-server serves the web console from the build of <code>apps/console</code>, and there is none.
<code>pnpm install</code> builds it (its <code>prepare</code> script), unless scripts were turned off.`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>harness console ${why}</title></head>
<body>
<main>
<h1>The console is ${why}</h1>
<p>${explanation}</p>
<p>Build it from the repository root, then restart the server:</p>
<pre><code>${CONSOLE_BUILD_COMMAND}</code></pre>
<p>The API under <code>/v1</code> works without it.</p>
</main>
</body>
</html>
`;
}
