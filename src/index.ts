/**
 * jobwire — event-driven background jobs for TypeScript.
 *
 * The public API: create a client with a driver (`jobwire/sqlite`, `jobwire/postgres`), define
 * tasks, enqueue jobs, run pools, listen to typed events.
 */
// The built-in drivers' registrations (no database library loads until one is opened), so
// `openDriver('postgres://…')` and `openDriver('./jobs.db')` work from this entry point.
import './drivers/builtin.js';

export type { AttemptOutcome } from './core/attempt.js';
export { backoffDelay, DEFAULT_BACKOFF } from './core/backoff.js';
export {
  type BulkResult,
  type CountJobsOptions,
  createJobwire,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type EnqueuedJob,
  type EnqueueItem,
  type JobFilter,
  Jobwire,
  type JobwireOptions,
  type ListJobsOptions,
  MAX_ENQUEUE_MANY_JOBS,
  type QueueCountsOptions,
  type QueueOptions,
  type TypedEnqueueItem,
} from './core/client.js';
export { COUNT_PRECISION_MARK, combinePrecision } from './core/count-precision.js';
export {
  type DebounceOption,
  type DedupRule,
  type DedupRuleName,
  describeDedupRule,
  type ThrottleOption,
  type UniqueOption,
} from './core/dedup.js';
export { type Duration, formatDuration, parseDuration } from './core/duration.js';
export * from './core/errors.js';
export { assertEventNames, LOGGED_EVENT_NAMES } from './core/event-log/names.js';
// The durable event log's shapes (`jobwire.events.read/tail/subscribe`, `jobwire.jobEvents`).
export type {
  EventLogFilter,
  EventPage,
  EventPosition,
  EventReadOptions,
  EventTailOptions,
  LoggedEvent,
  LoggedEventName,
  LoggedEvents,
} from './core/event-log/types.js';
export type {
  HealthAlertEvent,
  HealthAlertKind,
  QueueHealthEvent,
  ScheduleEventBase,
} from './core/events.js';
export {
  type AnyEventListener,
  type AttemptEventBase,
  EventBus,
  type JobEventBase,
  type JobwireEventName,
  type JobwireEvents,
  type JobwireListener,
  type WorkerEventBase,
} from './core/events.js';
export { FlowApi, type FlowRuleInfo } from './core/flow/api.js';
export {
  DEFAULT_DEPENDENCY_POLICY,
  type DependencyPolicy,
  type DependsOn,
} from './core/flow/dependencies.js';
export { type FlowGraph, type FlowNode, parentWithChildren } from './core/flow/flow.js';
export type { FlowRateDefinition, FlowRuleDefinition } from './core/flow/rules.js';
export type { AttemptHook, AttemptInfo, EnqueueBatch, EnqueueHook } from './core/hooks.js';
export { assertKnownOptions, closestName, optionNames } from './core/known-options.js';
export type { HealthOptions, QueueHealthThresholds } from './core/leader/health-monitor.js';
// Queue health: statistics, the leader-only monitor and its thresholds.
export {
  evaluateThreshold,
  RESOLVE_RATIO,
  type ThresholdDecision,
} from './core/leader/health-thresholds.js';
export { DEFAULT_POOL_LOST_AFTER_HEARTBEATS, type MaintenanceOptions } from './core/leader/maintenance.js';
export type { PruneReport } from './core/leader/pruner.js';
export type { LeaderService } from './core/leader/service.js';
export type { EnqueueOptions } from './core/options.js';
export { isQueueName } from './core/options.js';
export { Pool, type PoolOptions } from './core/pool/pool.js';
export {
  DEFAULT_RETENTION,
  type DeleteJobsFilter,
  RETENTION_STATES,
  type RetentionOptions,
  type RetentionRule,
  type RetentionRules,
} from './core/retention.js';
export { type Logger, silentLogger } from './core/runtime.js';
export {
  defineSchedule,
  type MissedRunPolicy,
  type ScheduleDefinition,
  type ScheduleJobOptions,
  type StoredScheduleDefinition,
} from './core/schedule-definition.js';
export { formatInZone, isTimeZone } from './core/schedule-time.js';
export type { ScheduleInfo, SchedulesApi } from './core/schedules-api.js';
export {
  type AnyTask,
  type AnyTaskRef,
  type DependencyResult,
  declareTask,
  defineTask,
  isTaskName,
  type JobDefaults,
  type Task,
  type TaskContext,
  type TaskContract,
  type TaskHandler,
  type TaskInput,
  type TaskRef,
  type TaskResult,
} from './core/task.js';
export { isTaskEvent, type TaskEvent } from './core/task-events.js';
export {
  ACTIVE_STATES,
  type BackoffFunction,
  type BackoffSpec,
  type Clock,
  type CountPrecision,
  type EpochMs,
  FINAL_STATES,
  JOB_STATES,
  type JobRecord,
  type JobState,
  type QueueCounts,
  type QueueInfo,
  type StoredError,
  systemClock,
} from './core/types.js';
export type { WaitForJobOptions } from './core/wait.js';
export type {
  DependencyEdge,
  DependencyEdgeState,
  DependentChange,
  JobDependencies,
  QueueStats,
  SchemaVersion,
} from './driver/driver.js';
export {
  DEFAULT_MAX_INTERRUPTIONS,
  type Driver,
  type DriverCapabilities,
  type FinishedState,
  JOB_LIST_SCAN_CAP,
  type Notifier,
  type PoolRecord,
  type PoolRunState,
  type StoredTaskDefaults,
  type TaskDefaultsRecord,
} from './driver/driver.js';
export {
  DatabaseNotFoundError,
  type DriverRegistration,
  DriverUnavailableError,
  describeLocation,
  type OpenDriverOptions,
  openDriver,
  registerDriver,
  registeredSchemes,
  UnknownDriverSchemeError,
} from './driver/registry.js';
// Sinks without a dependency of their own; tracing (which needs @opentelemetry/api) is `jobwire/tracing`.
export { defaultLogLevel, type LogEventsOptions, type LogLevel, logEvents, logMessage } from './sinks/log.js';
