// The journal's row as both backends (SQLite, PostgreSQL) read it: the
// column list of every SELECT, the tuple Poco Data fills, and the entry it
// makes. Internal to src/reload.
#pragma once

#include <string>

#include <Poco/Tuple.h>
#include <Poco/Types.h>

#include "reload/journal.h"

namespace qlik_reload::journal_row {

// Column order of every SELECT.
inline constexpr const char* kColumns =
    "intent_id, site, execution_id, task_id, task_name, idempotency_key, labels, state, terminal, timed_out, "
    "attached, requested_at, updated_at, finished_at, message, owner";

using Row = Poco::Tuple<std::string, std::string, std::string, std::string, std::string, std::string, std::string,
                        std::string, int, int, int, Poco::Int64, Poco::Int64, Poco::Int64, std::string, std::string>;

inline JournalEntry fromRow(const Row& r) {
  JournalEntry e;
  e.intentId = r.get<0>();
  e.site = r.get<1>();
  e.executionId = r.get<2>();
  e.taskId = r.get<3>();
  e.taskName = r.get<4>();
  e.idempotencyKey = r.get<5>();
  e.labels = r.get<6>();
  e.state = r.get<7>();
  e.terminal = r.get<8>() != 0;
  e.timedOut = r.get<9>() != 0;
  e.attached = r.get<10>() != 0;
  e.requestedAtMs = r.get<11>();
  e.updatedAtMs = r.get<12>();
  e.finishedAtMs = r.get<13>();
  e.message = r.get<14>();
  e.owner = r.get<15>();
  return e;
}

}  // namespace qlik_reload::journal_row
