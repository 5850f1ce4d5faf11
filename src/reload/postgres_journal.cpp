// The PostgreSQL journal, through Poco Data: the same tables as the SQLite
// journal, shared by several workers. Each call borrows a connection from a
// small pool; the unique index on (site, idempotency_key) decides which of
// two workers claims a key (INSERT … ON CONFLICT DO NOTHING).
//
// Only Poco's generic Data API and the PostgreSQL connector's registration
// and exception headers are used here: the others include libpq-fe.h, which
// Debian's libpoco-dev does not bring along.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <vector>

#include <Poco/Data/DataException.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include "reload/journal.h"
#include "reload/journal_row.h"

namespace qlik_reload {
namespace {

using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using Poco::Data::Keywords::use;

// Connections open at once; further calls wait for one to come back. The
// journal sees a few writes per execution, so a handful is plenty, and a
// worker with thousands of waiting callers does not exhaust the server's
// max_connections.
constexpr std::size_t kMaxConnections = 4;
// How long the login may take when the connection string does not say
// (connect_timeout).
constexpr std::size_t kLoginTimeoutSeconds = 10;

using journal_row::fromRow;
using journal_row::kColumns;
using journal_row::Row;

std::optional<JournalEntry> firstEntry(const std::vector<Row>& rows) {
  return rows.empty() ? std::optional<JournalEntry>() : std::optional<JournalEntry>(fromRow(rows.front()));
}

// The connection string without its password, and the password's forms a
// message might carry. Poco puts the whole connection string into some of
// its exceptions ("Not connected to data source: host=… password=…").
class Secrets {
 public:
  explicit Secrets(const std::string& connectionString) {
    std::size_t at = 0;
    while (at < connectionString.size()) {
      while (at < connectionString.size() && connectionString[at] == ' ') ++at;
      std::size_t end = connectionString.find(' ', at);
      if (end == std::string::npos) end = connectionString.size();
      const std::string token = connectionString.substr(at, end - at);
      at = end;
      if (token.empty()) continue;
      const std::size_t equals = token.find('=');
      const std::string keyword = token.substr(0, std::min(equals, token.size()));
      if (keyword == "sslpassword") continue;  // the client key's: never shown either
      if (equals != std::string::npos && keyword == "password") {
        const std::string escaped = token.substr(equals + 1);
        if (!escaped.empty()) forms_.push_back(escaped);
        std::string plain;
        for (std::size_t i = 0; i < escaped.size(); ++i) {
          if (escaped[i] == '\\' && i + 1 < escaped.size()) ++i;
          plain += escaped[i];
        }
        if (!plain.empty() && plain != escaped) forms_.push_back(plain);
        continue;
      }
      shown_ += (shown_.empty() ? "" : " ") + token;
    }
    // The longest first, so that a form containing another is masked whole.
    std::sort(forms_.begin(), forms_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }

  // "host=db port=5432 dbname=qlik_reload user=qlik_reload"
  const std::string& shown() const { return shown_; }

  std::string mask(std::string text) const {
    for (const std::string& form : forms_) {
      for (std::size_t at = text.find(form); at != std::string::npos; at = text.find(form, at + 3)) {
        text.replace(at, form.size(), "***");
      }
    }
    // Any other "password=…", whatever produced it.
    static const std::regex password(R"(password\s*=\s*('(\\.|[^'\\])*'|(\\.|[^\s\\])*))");
    text = std::regex_replace(text, password, "password=***");
    // libpq's messages span lines; the log has one line per event.
    static const std::regex space(R"(\s+)");
    text = std::regex_replace(text, space, " ");
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
  }

 private:
  std::string shown_;
  std::vector<std::string> forms_;
};

struct ConnectorRegistration {
  ConnectorRegistration() { Poco::Data::PostgreSQL::Connector::registerConnector(); }
};

class PostgresJournal final : public Journal {
 public:
  explicit PostgresJournal(const std::string& connectionString)
      : connectionString_(connectionString), secrets_(connectionString) {}

  // Connects once and creates what is missing. Throws Poco exceptions.
  void open() {
    std::unique_ptr<Poco::Data::Session> session = connect();
    Poco::Data::Session& s = *session;
    // Two workers starting together on an empty database would race on
    // CREATE … IF NOT EXISTS; the first takes this lock, the second then
    // finds everything in place.
    s.begin();
    s << "SELECT pg_advisory_xact_lock(7251034917730512896)", now;
    s << "CREATE TABLE IF NOT EXISTS executions ("
         "intent_id TEXT PRIMARY KEY, site TEXT NOT NULL, execution_id TEXT NOT NULL DEFAULT '', "
         "task_id TEXT NOT NULL DEFAULT '', task_name TEXT NOT NULL DEFAULT '', "
         "idempotency_key TEXT NOT NULL DEFAULT '', labels TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, "
         "terminal INTEGER NOT NULL DEFAULT 0, timed_out INTEGER NOT NULL DEFAULT 0, "
         "attached INTEGER NOT NULL DEFAULT 0, requested_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, "
         "finished_at BIGINT NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '', "
         "owner TEXT NOT NULL DEFAULT '', seq BIGINT GENERATED ALWAYS AS IDENTITY)",
        now;
    s << "CREATE UNIQUE INDEX IF NOT EXISTS executions_key ON executions(site, idempotency_key) "
         "WHERE idempotency_key <> ''",
        now;
    s << "CREATE INDEX IF NOT EXISTS executions_execution ON executions(site, execution_id)", now;
    s << "CREATE INDEX IF NOT EXISTS executions_open ON executions(site, terminal)", now;
    s << "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", now;
    s.commit();
    std::lock_guard<std::mutex> guard(poolMutex_);
    idle_.push_back(std::move(session));
  }

  const Secrets& secrets() const { return secrets_; }

  Result<Claim> recordIntent(const JournalEntry& entry) override {
    return guarded<Claim>("record the start of " + entry.taskId + entry.taskName, [&](Poco::Data::Session& s) {
      Claim claim;
      JournalEntry e = entry;
      int terminal = 0, timedOut = 0, attached = 0;
      Poco::Int64 requested = e.requestedAtMs, updated = e.requestedAtMs, finished = 0;
      // The holder of the key may release it between our insert and our
      // look-up; then the insert is tried again.
      for (int round = 0; round < 3; ++round) {
        std::vector<std::string> inserted;
        s << "INSERT INTO executions (" << kColumns
          << ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
             "ON CONFLICT DO NOTHING RETURNING intent_id",
            use(e.intentId), use(e.site), use(e.executionId), use(e.taskId), use(e.taskName), use(e.idempotencyKey),
            use(e.labels), use(e.state), use(terminal), use(timedOut), use(attached), use(requested), use(updated),
            use(finished), use(e.message), use(e.owner), into(inserted), now;
        if (!inserted.empty()) {
          claim.claimed = true;
          return claim;
        }
        std::optional<JournalEntry> holder =
            e.idempotencyKey.empty() ? findByIntent(s, e.intentId) : findByKey(s, e.site, e.idempotencyKey);
        if (holder && holder->intentId == e.intentId) {
          // Our own insert, whose answer an earlier attempt of this call lost.
          claim.claimed = true;
          return claim;
        }
        if (holder) {
          claim.existing = *holder;
          return claim;
        }
      }
      throw Poco::Data::DataException("the idempotency key changed hands three times while it was claimed");
    });
  }

  Status recordStarted(const std::string& intentId, const std::string& executionId, const std::string& taskId,
                       bool attached, const std::string& message) override {
    return guardedStatus("record execution " + executionId, [&](Poco::Data::Session& s) {
      std::string id = intentId, exec = executionId, task = taskId, text = message;
      int flag = attached ? 1 : 0;
      std::string state = "QUEUED";
      s << "UPDATE executions SET execution_id = $1, task_id = CASE WHEN $2 <> '' THEN $2 ELSE task_id END, "
           "attached = $3, state = $4, message = $5 WHERE intent_id = $6",
          use(exec), use(task), use(flag), use(state), use(text), use(id), now;
    });
  }

  Status recordNotStarted(const std::string& intentId, const std::string& state,
                          const std::string& message) override {
    return guardedStatus("record a start that did not start", [&](Poco::Data::Session& s) {
      std::string id = intentId, st = state, text = message;
      s << "UPDATE executions SET state = $1, terminal = 1, idempotency_key = '', message = $2, "
           "finished_at = updated_at WHERE intent_id = $3",
          use(st), use(text), use(id), now;
    });
  }

  Status recordStatus(const std::string& site, const ReloadStatus& status, std::int64_t nowMs) override {
    return guardedStatus("record the state of execution " + status.executionId, [&](Poco::Data::Session& s) {
      std::string st = site, exec = status.executionId, state = reloadStateName(status.state), text = status.message;
      std::string task = status.taskId, name = status.taskName;
      int terminal = status.terminal ? 1 : 0, timedOut = status.timedOut ? 1 : 0;
      Poco::Int64 updated = nowMs;
      Poco::Int64 finished = status.terminal ? (status.finishedAt ? toEpochMs(*status.finishedAt) : nowMs) : 0;
      s << "UPDATE executions SET state = $1, terminal = $2, timed_out = GREATEST(timed_out, $3), message = $4, "
           "updated_at = $5, finished_at = $6, task_id = CASE WHEN task_id = '' THEN $7 ELSE task_id END, "
           "task_name = CASE WHEN task_name = '' THEN $8 ELSE task_name END "
           "WHERE site = $9 AND execution_id = $10",
          use(state), use(terminal), use(timedOut), use(text), use(updated), use(finished), use(task), use(name),
          use(st), use(exec), now;
    });
  }

  Result<std::optional<JournalEntry>> findByKey(const std::string& site, const std::string& key) override {
    return guarded<std::optional<JournalEntry>>(
        "look up idempotency key", [&](Poco::Data::Session& s) { return findByKey(s, site, key); });
  }

  Result<std::optional<JournalEntry>> findByExecution(const std::string& site,
                                                     const std::string& executionId) override {
    return guarded<std::optional<JournalEntry>>("look up execution " + executionId, [&](Poco::Data::Session& s) {
      std::vector<Row> rows;
      std::string st = site, exec = executionId;
      s << "SELECT " << kColumns
        << " FROM executions WHERE site = $1 AND execution_id = $2 ORDER BY requested_at DESC, seq DESC LIMIT 1",
          use(st), use(exec), into(rows), now;
      return firstEntry(rows);
    });
  }

  Result<std::vector<JournalEntry>> unfinished(const std::string& site) override {
    return select("SELECT " + std::string(kColumns) +
                      " FROM executions WHERE site = $1 AND terminal = 0 ORDER BY requested_at, seq",
                  site);
  }

  Result<std::vector<JournalEntry>> all(const std::string& site) override {
    return select("SELECT " + std::string(kColumns) + " FROM executions WHERE site = $1 ORDER BY requested_at, seq",
                  site);
  }

  Result<std::string> getMeta(const std::string& key) override {
    return guarded<std::string>("read " + key, [&](Poco::Data::Session& s) {
      std::vector<std::string> values;
      std::string k = key;
      s << "SELECT value FROM meta WHERE key = $1", use(k), into(values), now;
      return values.empty() ? std::string() : values.front();
    });
  }

  Status setMeta(const std::string& key, const std::string& value) override {
    return guardedStatus("write " + key, [&](Poco::Data::Session& s) {
      std::string k = key, v = value;
      s << "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
          use(k), use(v), now;
    });
  }

  Result<int> prune(std::int64_t beforeMs) override {
    return guarded<int>("prune the journal", [&](Poco::Data::Session& s) {
      Poco::Int64 before = beforeMs;
      std::vector<std::string> deleted;
      s << "DELETE FROM executions WHERE terminal = 1 AND finished_at < $1 RETURNING intent_id", use(before),
          into(deleted), now;
      return static_cast<int>(deleted.size());
    });
  }

 private:
  std::unique_ptr<Poco::Data::Session> connect() {
    auto session = std::make_unique<Poco::Data::Session>("PostgreSQL", connectionString_, kLoginTimeoutSeconds);
    // "relation … already exists, skipping" and the like would go to stderr.
    *session << "SET client_min_messages = warning", now;
    return session;
  }

  // Waits for a free slot, then hands out an idle connection unless `fresh`
  // (nullptr: the caller connects). `reused` says whether it was idle.
  std::unique_ptr<Poco::Data::Session> acquire(bool fresh, bool& reused) {
    std::unique_lock<std::mutex> lock(poolMutex_);
    slotFreed_.wait(lock, [this] { return inUse_ < kMaxConnections; });
    ++inUse_;
    reused = !fresh && !idle_.empty();
    if (!reused) return nullptr;
    std::unique_ptr<Poco::Data::Session> session = std::move(idle_.back());
    idle_.pop_back();
    return session;
  }

  // Gives a slot back, with its connection when that is still usable. A
  // connection that broke is dropped, and so are the idle ones: what broke
  // one (a server restart, a proxy) most likely broke them all. (Poco 1.11
  // frees libpq's connection object only while it is connected, so each
  // broken one leaks a few kilobytes: per outage and connection, not per
  // call.)
  void release(std::unique_ptr<Poco::Data::Session> session) {
    std::lock_guard<std::mutex> guard(poolMutex_);
    if (session && session->isConnected()) {
      idle_.push_back(std::move(session));
    } else {
      idle_.clear();
    }
    --inUse_;
    slotFreed_.notify_one();
  }

  // Runs `body` on a pooled connection and turns a Poco exception into
  // kUnavailable. When an idle connection turns out to have broken while it
  // sat in the pool, the body runs once more on a new one: every body is
  // safe to repeat (updates set values; an insert that had landed is
  // recognised as ours).
  template <typename T, typename F>
  Result<T> guarded(const std::string& what, F&& body) {
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      std::unique_ptr<Poco::Data::Session> session = acquire(attempt > 0, reused);
      try {
        if (!session) session = connect();
        T value = body(*session);
        release(std::move(session));
        return Result<T>(std::move(value));
      } catch (const Poco::Exception& e) {
        const bool broken = session == nullptr || !session->isConnected();
        release(std::move(session));
        if (reused && broken && attempt == 0) continue;
        return Status::unavailable("journal (PostgreSQL " + secrets_.shown() + "): cannot " + what + ": " +
                                   secrets_.mask(e.displayText()));
      }
    }
  }

  template <typename F>
  Status guardedStatus(const std::string& what, F&& body) {
    auto result = guarded<bool>(what, [&](Poco::Data::Session& s) {
      body(s);
      return true;
    });
    return result.isOk() ? Status::ok() : result.status();
  }

  std::optional<JournalEntry> findByKey(Poco::Data::Session& s, const std::string& site, const std::string& key) {
    std::vector<Row> rows;
    std::string st = site, k = key;
    s << "SELECT " << kColumns << " FROM executions WHERE site = $1 AND idempotency_key = $2", use(st), use(k),
        into(rows), now;
    return firstEntry(rows);
  }

  std::optional<JournalEntry> findByIntent(Poco::Data::Session& s, const std::string& intentId) {
    std::vector<Row> rows;
    std::string id = intentId;
    s << "SELECT " << kColumns << " FROM executions WHERE intent_id = $1", use(id), into(rows), now;
    return firstEntry(rows);
  }

  Result<std::vector<JournalEntry>> select(const std::string& sql, const std::string& site) {
    return guarded<std::vector<JournalEntry>>("read the journal", [&](Poco::Data::Session& s) {
      std::vector<Row> rows;
      std::string st = site;
      s << sql, use(st), into(rows), now;
      std::vector<JournalEntry> out;
      out.reserve(rows.size());
      for (const Row& r : rows) out.push_back(fromRow(r));
      return out;
    });
  }

  const std::string connectionString_;
  const Secrets secrets_;
  std::mutex poolMutex_;
  std::condition_variable slotFreed_;
  std::size_t inUse_ = 0;
  std::vector<std::unique_ptr<Poco::Data::Session>> idle_;
};

}  // namespace

Result<std::unique_ptr<Journal>> openPostgresJournal(const std::string& connectionString) {
  static ConnectorRegistration registration;
  auto journal = std::make_unique<PostgresJournal>(connectionString);
  const Secrets& secrets = journal->secrets();
  const std::string name = "state.postgresql (" + secrets.shown() + ")";
  try {
    journal->open();
  } catch (const Poco::Data::ConnectionFailedException& e) {
    return Status::unavailable(name + ": cannot connect: " + secrets.mask(e.displayText()));
  } catch (const Poco::Exception& e) {
    return Status::configuration(name + ": cannot open the journal: " + secrets.mask(e.displayText()));
  }
  return std::unique_ptr<Journal>(std::move(journal));
}

}  // namespace qlik_reload
