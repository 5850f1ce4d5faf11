// Journal: the worker's durable record of every execution it starts.
//
// Each start is written twice: an intent before the start request (site,
// task, idempotency key, labels, time) and the answer after it (execution
// id, or "not started"). State changes and the outcome follow. On restart
// the worker reads the unfinished entries back and resumes following them,
// and an idempotency key keeps returning its execution across restarts until
// the entry is pruned, so a retried pipeline step never starts a second
// reload.
//
// Idempotency keys are claimed atomically by the store (a unique index on
// site + key), so two requests, or two workers sharing a store, cannot both
// claim one key.
//
// Implementations are thread-safe. Nothing secret is ever written: entries
// hold ids, names, labels, states and messages only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "reload/status.h"

namespace qlik_reload {

// Pseudo-states of an entry besides the ReloadState names.
inline constexpr const char* kJournalStarting = "STARTING";          // intent written, no answer yet
inline constexpr const char* kJournalStartFailed = "START_FAILED";   // the start failed; nothing runs

struct JournalEntry {
  std::string intentId;      // a GUID made for the start request
  std::string site;
  std::string executionId;   // empty until QRS answered with one
  std::string taskId;
  std::string taskName;
  std::string idempotencyKey;  // empty when none (or released)
  std::string labels;        // "dag=sales run=r1"
  std::string state;         // kJournalStarting, kJournalStartFailed or a ReloadState name
  bool terminal = false;
  bool timedOut = false;
  bool attached = false;
  std::int64_t requestedAtMs = 0;
  std::int64_t updatedAtMs = 0;
  std::int64_t finishedAtMs = 0;  // 0 while not finished
  std::string message;       // the last status message or error
  std::string owner;         // the worker that wrote the intent (OperatorOptions::workerId)
};

class Journal {
 public:
  virtual ~Journal() = default;

  struct Claim {
    bool claimed = false;      // the intent was written
    JournalEntry existing;     // when not claimed: the entry holding the key
  };
  // Writes the intent. When entry.idempotencyKey is set and another entry of
  // the site holds it, nothing is written and that entry is returned.
  virtual Result<Claim> recordIntent(const JournalEntry& entry) = 0;
  // The start answered with (or attached to) an execution.
  virtual Status recordStarted(const std::string& intentId, const std::string& executionId,
                               const std::string& taskId, bool attached, const std::string& message) = 0;
  // Nothing started (NOT_STARTED or a failed start): the key is released.
  virtual Status recordNotStarted(const std::string& intentId, const std::string& state,
                                  const std::string& message) = 0;
  // A followed execution changed; every entry for it is updated.
  virtual Status recordStatus(const std::string& site, const ReloadStatus& status, std::int64_t nowMs) = 0;

  virtual Result<std::optional<JournalEntry>> findByKey(const std::string& site, const std::string& key) = 0;
  // The newest entry for the execution.
  virtual Result<std::optional<JournalEntry>> findByExecution(const std::string& site,
                                                             const std::string& executionId) = 0;
  // Entries of the site that are STARTING or not terminal, oldest first.
  virtual Result<std::vector<JournalEntry>> unfinished(const std::string& site) = 0;
  // Every entry of the site, oldest first (for tests and inspection).
  virtual Result<std::vector<JournalEntry>> all(const std::string& site) = 0;
  // Small named values kept with the journal (e.g. this worker's change
  // subscription handle, to remove it after a restart). "" when unset.
  virtual Result<std::string> getMeta(const std::string& key) = 0;
  virtual Status setMeta(const std::string& key, const std::string& value) = 0;

  // Deletes finished entries (terminal or not started) whose end is older
  // than `beforeMs`; returns how many.
  virtual Result<int> prune(std::int64_t beforeMs) = 0;
};

// The embedded store: one SQLite file (folders created as needed; ":memory:"
// for a private in-memory database). Fails with kConfiguration naming the
// path when it cannot be opened or written.
Result<std::unique_ptr<Journal>> openSqliteJournal(const std::string& path);

// The shared store: a PostgreSQL database, for several workers behind a load
// balancer (docs/deployment.md). `connectionString` is libpq keyword=value
// pairs separated by single spaces (Poco's connector splits at spaces, so no
// value may hold one), e.g. "host=db port=5432 dbname=qlik_reload
// user=qlik_reload password=…"; a password in it never appears in a message.
// The tables are created when missing. Calls share a pool of at most four
// connections (more wait for one); a connection that broke is replaced, so a
// journal call during an outage fails with kUnavailable and the first one
// after it works again. Opening fails with kUnavailable when the server
// cannot be reached or refuses the login, and with kConfiguration when the
// string is malformed or the tables cannot be created.
Result<std::unique_ptr<Journal>> openPostgresJournal(const std::string& connectionString);

}  // namespace qlik_reload
