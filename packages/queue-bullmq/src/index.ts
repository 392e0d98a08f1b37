export {
  createRedisApprovalBroker,
  type RedisApprovalBroker,
  type RedisApprovalBrokerOptions,
} from './approval-broker.ts';
export {
  describeConnection,
  type ErrorReporter,
  parseRedisUrl,
  type RedisConnection,
  redisOptionsOf,
} from './connection.ts';
export {
  type BullMQJobHandle,
  type BullMQJobQueue,
  type BullMQJobSubmission,
  type BullMQQueueOptions,
  type BullMQRunContext,
  createBullMQQueue,
  defaultNodeId,
  NODE_ROLES,
  type NodeRole,
} from './queue.ts';
export {
  type AdoptOptions,
  createRedisTaskStore,
  type RedisTaskStore,
  type RedisTaskStoreOptions,
} from './task-store.ts';
