/**
 * The contract of qlik-reload-worker: start a Qlik Sense reload task, follow the
 * execution it started until Qlik has really finished it, and report the truth.
 *
 * Wire format: TFramedTransport + TBinaryProtocol on the worker port (plain TCP
 * on loopback by default, TLS when configured). Every client speaks exactly this.
 *
 * Times are milliseconds since the Unix epoch, UTC. Durations are milliseconds.
 * Execution ids are Qlik execution-session GUIDs (8-4-4-4-12 hex digits).
 */
namespace cpp qlik_reload.rpc
namespace py qlik_reload_thrift

/** Where a reload is in its life. Terminal states are SUCCEEDED, FAILED,
 *  ABORTED, SKIPPED and NOT_STARTED. */
enum ReloadState {
  QUEUED = 1,       // triggered or waiting for a scheduler slot
  RUNNING = 2,      // started (also between retries of one execution)
  STOPPING = 3,     // stop requested: AbortInitiated or Aborting
  SUCCEEDED = 4,    // FinishedSuccess
  FAILED = 5,       // FinishedFail, Error or Reset
  ABORTED = 6,      // Aborted (stopped in Qlik, by us or by someone else)
  SKIPPED = 7,      // Skipped by Qlik's scheduler
  NOT_STARTED = 8   // Qlik did not start the reload (all-zero GUID, unknown task)
}

/** What to do when Qlik does not start the task because it is already running. */
enum IfRunning {
  ATTACH = 1,  // follow the running execution and report its outcome (default)
  FAIL = 2,    // answer NOT_STARTED
  WAIT = 3     // wait for the running execution to finish, then start a new one
}

struct ReloadRequest {
  /** Name of a site in the worker's configuration. */
  1: string site = "default",
  /** Exactly one of taskId (a GUID) and taskName must be set. */
  2: optional string taskId,
  3: optional string taskName,
  /** Same site + key while the first execution is known: the same execution
   *  is returned and no second reload is started. */
  4: optional string idempotencyKey,
  /** runReload: stop waiting after this long, counted from the start request.
   *  Unset: wait until Qlik finishes (Qlik's own task session timeout applies). */
  5: optional i64 timeoutMs,
  /** On timeout, stop the task in Qlik and wait a bounded time for Aborted. */
  6: bool stopOnTimeout = true,
  /** Orchestrator context (dag id, run id, ...), echoed in the worker's logs. */
  7: optional map<string, string> labels,
  8: optional IfRunning ifRunning
}

struct ExecutionRef {
  1: string site = "default",
  2: string executionId
}

/** One ExecutionResult row: one attempt of the execution (Qlik retries add rows). */
struct Attempt {
  1: i32 qlikStatusCode,
  2: string qlikStatus,
  3: optional i64 startedAtMs,
  4: optional i64 finishedAtMs,
  5: i64 durationMs,
  6: string node,
  7: list<string> messages
}

struct ReloadStatus {
  /** Empty when nothing was started. */
  1: string executionId,
  2: string site,
  /** Empty until known (a start by name learns it from Qlik). */
  3: string taskId,
  4: ReloadState state,
  /** Qlik's TaskExecutionStatus of the latest attempt; "" and -1 when none yet. */
  5: string qlikStatus,
  6: i32 qlikStatusCode,
  7: bool terminal,
  /** The request's timeout passed before Qlik finished. */
  8: bool timedOut,
  9: list<Attempt> attempts,
  /** One human sentence: what happened and, on failure, why. */
  10: string message,
  /** Last lines of the script log when the reload did not succeed. */
  11: string scriptLogTail,
  12: optional i64 startedAtMs,
  13: optional i64 finishedAtMs,
  14: string taskName,
  /** True when this execution was started by someone else and we followed it. */
  15: bool attached
}

struct WorkerInfo {
  1: string version,
  2: list<string> sites
}

/** The request is wrong; retrying it unchanged will not help. */
exception InvalidRequest {
  1: string message,
  2: string field
}

exception UnknownSite {
  1: string message,
  2: string site
}

/** Qlik knows neither a session nor a result for this execution id. */
exception UnknownExecution {
  1: string message,
  2: string executionId
}

/** QRS could not be reached or answered with an error. When retryable is true,
 *  nothing was lost and the same call may be repeated. */
exception QlikUnavailable {
  1: string message,
  2: bool retryable
}

/** QRS refused the worker's identity (certificate or user). */
exception AccessDenied {
  1: string message
}

/** The worker's configuration for this site does not work, for example QRS's
 *  certificate does not verify against the configured CA or name. */
exception ConfigurationError {
  1: string message
}

service ReloadWorker {
  /** Starts the task; returns as soon as QRS has answered, with the execution id. */
  ReloadStatus startReload(1: ReloadRequest request)
      throws (1: InvalidRequest invalid, 2: UnknownSite unknownSite,
              3: QlikUnavailable unavailable, 4: AccessDenied denied,
              5: ConfigurationError config),

  /** Current state; never blocks on the reload. */
  ReloadStatus getReload(1: ExecutionRef ref)
      throws (1: InvalidRequest invalid, 2: UnknownSite unknownSite,
              3: UnknownExecution unknown, 4: QlikUnavailable unavailable,
              5: AccessDenied denied, 6: ConfigurationError config),

  /** Long poll: returns at the terminal state or after maxWaitMs, whichever first. */
  ReloadStatus waitReload(1: ExecutionRef ref, 2: i32 maxWaitMs)
      throws (1: InvalidRequest invalid, 2: UnknownSite unknownSite,
              3: UnknownExecution unknown, 4: QlikUnavailable unavailable,
              5: AccessDenied denied, 6: ConfigurationError config),

  /** Start, then block until terminal or until the request's timeout. */
  ReloadStatus runReload(1: ReloadRequest request)
      throws (1: InvalidRequest invalid, 2: UnknownSite unknownSite,
              3: QlikUnavailable unavailable, 4: AccessDenied denied,
              5: ConfigurationError config),

  /** Stops the task in Qlik and waits a bounded time for Aborted. */
  ReloadStatus cancelReload(1: ExecutionRef ref)
      throws (1: InvalidRequest invalid, 2: UnknownSite unknownSite,
              3: UnknownExecution unknown, 4: QlikUnavailable unavailable,
              5: AccessDenied denied, 6: ConfigurationError config),

  WorkerInfo ping()
}
