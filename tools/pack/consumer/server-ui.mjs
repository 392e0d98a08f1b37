// The published server from its tarball: it starts on its defaults, serves the web console it
// carries at /ui, and answers a script. Prints one JSON line with what it saw.
import { buildServer, loadConfig } from '@script-harness/server';

const config = await loadConfig({
  env: { HARNESS_INSECURE_NO_AUTH: 'true', HARNESS_LOG_LEVEL: 'silent', HARNESS_POOL_SIZE: '1', HARNESS_PORT: '0' },
});
const server = await buildServer(config);
try {
  const page = await server.app.inject({ method: 'GET', url: '/ui/' });
  const script = await server.app.inject({
    method: 'POST',
    url: '/v1/scripts',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ code: 'return 6 * 7' }),
  });
  console.log(
    JSON.stringify({
      ui: page.statusCode,
      html: page.headers['content-type'],
      title: /<title>([^<]*)<\/title>/.exec(page.body)?.[1],
      value: script.json().value,
    }),
  );
} finally {
  await server.close();
}
