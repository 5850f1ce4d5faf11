// FakeQrs: an in-memory QRS for operator and monitor tests.
//
// Executions follow a script in (manual) clock time, like Qlik's scheduler:
// each attempt is Triggered, Queued for `queued`, Started for `running`, then
// ends with its final status; non-final attempts end as Retry and the next
// attempt's row appears `retryGap` later. Stops walk AbortInitiated →
// Aborting → Aborted. Every call is recorded, and the next calls of an
// operation can be made to fail, so a test can assert "exactly one start was
// sent" or "the wait survived three QRS errors".
//
// Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "qrs/client.h"

namespace qlik_reload::testing {

class FakeQrs final : public qrs::QrsClient {
 public:
  enum class Op {
    kStart, kStartByName, kGetSession, kFindSessions, kGetResults, kGetResultsById, kFindTaskResults, kFindTasks, kStop,
    kLogTicket, kLegacyLogTicket, kDownload, kAbout, kSubscribe, kUnsubscribe
  };

  struct Attempt {
    Duration queued{0};
    Duration running{1000};
    int finalStatus = 7;  // FinishedSuccess
  };

  struct Task {
    std::string id;
    std::string name;
    bool enabled = true;
    std::vector<Attempt> attempts{Attempt{}};
    Duration retryGap{500};
    Duration abortTime{400};      // AbortInitiated → Aborted
    Duration logDelay{0};         // the log can be downloaded this long after the end
    std::string scriptLog = "line 1\r\nline 2\r\nError: field not found\r\n";
    std::string node = "qlikserver1";
    Duration sessionVisibleAfter{0};  // the session answers 404 until this long after the start
    Duration resultsLag{0};           // rows show their end this long after the session is gone
    bool legacyLogOnly = false;       // scriptlogfile answers 404 (older QRS)
  };

  explicit FakeQrs(Clock& clock);

  void addTask(Task task);
  // Starts an execution of `taskId` as if someone else had (e.g. from QMC).
  std::string startExternally(const std::string& taskId);
  // The next `count` calls of `op` fail with `status` (after the call counts
  // as made). With `performFirst`, a start is carried out before failing:
  // the answer is what gets lost.
  void failNext(Op op, int count, Status status, bool performFirst = false);

  // Runs at the start of every getExecutionResults call, outside the fake's
  // lock: a test advances its manual clock there to make reads take time.
  void onResultsRead(std::function<void()> hook);

  int calls(Op op) const;
  int totalCalls() const;
  // Execution ids created by start calls (not by startExternally), in order.
  std::vector<std::string> startedExecutions() const;
  int stopsOf(const std::string& taskId) const;

  // QrsClient
  Result<qrs::StartReply> startTask(std::string_view taskId) override;
  Result<qrs::StartReply> startTaskByName(std::string_view name) override;
  Result<std::optional<qrs::ExecutionSession>> getExecutionSession(std::string_view id) override;
  Result<std::vector<qrs::ExecutionSession>> findExecutionSessionsOfTask(std::string_view taskId) override;
  Result<std::vector<qrs::ExecutionResult>> getExecutionResults(const std::vector<std::string>& ids) override;
  Result<std::vector<qrs::ExecutionResult>> getExecutionResultsById(const std::vector<std::string>& ids) override;
  Result<std::vector<qrs::ExecutionResult>> findExecutionResultsOfTask(std::string_view taskId,
                                                                       WallTime since) override;
  Result<std::vector<qrs::ReloadTaskInfo>> findReloadTasksByName(std::string_view name) override;
  Status stopTask(std::string_view taskId) override;
  Result<std::string> scriptLogTicket(std::string_view taskId, std::string_view resultId) override;
  Result<std::string> legacyScriptLogTicket(std::string_view taskId, std::string_view fileReferenceId) override;
  Result<std::string> downloadScriptLog(std::string_view ticket, std::size_t maxTailBytes) override;
  Result<qrs::AboutInfo> about() override;
  Result<std::string> subscribeChanges(std::string_view typeName, std::string_view filter,
                                       std::string_view callbackUrl) override;
  Status unsubscribeChanges(std::string_view handle) override;

  // Live subscriptions: handle → callback URL.
  std::map<std::string, std::string> subscriptions() const;

 private:
  struct Execution {
    std::string id;
    std::string taskId;
    Clock::TimePoint startedAt;
    std::optional<Clock::TimePoint> stopAt;
    std::vector<std::string> resultIds;
    std::string fileReferenceId;
  };
  struct Fault {
    int remaining;
    Status status;
    bool performFirst;
  };
  struct Snapshot {
    bool sessionLive;
    std::vector<qrs::ExecutionResult> rows;
    std::optional<Clock::TimePoint> endedAt;
  };

  std::optional<Status> takeFaultLocked(Op op, bool* performFirst);
  Result<qrs::StartReply> startLocked(const Task& task);
  Snapshot computeLocked(const Execution& e) const;
  bool liveLocked(const std::string& taskId) const;
  const Task* findTaskLocked(std::string_view id) const;

  Clock& clock_;
  mutable std::mutex mutex_;
  std::function<void()> resultsReadHook_;
  std::map<std::string, Task> tasks_;
  std::map<std::string, Execution> executions_;
  std::vector<std::string> ownStarts_;
  std::map<Op, std::deque<Fault>> faults_;
  std::map<Op, int> calls_;
  std::map<std::string, int> stops_;
  std::map<std::string, std::string> tickets_;  // ticket → execution id
  std::map<std::string, std::string> subscriptions_;
};

}  // namespace qlik_reload::testing
