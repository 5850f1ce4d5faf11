// The SQLite journal, through Poco Data. One connection guarded by a mutex:
// writes are a few per execution, far below what one connection does.
#include <filesystem>
#include <mutex>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include "core/log.h"
#include "reload/journal.h"
#include "reload/journal_row.h"

namespace qlik_reload {
namespace {

using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using Poco::Data::Keywords::use;
using Poco::Data::Keywords::bind;

using journal_row::fromRow;
using journal_row::kColumns;
using journal_row::Row;

struct ConnectorRegistration {
  ConnectorRegistration() { Poco::Data::SQLite::Connector::registerConnector(); }
};

class SqliteJournal final : public Journal {
 public:
  explicit SqliteJournal(const std::string& path) : path_(path), session_("SQLite", path) {
    session_ << "PRAGMA journal_mode=WAL", now;
    session_ << "PRAGMA synchronous=NORMAL", now;
    session_ << "PRAGMA busy_timeout=5000", now;
    session_ << "CREATE TABLE IF NOT EXISTS executions ("
                "intent_id TEXT PRIMARY KEY, site TEXT NOT NULL, execution_id TEXT NOT NULL DEFAULT '', "
                "task_id TEXT NOT NULL DEFAULT '', task_name TEXT NOT NULL DEFAULT '', "
                "idempotency_key TEXT NOT NULL DEFAULT '', labels TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, "
                "terminal INTEGER NOT NULL DEFAULT 0, timed_out INTEGER NOT NULL DEFAULT 0, "
                "attached INTEGER NOT NULL DEFAULT 0, requested_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
                "finished_at INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '', "
                "owner TEXT NOT NULL DEFAULT '')",
        now;
    try {
      // Journals written before the owner column existed.
      session_ << "ALTER TABLE executions ADD COLUMN owner TEXT NOT NULL DEFAULT ''", now;
    } catch (const Poco::Exception&) {
      // The column is there already.
    }
    session_ << "CREATE UNIQUE INDEX IF NOT EXISTS executions_key ON executions(site, idempotency_key) "
                "WHERE idempotency_key <> ''",
        now;
    session_ << "CREATE INDEX IF NOT EXISTS executions_execution ON executions(site, execution_id)", now;
    session_ << "CREATE INDEX IF NOT EXISTS executions_open ON executions(site, terminal)", now;
    session_ << "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", now;
  }

  Result<Claim> recordIntent(const JournalEntry& entry) override {
    return guarded<Claim>("record the start of " + entry.taskId + entry.taskName, [&] {
      Claim claim;
      if (!entry.idempotencyKey.empty()) {
        auto existing = findByKeyLocked(entry.site, entry.idempotencyKey);
        if (existing) {
          claim.existing = *existing;
          return claim;
        }
      }
      JournalEntry e = entry;
      int terminal = 0, timedOut = 0, attached = 0;
      Poco::Int64 requested = e.requestedAtMs, updated = e.requestedAtMs, finished = 0;
      try {
        session_ << "INSERT INTO executions (" << kColumns
                 << ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            use(e.intentId), use(e.site), use(e.executionId), use(e.taskId), use(e.taskName), use(e.idempotencyKey),
            use(e.labels), use(e.state), use(terminal), use(timedOut), use(attached), use(requested), use(updated),
            use(finished), use(e.message), use(e.owner), now;
      } catch (const Poco::Data::SQLite::ConstraintViolationException&) {
        // Another process claimed the key between our look-up and insert.
        if (auto existing = findByKeyLocked(entry.site, entry.idempotencyKey)) {
          claim.existing = *existing;
          return claim;
        }
        throw;
      }
      claim.claimed = true;
      return claim;
    });
  }

  Status recordStarted(const std::string& intentId, const std::string& executionId, const std::string& taskId,
                       bool attached, const std::string& message) override {
    return guardedStatus("record execution " + executionId, [&] {
      std::string id = intentId, exec = executionId, task = taskId, text = message;
      int flag = attached ? 1 : 0;
      std::string state = "QUEUED";
      session_ << "UPDATE executions SET execution_id = ?, task_id = CASE WHEN ? <> '' THEN ? ELSE task_id END, "
                  "attached = ?, state = ?, message = ? WHERE intent_id = ?",
          use(exec), use(task), use(task), use(flag), use(state), use(text), use(id), now;
    });
  }

  Status recordNotStarted(const std::string& intentId, const std::string& state,
                          const std::string& message) override {
    return guardedStatus("record a start that did not start", [&] {
      std::string id = intentId, s = state, text = message;
      session_ << "UPDATE executions SET state = ?, terminal = 1, idempotency_key = '', message = ?, "
                  "finished_at = updated_at WHERE intent_id = ?",
          use(s), use(text), use(id), now;
    });
  }

  Status recordStatus(const std::string& site, const ReloadStatus& status, std::int64_t nowMs) override {
    return guardedStatus("record the state of execution " + status.executionId, [&] {
      std::string s = site, exec = status.executionId, state = reloadStateName(status.state), text = status.message;
      std::string task = status.taskId, name = status.taskName;
      int terminal = status.terminal ? 1 : 0, timedOut = status.timedOut ? 1 : 0;
      Poco::Int64 updated = nowMs;
      Poco::Int64 finished = status.terminal ? (status.finishedAt ? toEpochMs(*status.finishedAt) : nowMs) : 0;
      session_ << "UPDATE executions SET state = ?, terminal = ?, timed_out = MAX(timed_out, ?), message = ?, "
                  "updated_at = ?, finished_at = ?, task_id = CASE WHEN task_id = '' THEN ? ELSE task_id END, "
                  "task_name = CASE WHEN task_name = '' THEN ? ELSE task_name END "
                  "WHERE site = ? AND execution_id = ?",
          use(state), use(terminal), use(timedOut), use(text), use(updated), use(finished), use(task), use(name),
          use(s), use(exec), now;
    });
  }

  Result<std::optional<JournalEntry>> findByKey(const std::string& site, const std::string& key) override {
    return guarded<std::optional<JournalEntry>>("look up idempotency key", [&] { return findByKeyLocked(site, key); });
  }

  Result<std::optional<JournalEntry>> findByExecution(const std::string& site,
                                                     const std::string& executionId) override {
    return guarded<std::optional<JournalEntry>>("look up execution " + executionId, [&] {
      std::vector<Row> rows;
      std::string s = site, exec = executionId;
      session_ << "SELECT " << kColumns
               << " FROM executions WHERE site = ? AND execution_id = ? ORDER BY requested_at DESC LIMIT 1",
          use(s), use(exec), into(rows), now;
      return rows.empty() ? std::optional<JournalEntry>() : std::optional<JournalEntry>(fromRow(rows.front()));
    });
  }

  Result<std::vector<JournalEntry>> unfinished(const std::string& site) override {
    return select("SELECT " + std::string(kColumns) +
                      " FROM executions WHERE site = ? AND terminal = 0 ORDER BY requested_at, rowid",
                  site);
  }

  Result<std::vector<JournalEntry>> all(const std::string& site) override {
    return select("SELECT " + std::string(kColumns) + " FROM executions WHERE site = ? ORDER BY requested_at, rowid",
                  site);
  }

  Result<std::string> getMeta(const std::string& key) override {
    return guarded<std::string>("read " + key, [&] {
      std::vector<std::string> values;
      std::string k = key;
      session_ << "SELECT value FROM meta WHERE key = ?", use(k), into(values), now;
      return values.empty() ? std::string() : values.front();
    });
  }

  Status setMeta(const std::string& key, const std::string& value) override {
    return guardedStatus("write " + key, [&] {
      std::string k = key, v = value;
      session_ << "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", use(k), use(v), now;
    });
  }

  Result<int> prune(std::int64_t beforeMs) override {
    return guarded<int>("prune the journal", [&] {
      Poco::Int64 before = beforeMs;
      Poco::Data::Statement statement(session_);
      statement << "DELETE FROM executions WHERE terminal = 1 AND finished_at < ?", use(before);
      return static_cast<int>(statement.execute());
    });
  }

 private:
  std::optional<JournalEntry> findByKeyLocked(const std::string& site, const std::string& key) {
    std::vector<Row> rows;
    std::string s = site, k = key;
    session_ << "SELECT " << kColumns << " FROM executions WHERE site = ? AND idempotency_key = ?", use(s), use(k),
        into(rows), now;
    return rows.empty() ? std::optional<JournalEntry>() : std::optional<JournalEntry>(fromRow(rows.front()));
  }

  Result<std::vector<JournalEntry>> select(const std::string& sql, const std::string& site) {
    return guarded<std::vector<JournalEntry>>("read the journal", [&] {
      std::vector<Row> rows;
      std::string s = site;
      session_ << sql, use(s), into(rows), now;
      std::vector<JournalEntry> out;
      for (const Row& r : rows) out.push_back(fromRow(r));
      return out;
    });
  }

  template <typename T, typename F>
  Result<T> guarded(const std::string& what, F&& body) {
    std::lock_guard<std::mutex> guard(mutex_);
    try {
      return Result<T>(body());
    } catch (const Poco::Exception& e) {
      return Status::unavailable("journal " + path_ + ": cannot " + what + ": " + e.displayText());
    }
  }

  template <typename F>
  Status guardedStatus(const std::string& what, F&& body) {
    auto result = guarded<bool>(what, [&] {
      body();
      return true;
    });
    return result.isOk() ? Status::ok() : result.status();
  }

  std::mutex mutex_;
  const std::string path_;
  Poco::Data::Session session_;
};

}  // namespace

Result<std::unique_ptr<Journal>> openSqliteJournal(const std::string& path) {
  static ConnectorRegistration registration;
  if (path != ":memory:") {
    std::error_code error;
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder, error);
    if (error) {
      return Status::configuration("state.path: cannot create the folder " + folder.string() + ": " +
                                   error.message());
    }
  }
  try {
    return std::unique_ptr<Journal>(std::make_unique<SqliteJournal>(path));
  } catch (const Poco::Exception& e) {
    return Status::configuration("state.path: cannot open the journal " + path + ": " + e.displayText());
  }
}

}  // namespace qlik_reload
