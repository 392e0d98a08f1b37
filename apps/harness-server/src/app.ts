/**
 * `buildServer`: composes the packages into the service. One QuickJS runtime and one harness
 * serve every request; an in-process queue bounds what runs at once and what may wait; policy
 * rules, an approval broker and (optionally) an audit log decide tool calls; telemetry feeds
 * `/metrics`. The HTTP layer is fastify with zod schemas, which also generate `/docs`.
 *
 * `close()` is the graceful shutdown: `/ready` turns 503 at once and no new job is accepted; queued
 * and running jobs get `shutdownGraceMs` to finish; whatever is left is cancelled and its caller
 * answered with `SHUTDOWN`; then the listener, the sandbox pool, the audit log and telemetry close.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { type AnyTool, type ApprovalBroker, createHarness, HarnessError } from '@script-harness/core';
import {
  type AuditSink,
  createJsonlAuditSink,
  createRulePolicy,
  type JsonlAuditSink,
  type PendingApproval,
  withAudit,
} from '@script-harness/policy';
import { createQuickJSRuntime, type QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import { createLogger, createTelemetry, withScriptLogging } from '@script-harness/telemetry';
import { createSpawnTools, createToolset, type SpawnTools, type Toolset, ToolsetError } from '@script-harness/tools';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { type Authenticator, createAuthenticator, LOCAL_TENANT } from './auth.ts';
import { ConfigError, type ServerConfig } from './config.ts';
import type { ServerContext } from './context.ts';
import { createCoordination } from './coordination.ts';
import { createExecutionRunner } from './execution.ts';
import { createEventLoopMonitor } from './health.ts';
import { ApiError, harnessErrorBody, parseJsonBody, statusOfHarnessError } from './http-errors.ts';
import { correlationIdOf, createScriptOwners } from './owners.ts';
import { approvalFeedRoutes } from './routes/approval-feed.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { infoRoutes } from './routes/info.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { messageRoutes } from './routes/messages.ts';
import { opsRoutes, unauthorized } from './routes/ops.ts';
import { runRoutes } from './routes/runs.ts';
import { scriptRoutes } from './routes/scripts.ts';
import { taskRoutes } from './routes/tasks.ts';
import { uiRoutes } from './routes/ui.ts';
import { createRunRecorder, type RunRecorder } from './run-recorder.ts';
import { createServerMetrics } from './server-metrics.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the request's API key (`local` without auth); empty outside `/v1`. */
    tenant: string;
  }
}

export const SERVER_VERSION = '0.1.0';

/** Things a host or a test supplies instead of the defaults built from the configuration. */
export interface ServerDependencies {
  /** Tools besides the workspace file tools (and, like them, targets of spawn tools). */
  readonly tools?: readonly AnyTool[];
  /** A runtime to use instead of one built from `config.runtime`; the server closes it. */
  readonly runtime?: QuickJSRuntimeAdapter;
  readonly logger?: Logger;
  /** Where audit records go instead of `config.auditFile`. */
  readonly auditSink?: AuditSink;
}

export interface HarnessServer {
  readonly app: FastifyInstance;
  readonly config: ServerConfig;
  readonly context: ServerContext;
  /** Graceful shutdown, as described above; later calls return the same promise. */
  close(): Promise<void>;
}

/** Approved request ids are echoed in logs and audit records: keep them short and printable. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildServer(config: ServerConfig, dependencies: ServerDependencies = {}): Promise<HarnessServer> {
  const logger = dependencies.logger ?? createLogger({ level: config.logLevel, service: 'harness-server' });
  // First, so that a configuration that names tools wrongly fails before anything else starts.
  const toolset = await toolsetOf(config);
  const runtime =
    dependencies.runtime ??
    (await createQuickJSRuntime({
      mode: config.runtime.mode,
      warmSandboxes: config.runtime.warmSandboxes,
      ...(config.runtime.poolSize === undefined ? {} : { pool: { size: config.runtime.poolSize } }),
    }));
  const telemetry = createTelemetry({ runtimes: [runtime.name] });
  const unobservePool = telemetry.observePool(() => runtime.stats(), { runtime: runtime.name });
  const owners = createScriptOwners();
  // Recent runs for /v1/runs and the console: every run of the queue's harness is recorded.
  const runs = createRunRecorder({ owners });
  const metrics = createServerMetrics();

  const coordination = await createCoordination({
    config,
    owners,
    logger,
    scriptExcerpt: (request) => runs.scriptExcerpt(request),
  });
  const broker = coordination.broker;
  const rules = createRulePolicy({ rules: config.policy.rules });
  const fileAudit: JsonlAuditSink | undefined =
    dependencies.auditSink === undefined && config.auditFile !== undefined
      ? createJsonlAuditSink(config.auditFile, {
          onError: (error) => logger.error({ err: error }, 'the audit log could not be written'),
        })
      : undefined;
  const auditSink = dependencies.auditSink ?? fileAudit;
  // `ask` holds calls for a person (any node's /v1/approvals); `allow` and `deny` decide at once.
  const decider: ApprovalBroker = config.approvals.mode === 'ask' ? broker : decideAtOnce(config.approvals.mode);
  const audited =
    auditSink === undefined
      ? { policy: rules, approvals: decider }
      : withAudit(rules, decider, auditSink, {
          correlationId: (request) => correlationIdOf(owners.get(request.scriptId)),
        });
  const approvals = telemetry.instrumentApprovals(audited.approvals);

  const baseTools: AnyTool[] = [...toolset.tools, ...(dependencies.tools ?? [])];
  const spawn: SpawnTools | undefined = config.tools.spawn
    ? createSpawnTools({
        tools: baseTools,
        store: coordination.taskStore,
        maxLiveTasksPerTenant: config.tasks.maxLivePerTenant,
        defaultTimeoutMs: config.tasks.defaultTimeoutMs,
        maxTimeoutMs: config.tasks.maxTimeoutMs,
        tenant: (call) => owners.get(call.scriptId)?.tenant ?? 'unknown',
        policy: audited.policy,
        approve: (request, signal) => approvals.request(request, signal),
      })
    : undefined;
  if (spawn !== undefined) coordination.adoptTasks(baseTools);

  const harness = createHarness({
    runtime,
    tools: [...baseTools, ...(spawn?.tools ?? [])],
    limits: config.limits,
    maxLimits: config.maxLimits,
    policy: audited.policy,
    approvals,
    telemetry: withScriptLogging(telemetry, logger),
  });

  // Who wants to hear of new approvals of a script: the run of that script, for its event stream.
  const approvalWatchers = new Map<string, (approval: PendingApproval) => void>();
  const stopWatchers = broker.on('requested', (approval) => approvalWatchers.get(approval.scriptId)?.(approval));
  const queue = coordination.createQueue(
    createExecutionRunner({
      harness: runs.wrap(harness),
      owners,
      watchApprovals(scriptId, listener) {
        approvalWatchers.set(scriptId, listener);
        return () => {
          if (approvalWatchers.get(scriptId) === listener) approvalWatchers.delete(scriptId);
        };
      },
    }),
  );
  const unobserveQueue = telemetry.observeQueue(() => queue.stats());
  /** Everything after the HTTP listener, in order: the queue first, telemetry last. */
  const closeComposition = async (graceMs: number, beforeHarness: () => Promise<void>) => {
    await queue.close({ graceMs });
    // Spawned tasks go to other nodes (with Redis) before the spawn tools would cancel them.
    await coordination.releaseTasks();
    await spawn?.close();
    await beforeHarness();
    await harness.close();
    await toolset.close();
    await coordination.close();
    stopWatchers();
    unobserveQueue();
    unobservePool();
    await fileAudit?.close();
    await telemetry.shutdown();
  };
  try {
    await coordination.whenReady();
  } catch (error) {
    await closeComposition(0, async () => {});
    throw error;
  }
  logger.info({ coordination: coordination.description }, 'queue, approvals and tasks ready');

  let shuttingDown = false;
  const eventLoop = createEventLoopMonitor();
  const context: ServerContext = {
    config,
    logger,
    runtime,
    harness,
    queue,
    broker,
    tenantOfApproval: (id) => coordination.tenantOfApproval(id),
    owners,
    telemetry,
    metrics,
    tasks: spawn,
    eventLoop,
    isShuttingDown: () => shuttingDown,
  };

  const authenticator = config.insecureNoAuth ? undefined : createAuthenticator(config.apiKeys);
  const app = await createHttpApp(context, authenticator, runs);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      logger.info({ graceMs: config.shutdownGraceMs }, 'shutting down: finishing queued and running scripts');
      await closeComposition(config.shutdownGraceMs, () => app.close());
      eventLoop.stop();
      logger.info('shut down');
    })();
    return closing;
  };

  return { app, config, context, close };
}

/**
 * A connection that never sends a request (a browser's or a load balancer's pre-connection) would
 * hold the server's close until Node's request timeout: Node and fastify close only idle
 * connections that have served a request. At close such connections are destroyed; there is
 * nothing on them to finish. Connections that carry or carried a request close as before.
 */
function closeUnusedConnections(app: FastifyInstance): void {
  const unused = new Set<Socket>();
  let closing = false;
  app.server.on('connection', (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  app.server.on('request', (request: IncomingMessage) => unused.delete(request.socket));
  app.addHook('preClose', async () => {
    closing = true;
    for (const socket of unused) socket.destroy();
    unused.clear();
  });
}

/** The approvals of `approvals.mode` allow and deny: nobody is asked. */
function decideAtOnce(mode: 'allow' | 'deny'): ApprovalBroker {
  return mode === 'allow'
    ? { request: async () => ({ approved: true, by: 'approvals.mode allow' }) }
    : {
        request: async () => ({
          approved: false,
          reason: 'calls that need approval are denied on this server (approvals.mode deny)',
        }),
      };
}

/** The tools of the configuration (`tools`, `http`, `mcpServers`); a mistake in them is a ConfigError. */
async function toolsetOf(config: ServerConfig): Promise<Toolset> {
  try {
    return await createToolset({
      root: config.workspace,
      groups: config.tools,
      http: config.http,
      mcpServers: config.mcpServers,
      requested: config.tools.select,
    });
  } catch (error) {
    if (!(error instanceof ToolsetError)) throw error;
    const where = config.tools.select === undefined ? 'tools' : 'tools.select';
    throw new ConfigError([
      `${where}: ${error.message}${error.problems.length > 0 ? ` (${error.problems.join('; ')})` : ''}. ${error.remedy}`,
    ]);
  }
}

async function createHttpApp(
  context: ServerContext,
  authenticator: Authenticator | undefined,
  runs: RunRecorder,
): Promise<FastifyInstance> {
  const { config, metrics } = context;
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; typing it as such keeps the instance type the plain one.
    loggerInstance: context.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();
  closeUnusedConnections(app);

  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API; answers are plain JSON and never fail on their way out.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // JSON only: every other content type (text/plain included) is answered 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(new ApiError(400, 'MISSING_BODY', 'the body is empty; send a JSON object'), undefined);
      return;
    }
    try {
      done(null, parseJsonBody(text));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.decorateRequest('tenant', '');
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.inc({
      method: request.method,
      route: request.routeOptions.url ?? '(unmatched)',
      status: String(reply.statusCode),
    });
  });

  app.setErrorHandler((error, request, reply) => answerError(error, request, reply, context));
  const servesApi = config.role !== 'worker';
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const message =
      !servesApi && (path.startsWith('/v1/') || path === '/mcp')
        ? `this node runs in the worker role and serves no API: send ${request.method} ${path} to a node in the api or all role`
        : `there is no route ${request.method} ${path}`;
    return reply.code(404).send(new ApiError(404, 'NOT_FOUND', message).toBody());
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'harness-server',
        version: SERVER_VERSION,
        description: 'Runs model-written TypeScript in a QuickJS sandbox with tools, approvals, limits and telemetry.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  /** API keys as bearer tokens: the tenant of the request, or 401. */
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    if (authenticator === undefined) {
      request.tenant = LOCAL_TENANT;
      return;
    }
    const outcome = authenticator.authenticate(request.headers.authorization);
    if (!outcome.ok) {
      metrics.rejections.inc({ reason: 'unauthorized' });
      throw unauthorized(outcome.reason);
    }
    request.tenant = outcome.tenant;
  };

  await app.register(opsRoutes(context, authenticator));
  // A worker node only runs what other nodes queue: it answers the operations endpoints alone.
  if (!servesApi) return app;
  // The web console's files (no key needed); its calls go to /v1 like any client's.
  await app.register(uiRoutes());
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', authenticate);
      // Counted per API key, before the body is read: a tenant over its rate pays nothing more.
      await v1.register(rateLimit, {
        max: config.rateLimit.max,
        timeWindow: config.rateLimit.timeWindowMs,
        hook: 'preParsing',
        keyGenerator: (request) => request.tenant,
        errorResponseBuilder: (request, limit) => {
          metrics.rejections.inc({ reason: 'rate_limited' });
          return new ApiError(
            429,
            'RATE_LIMITED',
            `tenant ${request.tenant} sent more than ${limit.max} requests in ${limit.after}; retry later`,
          );
        },
      });
      await v1.register(scriptRoutes(context));
      await v1.register(messageRoutes(context));
      await v1.register(approvalRoutes(context));
      await v1.register(taskRoutes(context));
      await v1.register(infoRoutes(context));
      await v1.register(runRoutes(runs));
      await v1.register(approvalFeedRoutes(context, runs));
    },
    { prefix: '/v1' },
  );
  // Same API keys as /v1; tool calls of MCP scripts go through the same policy and approvals.
  await app.register(async (mcp) => {
    mcp.addHook('onRequest', authenticate);
    await mcp.register(mcpRoutes(context));
  });
  return app;
}

/**
 * The one place errors become answers. Every problem with the request is a 4xx naming it; load
 * and shutdown are 503 with Retry-After; anything else is the server's fault, logged, and
 * answered 500 without internals.
 */
function answerError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  context: ServerContext,
): FastifyReply {
  if (error instanceof ApiError) {
    return reply.code(error.statusCode).headers(error.headers).send(error.toBody());
  }
  if (error instanceof HarnessError) {
    const status = statusOfHarnessError(error.code);
    if (status === 503) reply.header('retry-after', String(context.config.queue.retryAfterSeconds));
    if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(harnessErrorBody(error));
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = error.validationContext ?? 'body';
    if (part === 'body' && request.body === undefined) {
      return reply
        .code(400)
        .send(
          new ApiError(
            400,
            'MISSING_BODY',
            'the request has no body; send a JSON object with Content-Type: application/json',
          ).toBody(),
        );
    }
    const issues = error.validation.map((issue) => ({
      path: `${part}${issue.instancePath === '/' ? '' : issue.instancePath.replaceAll('/', '.')}`,
      message: issue.message ?? 'invalid',
    }));
    return reply.code(400).send({
      error: {
        code: 'INVALID_REQUEST',
        message: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
        retryable: false,
        details: { issues },
      },
    });
  }
  const fastifyError = (error ?? {}) as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply
        .code(415)
        .send(
          new ApiError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `Content-Type ${JSON.stringify(request.headers['content-type'] ?? '(none)')} is not supported; send application/json`,
          ).toBody(),
        );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply
        .code(413)
        .send(
          new ApiError(
            413,
            'BODY_TOO_LARGE',
            `the body is larger than ${context.config.bodyLimitBytes} bytes`,
          ).toBody(),
        );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply.code(400).send(new ApiError(400, 'MISSING_BODY', 'the body is empty; send a JSON object').toBody());
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return reply.code(400).send(new ApiError(400, 'INVALID_JSON', 'the body is not valid JSON').toBody());
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(status).send(new ApiError(status, 'BAD_REQUEST', fastifyError.message ?? 'bad request').toBody());
  }
  request.log.error({ err: error }, 'request failed');
  return reply
    .code(500)
    .send({ error: { code: 'INTERNAL', message: 'the server failed to answer this request', retryable: true } });
}
