/**
 * `GET /v1/tasks`, `GET /v1/tasks/{id}`, `DELETE /v1/tasks/{id}`: the detached tasks scripts
 * started with `tools.spawn.*`. A tenant sees and cancels only its own tasks; another tenant's
 * task answers 404. With spawn tools off, there are no tasks.
 */
import type { TaskRecord } from '@script-harness/tools';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ServerContext } from '../context.ts';
import { ApiError } from '../http-errors.ts';
import {
  ErrorResponseSchema,
  IdParamsSchema,
  TaskCancelledSchema,
  TaskListQuerySchema,
  TaskListSchema,
  TaskSchema,
} from '../schemas.ts';

const DEFAULT_TASK_LIST_LIMIT = 100;

export function taskRoutes(context: ServerContext): FastifyPluginAsyncZod {
  const { tasks } = context;

  const ownTask = async (id: string, tenant: string): Promise<TaskRecord> => {
    const task = tasks === undefined ? undefined : await tasks.getTask(id);
    if (task === undefined || task.tenant !== tenant) {
      throw new ApiError(404, 'NOT_FOUND', `there is no task ${JSON.stringify(id)}`);
    }
    return task;
  };

  return async (app) => {
    app.get(
      '/tasks',
      {
        schema: {
          tags: ['tasks'],
          summary: "The caller's spawned tasks, newest first",
          security: [{ apiKey: [] }],
          querystring: TaskListQuerySchema,
          response: { 200: TaskListSchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema },
        },
      },
      async (request) => {
        if (tasks === undefined) return { tasks: [] };
        const { status, limit } = request.query;
        const list = await tasks.listTasks({
          tenant: request.tenant,
          ...(status === undefined ? {} : { statuses: [status] }),
          limit: limit ?? DEFAULT_TASK_LIST_LIMIT,
        });
        return { tasks: list };
      },
    );

    app.get(
      '/tasks/:id',
      {
        schema: {
          tags: ['tasks'],
          summary: 'One spawned task: status, result or error',
          security: [{ apiKey: [] }],
          params: IdParamsSchema,
          response: { 200: TaskSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
        },
      },
      async (request) => ownTask(request.params.id, request.tenant),
    );

    app.delete(
      '/tasks/:id',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Cancel a spawned task',
          description: 'cancelled is false when the task had already ended; the task is returned as it stands.',
          security: [{ apiKey: [] }],
          params: IdParamsSchema,
          response: { 200: TaskCancelledSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
        },
      },
      async (request) => {
        const before = await ownTask(request.params.id, request.tenant);
        const live = before.status === 'queued' || before.status === 'running';
        const after = (await tasks?.cancelTask(before.id, `by tenant ${request.tenant}`)) ?? before;
        return { task: after, cancelled: live && after.status === 'cancelled' };
      },
    );
  };
}
