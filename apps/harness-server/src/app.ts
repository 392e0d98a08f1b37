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
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { type AnyTool, createHarness, HarnessError } from '@script-harness/core';
import {
  type AuditSink,
  createApprovalBroker,
  createJsonlAuditSink,
  createRulePolicy,
  type JsonlAuditSink,
  type PendingApproval,
  withAudit,
} from '@script-harness/policy';
import { createQuickJSRuntime, type QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import { createLogger, createTelemetry, withScriptLogging } from '@script-harness/telemetry';
import { createFileTools, createMemoryTaskStore, createSpawnTools, type SpawnTools } from '@script-harness/tools';
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
import type { ServerConfig } from './config.ts';
import type { ApprovalDirectory, ServerContext } from './context.ts';
import { createExecutionQueue } from './execution.ts';
import { createEventLoopMonitor } from './health.ts';
import { ApiError, harnessErrorBody, parseJsonBody, statusOfHarnessError } from './http-errors.ts';
import { correlationIdOf, createScriptOwners } from './owners.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { messageRoutes } from './routes/messages.ts';
import { opsRoutes, unauthorized } from './routes/ops.ts';
import { scriptRoutes } from './routes/scripts.ts';
import { taskRoutes } from './routes/tasks.ts';
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
  const runtime =
    dependencies.runtime ??
    (await createQuickJSRuntime({
      mode: config.runtime.mode,
      ...(config.runtime.poolSize === undefined ? {} : { pool: { size: config.runtime.poolSize } }),
    }));
  const telemetry = createTelemetry({ runtimes: [runtime.name] });
  const unobservePool = telemetry.observePool(() => runtime.stats(), { runtime: runtime.name });
  const owners = createScriptOwners();
  const metrics = createServerMetrics();

  const broker = createApprovalBroker({ timeoutMs: config.approvals.timeoutMs });
  const rules = createRulePolicy({ rules: config.policy.rules });
  const fileAudit: JsonlAuditSink | undefined =
    dependencies.auditSink === undefined && config.auditFile !== undefined
      ? createJsonlAuditSink(config.auditFile, {
          onError: (error) => logger.error({ err: error }, 'the audit log could not be written'),
        })
      : undefined;
  const auditSink = dependencies.auditSink ?? fileAudit;
  const audited =
    auditSink === undefined
      ? { policy: rules, approvals: broker }
      : withAudit(rules, broker, auditSink, {
          correlationId: (request) => correlationIdOf(owners.get(request.scriptId)),
        });
  const approvals = telemetry.instrumentApprovals(audited.approvals);

  const baseTools: AnyTool[] = [
    ...(config.workspace !== undefined && config.tools.files ? createFileTools({ root: config.workspace }) : []),
    ...(dependencies.tools ?? []),
  ];
  const spawn: SpawnTools | undefined = config.tools.spawn
    ? createSpawnTools({
        tools: baseTools,
        store: createMemoryTaskStore(),
        maxLiveTasksPerTenant: config.tasks.maxLivePerTenant,
        defaultTimeoutMs: config.tasks.defaultTimeoutMs,
        maxTimeoutMs: config.tasks.maxTimeoutMs,
        tenant: (call) => owners.get(call.scriptId)?.tenant ?? 'unknown',
        policy: audited.policy,
        approve: (request, signal) => approvals.request(request, signal),
      })
    : undefined;

  const harness = createHarness({
    runtime,
    tools: [...baseTools, ...(spawn?.tools ?? [])],
    limits: config.limits,
    maxLimits: config.maxLimits,
    policy: audited.policy,
    approvals,
    telemetry: withScriptLogging(telemetry, logger),
  });

  const queue = createExecutionQueue({
    harness,
    owners,
    concurrency: config.queue.concurrency,
    maxQueued: config.queue.maxQueued,
    maxRunningPerTenant: config.queue.maxRunningPerTenant,
    retry: config.queue.retry,
  });
  const unobserveQueue = telemetry.observeQueue(() => queue.stats());

  // Approvals are tied to the tenant of their script when they are requested; settled ones are
  // remembered a while, so a late second decision answers 409 rather than 404.
  const approvalTenants = new Map<string, string>();
  const approvalWatchers = new Map<string, (approval: PendingApproval) => void>();
  const stopDirectory = broker.on('requested', (approval) => {
    const tenant = owners.get(approval.scriptId)?.tenant;
    if (tenant !== undefined) approvalTenants.set(approval.id, tenant);
    while (approvalTenants.size > MAX_REMEMBERED_APPROVALS) {
      const oldest = approvalTenants.keys().next().value;
      if (oldest === undefined) break;
      approvalTenants.delete(oldest);
    }
    approvalWatchers.get(approval.scriptId)?.(approval);
  });
  const approvalDirectory: ApprovalDirectory = {
    tenantOf: (id) => approvalTenants.get(id),
    watch(scriptId, listener) {
      approvalWatchers.set(scriptId, listener);
      return () => {
        if (approvalWatchers.get(scriptId) === listener) approvalWatchers.delete(scriptId);
      };
    },
  };

  let shuttingDown = false;
  const eventLoop = createEventLoopMonitor();
  const context: ServerContext = {
    config,
    logger,
    runtime,
    harness,
    queue,
    broker,
    approvals: approvalDirectory,
    owners,
    telemetry,
    metrics,
    tasks: spawn,
    eventLoop,
    isShuttingDown: () => shuttingDown,
  };

  const authenticator = config.insecureNoAuth ? undefined : createAuthenticator(config.apiKeys);
  const app = await createHttpApp(context, authenticator);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      logger.info({ graceMs: config.shutdownGraceMs }, 'shutting down: finishing queued and running scripts');
      await queue.close({ graceMs: config.shutdownGraceMs });
      await spawn?.close();
      await app.close();
      await harness.close();
      stopDirectory();
      unobserveQueue();
      unobservePool();
      eventLoop.stop();
      await fileAudit?.close();
      await telemetry.shutdown();
      logger.info('shut down');
    })();
    return closing;
  };

  return { app, config, context, close };
}

const MAX_REMEMBERED_APPROVALS = 10_000;

async function createHttpApp(
  context: ServerContext,
  authenticator: Authenticator | undefined,
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
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        new ApiError(404, 'NOT_FOUND', `there is no route ${request.method} ${request.url.split('?')[0]}`).toBody(),
      ),
  );

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
