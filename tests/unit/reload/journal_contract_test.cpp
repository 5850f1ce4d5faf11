// One contract, every Journal: the journal-only cases of journal_test.cpp,
// run on the SQLite journal and on the PostgreSQL journal (a real server:
// the "postgres" CTest fixture), each case in a store of its own. Then what
// only a server brings: connections that break, a server that cannot be
// reached, a password that must never show.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <Poco/Data/Session.h>

#include "core/guid.h"
#include "reload/journal.h"
#include "test_postgres.h"

using namespace qlik_reload;
using qlik_reload::testing::TestPostgres;

namespace {

const std::string kTask = "7f3c0c1a-1111-4222-8333-944455556666";

// One empty journal store of a backend; open() gives a new handle on it (as
// a second worker, or the same worker after a restart, would have).
class Store {
 public:
  // nullopt when the backend is PostgreSQL and the tests run without it
  // (QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1 on a machine without the server).
  static std::optional<Store> make(const std::string& backend) {
    Store store;
    store.backend_ = backend;
    if (backend == "sqlite") {
      store.folder_ = (std::filesystem::temp_directory_path() /
                       ("qlik-reload-contract-" + std::to_string(::getpid()) + "-" + newGuid()))
                          .string();
      return store;
    }
    auto server = TestPostgres::find();
    if (!server) return std::nullopt;
    store.connection_ = server->withPassword(server->freshSchema());
    return store;
  }
  Store(Store&& other) noexcept = default;
  ~Store() {
    if (!folder_.empty()) std::filesystem::remove_all(folder_);
  }

  std::unique_ptr<Journal> open() const {
    auto journal = backend_ == "sqlite" ? openSqliteJournal(folder_ + "/journal.db") : openPostgresJournal(connection_);
    INFO(backend_);
    REQUIRE(journal.isOk());
    return std::move(journal).value();
  }

 private:
  Store() = default;
  std::string backend_;
  std::string folder_;      // sqlite
  std::string connection_;  // postgresql
};

// The store of the backend this run of the test case is for. Skipping is
// said aloud, and only happens when asked for.
#define QLIK_CONTRACT_STORE(store, backend)                                                               \
  auto store##Made = Store::make(backend);                                                                \
  if (!store##Made) {                                                                                     \
    WARN("skipped on PostgreSQL: no server installed and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1");          \
    return;                                                                                               \
  }                                                                                                       \
  const Store& store = *store##Made

JournalEntry intent(const std::string& key, std::int64_t at = 1000, const std::string& site = "default") {
  JournalEntry e;
  e.intentId = newGuid();
  e.site = site;
  e.taskId = kTask;
  e.idempotencyKey = key;
  e.labels = "dag=sales run=r1";
  e.state = kJournalStarting;
  e.requestedAtMs = at;
  e.owner = "worker-1";
  return e;
}

ReloadStatus state(const std::string& executionId, ReloadState s, bool terminal = false) {
  ReloadStatus status;
  status.executionId = executionId;
  status.state = s;
  status.terminal = terminal;
  return status;
}

}  // namespace

TEST_CASE("Journal contract: an intent, its answer and its states round-trip", "[journal][contract]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  QLIK_CONTRACT_STORE(store, backend);
  auto journal = store.open();

  JournalEntry e = intent("k1", 1000);
  e.taskName = "Reload Sales";
  e.message = "it's a \"quoted\" message; with \\ and ünïcödé";
  auto claim = journal->recordIntent(e);
  REQUIRE(claim.isOk());
  CHECK(claim->claimed);
  auto open1 = journal->unfinished("default");
  REQUIRE(open1.isOk());
  REQUIRE(open1->size() == 1);
  const JournalEntry& read = open1->at(0);
  CHECK(read.intentId == e.intentId);
  CHECK(read.state == kJournalStarting);
  CHECK(read.taskId == kTask);
  CHECK(read.taskName == "Reload Sales");
  CHECK(read.idempotencyKey == "k1");
  CHECK(read.labels == "dag=sales run=r1");
  CHECK(read.message == e.message);
  CHECK(read.owner == "worker-1");
  CHECK(read.requestedAtMs == 1000);
  CHECK(read.executionId.empty());
  CHECK_FALSE(read.terminal);

  const std::string exec = newGuid();
  REQUIRE(journal->recordStarted(e.intentId, exec, kTask, true, "started").isOk());
  REQUIRE(journal->recordStatus("default", state(exec, ReloadState::kRunning), 2000).isOk());
  auto byExec = journal->findByExecution("default", exec);
  REQUIRE(byExec.isOk());
  REQUIRE(byExec->has_value());
  CHECK((*byExec)->state == "RUNNING");
  CHECK((*byExec)->attached);
  CHECK((*byExec)->updatedAtMs == 2000);
  CHECK_FALSE(journal->findByExecution("emea", exec)->has_value());

  ReloadStatus done = state(exec, ReloadState::kSucceeded, true);
  done.timedOut = true;
  done.finishedAt = fromEpochMs(5000);
  REQUIRE(journal->recordStatus("default", done, 5001).isOk());
  // A later state without the flag does not clear timed_out.
  done.timedOut = false;
  REQUIRE(journal->recordStatus("default", done, 5002).isOk());
  auto open2 = journal->unfinished("default");
  REQUIRE(open2.isOk());
  CHECK(open2->empty());
  auto byKey = journal->findByKey("default", "k1");
  REQUIRE(byKey.isOk());
  REQUIRE(byKey->has_value());
  CHECK((*byKey)->executionId == exec);
  CHECK((*byKey)->state == "SUCCEEDED");
  CHECK((*byKey)->terminal);
  CHECK((*byKey)->timedOut);
  CHECK((*byKey)->finishedAtMs == 5000);
  CHECK_FALSE(journal->findByKey("default", "k2")->has_value());
}

TEST_CASE("Journal contract: entries are listed oldest first; unfinished leaves out what ended", "[journal][contract]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  QLIK_CONTRACT_STORE(store, backend);
  auto journal = store.open();
  JournalEntry late = intent("", 3000), early = intent("", 1000), same = intent("", 3000), ended = intent("", 2000);
  for (const JournalEntry* e : {&late, &early, &same, &ended}) REQUIRE(journal->recordIntent(*e)->claimed);
  REQUIRE(journal->recordIntent(intent("", 500, "emea"))->claimed);
  REQUIRE(journal->recordNotStarted(ended.intentId, "NOT_STARTED", "disabled").isOk());

  auto all = journal->all("default");
  REQUIRE(all.isOk());
  std::vector<std::string> order;
  for (const auto& e : all.value()) order.push_back(e.intentId);
  // Equal times keep the order of writing.
  CHECK(order == std::vector<std::string>{early.intentId, ended.intentId, late.intentId, same.intentId});
  auto unfinished = journal->unfinished("default");
  REQUIRE(unfinished.isOk());
  order.clear();
  for (const auto& e : unfinished.value()) order.push_back(e.intentId);
  CHECK(order == std::vector<std::string>{early.intentId, late.intentId, same.intentId});
  CHECK(all->at(1).state == "NOT_STARTED");
  CHECK(all->at(1).terminal);
}

TEST_CASE("Journal contract: a key is claimed once; a start that started nothing releases it", "[journal][contract]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  QLIK_CONTRACT_STORE(store, backend);
  auto journal = store.open();
  JournalEntry first = intent("dag/run/task");
  REQUIRE(journal->recordIntent(first)->claimed);
  auto second = journal->recordIntent(intent("dag/run/task"));
  REQUIRE(second.isOk());
  CHECK_FALSE(second->claimed);
  CHECK(second->existing.intentId == first.intentId);
  CHECK(second->existing.owner == "worker-1");
  // Keys are per site.
  CHECK(journal->recordIntent(intent("dag/run/task", 1000, "emea"))->claimed);
  // Entries without a key never collide.
  CHECK(journal->recordIntent(intent(""))->claimed);
  CHECK(journal->recordIntent(intent(""))->claimed);

  REQUIRE(journal->recordNotStarted(first.intentId, "NOT_STARTED", "disabled").isOk());
  CHECK(journal->findByKey("default", "dag/run/task")->has_value() == false);
  CHECK(journal->recordIntent(intent("dag/run/task"))->claimed);
}

TEST_CASE("Journal contract: two handles on one store cannot both claim a key", "[journal][contract]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  QLIK_CONTRACT_STORE(store, backend);
  auto a = store.open();
  auto b = store.open();
  auto first = a->recordIntent(intent("shared"));
  auto second = b->recordIntent(intent("shared"));
  REQUIRE(first.isOk());
  REQUIRE(second.isOk());
  CHECK(first->claimed);
  CHECK_FALSE(second->claimed);

  // Many claims at once from both handles (two workers' request threads):
  // each key goes to exactly one, and every loser is shown the winner.
  constexpr int kKeys = 10;
  constexpr int kThreadsPerHandle = 4;
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>> claimedBy;  // key → intent ids that claimed it
  std::map<std::string, std::set<std::string>> shown;         // key → holders losers were shown
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (Journal* handle : {a.get(), b.get()}) {
    for (int t = 0; t < kThreadsPerHandle; ++t) {
      threads.emplace_back([&, handle] {
        for (int k = 0; k < kKeys; ++k) {
          const std::string key = "race/" + std::to_string(k);
          JournalEntry e = intent(key);
          auto claim = handle->recordIntent(e);
          std::lock_guard<std::mutex> guard(mutex);
          if (!claim.isOk()) {
            ++failures;
          } else if (claim->claimed) {
            claimedBy[key].push_back(e.intentId);
          } else {
            shown[key].insert(claim->existing.intentId);
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "race/" + std::to_string(k);
    CAPTURE(key);
    REQUIRE(claimedBy[key].size() == 1);
    CHECK(shown[key] == std::set<std::string>{claimedBy[key].front()});
  }
}

TEST_CASE("Journal contract: entries survive reopening the store", "[journal][contract]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  QLIK_CONTRACT_STORE(store, backend);
  const std::string exec = newGuid();
  {
    auto journal = store.open();
    JournalEntry e = intent("k");
    REQUIRE(journal->recordIntent(e)->claimed);
    REQUIRE(journal->recordStarted(e.intentId, exec, kTask, false, "").isOk());
    REQUIRE(journal->setMeta("push_handle:default", "h1").isOk());
  }
  auto journal = store.open();
  auto open1 = journal->unfinished("default");
  REQUIRE(open1.isOk());
  REQUIRE(open1->size() == 1);
  CHECK(open1->at(0).executionId == exec);
  CHECK(open1->at(0).state == "QUEUED");
  CHECK(journal->getMeta("push_handle:default").value() == "h1");
  CHECK_FALSE(journal->recordIntent(intent("k"))->claimed);
}

TEST_CASE("Journal contract: pruning drops finished entries older than the cut-off, nothing else",
          "[journal][contract]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  QLIK_CONTRACT_STORE(store, backend);
  auto journal = store.open();
  auto finished = [&](std::int64_t at, const std::string& key) {
    JournalEntry e = intent(key, at);
    REQUIRE(journal->recordIntent(e)->claimed);
    const std::string exec = newGuid();
    REQUIRE(journal->recordStarted(e.intentId, exec, kTask, false, "").isOk());
    ReloadStatus s = state(exec, ReloadState::kFailed, true);
    s.finishedAt = fromEpochMs(at + 10);
    REQUIRE(journal->recordStatus("default", s, at + 10).isOk());
  };
  finished(1'000, "old");
  finished(2'000, "old2");
  finished(100'000, "new");
  JournalEntry running = intent("running", 500);
  REQUIRE(journal->recordIntent(running)->claimed);
  auto pruned = journal->prune(50'000);
  REQUIRE(pruned.isOk());
  CHECK(pruned.value() == 2);
  CHECK_FALSE(journal->findByKey("default", "old")->has_value());
  CHECK_FALSE(journal->findByKey("default", "old2")->has_value());
  CHECK(journal->findByKey("default", "new")->has_value());
  CHECK(journal->findByKey("default", "running")->has_value());
  CHECK(journal->prune(50'000).value() == 0);
}

TEST_CASE("Journal contract: named values are kept and replaced", "[journal][contract]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  QLIK_CONTRACT_STORE(store, backend);
  auto a = store.open();
  auto b = store.open();
  CHECK(a->getMeta("push_handle:default").value().empty());
  REQUIRE(a->setMeta("push_handle:default", "a").isOk());
  REQUIRE(b->setMeta("push_handle:default", "b").isOk());
  REQUIRE(a->setMeta("push_handle:emea", "c").isOk());
  CHECK(a->getMeta("push_handle:default").value() == "b");
  CHECK(b->getMeta("push_handle:emea").value() == "c");
  REQUIRE(b->setMeta("push_handle:emea", "").isOk());
  CHECK(a->getMeta("push_handle:emea").value().empty());
}

// ---------------------------------------------------------------------------
// PostgreSQL only: the server and the network between.

namespace {

// A TCP relay between the journal and the server that a test can cut: while
// cut, every relayed connection is closed and every new one closed at once,
// as when the server went away or a proxy dropped us.
class CuttableRelay {
 public:
  explicit CuttableRelay(int targetPort) : targetPort_(targetPort) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 64) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    REQUIRE(::pipe(wake_) == 0);
    thread_ = std::thread([this] { run(); });
  }
  ~CuttableRelay() {
    stop_ = true;
    poke();
    thread_.join();
    for (auto [client, server] : pairs_) {
      ::close(client);
      ::close(server);
    }
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  int port() const { return port_; }
  // Returns once every relayed connection is closed.
  void cut() { setCut(true); }
  void restore() { setCut(false); }

 private:
  void setCut(bool cut) {
    std::unique_lock<std::mutex> lock(mutex_);
    cut_ = cut;
    const int wanted = ++requested_;
    poke();
    applied_.wait(lock, [&] { return done_ >= wanted; });
  }
  void poke() {
    const char byte = 1;
    (void)!::write(wake_[1], &byte, 1);
  }

  int connectTarget() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(targetPort_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  void closePair(std::size_t i) {
    ::close(pairs_[i].first);
    ::close(pairs_[i].second);
    pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
      for (auto [client, server] : pairs_) {
        fds.push_back({client, POLLIN, 0});
        fds.push_back({server, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;
      bool cut = false;
      {
        std::lock_guard<std::mutex> guard(mutex_);
        cut = cut_;
        if (fds[0].revents & POLLIN) {
          char buffer[64];
          (void)!::read(wake_[0], buffer, sizeof buffer);
        }
        if (cut) {
          while (!pairs_.empty()) closePair(0);
        }
        done_ = requested_;
        applied_.notify_all();
      }
      if (cut) {
        if (fds[1].revents & POLLIN) ::close(::accept(listener_, nullptr, nullptr));
        continue;
      }
      if (fds[1].revents & POLLIN) {
        const int client = ::accept(listener_, nullptr, nullptr);
        const int server = client >= 0 ? connectTarget() : -1;
        if (server < 0) {
          if (client >= 0) ::close(client);
        } else {
          pairs_.emplace_back(client, server);
        }
      }
      // Pump what is readable; a pair whose either end closed is closed.
      for (std::size_t i = pairs_.size(); i-- > 0;) {
        const std::size_t slot = 2 + 2 * i;
        if (slot + 1 >= fds.size()) continue;  // accepted in this round
        bool closed = false;
        for (int side = 0; side < 2 && !closed; ++side) {
          if (!(fds[slot + side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          const int from = side == 0 ? pairs_[i].first : pairs_[i].second;
          const int to = side == 0 ? pairs_[i].second : pairs_[i].first;
          char buffer[16384];
          const ssize_t n = ::read(from, buffer, sizeof buffer);
          closed = n <= 0 || ::send(to, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n;
        }
        if (closed) closePair(i);
      }
    }
  }

  const int targetPort_;
  int listener_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable applied_;
  bool cut_ = false;
  int requested_ = 0;
  int done_ = 0;
  std::vector<std::pair<int, int>> pairs_;  // (client, server); the relay thread's only
  std::thread thread_;
};

std::string withPort(std::string connection, int port) {
  const std::size_t at = connection.find("port=");
  const std::size_t end = connection.find(' ', at);
  return connection.replace(at, end - at, "port=" + std::to_string(port));
}

// The server's backends of connections named `application`.
std::set<int> backendsOf(const TestPostgres& server, const std::string& application) {
  Poco::Data::Session session("PostgreSQL", server.withPassword(server.connection()), 10);
  std::vector<int> pids;
  std::string name = application;
  session << "SELECT pid FROM pg_stat_activity WHERE application_name = $1", Poco::Data::Keywords::use(name),
      Poco::Data::Keywords::into(pids), Poco::Data::Keywords::now;
  return std::set<int>(pids.begin(), pids.end());
}

}  // namespace

TEST_CASE("PostgreSQL journal: connections the server dropped are replaced, and the call still works",
          "[journal][postgresql]") {
  auto server = TestPostgres::find();
  if (!server) {
    WARN("skipped: no PostgreSQL server installed and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1");
    return;
  }
  const std::string application = "contract_" + std::to_string(::getpid()) + "_dropped";
  auto opened = openPostgresJournal(server->withPassword(server->freshSchema() + " application_name=" + application));
  REQUIRE(opened.isOk());
  auto journal = std::move(opened).value();
  JournalEntry e = intent("before");
  REQUIRE(journal->recordIntent(e)->claimed);
  const std::set<int> before = backendsOf(*server, application);
  REQUIRE_FALSE(before.empty());

  // The server ends the journal's connections (as a restart or an
  // administrator would), and waits until they are gone.
  {
    Poco::Data::Session admin("PostgreSQL", server->withPassword(server->connection()), 10);
    std::vector<bool> ended;
    std::string name = application;
    admin << "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
             "WHERE CASE WHEN application_name = $1 THEN true ELSE false END",
        Poco::Data::Keywords::use(name), Poco::Data::Keywords::into(ended), Poco::Data::Keywords::now;
    REQUIRE(ended.size() == before.size());
  }
  CHECK(backendsOf(*server, application).empty());

  auto found = journal->findByKey("default", "before");
  CAPTURE(found.status().toString());
  REQUIRE(found.isOk());
  REQUIRE(found->has_value());
  CHECK((*found)->intentId == e.intentId);
  REQUIRE(journal->recordIntent(intent("after"))->claimed);
  const std::set<int> after = backendsOf(*server, application);
  CHECK_FALSE(after.empty());
  for (int pid : after) CHECK(before.count(pid) == 0);
}

TEST_CASE("PostgreSQL journal: while the server cannot be reached calls fail with unavailable, then work again",
          "[journal][postgresql]") {
  auto server = TestPostgres::find();
  if (!server) {
    WARN("skipped: no PostgreSQL server installed and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1");
    return;
  }
  CuttableRelay relay(server->port());
  const std::string connection = server->withPassword(withPort(server->freshSchema(), relay.port()));
  auto opened = openPostgresJournal(connection);
  CAPTURE(opened.status().toString());
  REQUIRE(opened.isOk());
  auto journal = std::move(opened).value();
  JournalEntry kept = intent("kept");
  REQUIRE(journal->recordIntent(kept)->claimed);

  relay.cut();
  std::vector<Status> failures;
  JournalEntry lost = intent("lost");
  auto claim = journal->recordIntent(lost);
  failures.push_back(claim.isOk() ? Status::ok() : claim.status());
  auto found = journal->findByKey("default", "kept");
  failures.push_back(found.isOk() ? Status::ok() : found.status());
  failures.push_back(journal->setMeta("push_handle:default", "x"));
  for (const Status& failure : failures) {
    CAPTURE(failure.toString());
    CHECK(failure.code() == ErrorCode::kUnavailable);
    CHECK_THAT(failure.message(), Catch::Contains("journal (PostgreSQL host=127.0.0.1 port=" +
                                                  std::to_string(relay.port())));
    CHECK_THAT(failure.message(), !Catch::Contains(server->password()));
    CHECK_THAT(failure.message(), !Catch::Contains(server->password().substr(0, 16)));
  }
  // A worker starting now cannot open it: unavailable, not a configuration error.
  auto unreachable = openPostgresJournal(connection);
  REQUIRE_FALSE(unreachable.isOk());
  CHECK(unreachable.status().code() == ErrorCode::kUnavailable);
  CHECK_THAT(unreachable.status().message(), !Catch::Contains(server->password().substr(0, 16)));

  relay.restore();
  auto again = journal->findByKey("default", "kept");
  CAPTURE(again.status().toString());
  REQUIRE(again.isOk());
  REQUIRE(again->has_value());
  CHECK((*again)->intentId == kept.intentId);
  CHECK(journal->recordIntent(intent("lost"))->claimed);
  CHECK(openPostgresJournal(connection).isOk());
}

TEST_CASE("PostgreSQL journal: a refused login is unavailable and never shows the password", "[journal][postgresql]") {
  auto server = TestPostgres::find();
  if (!server) {
    WARN("skipped: no PostgreSQL server installed and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1");
    return;
  }
  const std::string wrong = "Wr0ng-" + newGuid();
  auto journal = openPostgresJournal(server->connection() + " password=" + wrong);
  REQUIRE_FALSE(journal.isOk());
  CAPTURE(journal.status().toString());
  CHECK(journal.status().code() == ErrorCode::kUnavailable);
  CHECK_THAT(journal.status().message(), Catch::Contains("state.postgresql (host=127.0.0.1"));
  CHECK_THAT(journal.status().message(), Catch::Contains("password authentication failed"));
  CHECK_THAT(journal.status().message(), !Catch::Contains(wrong));
  CHECK_THAT(journal.status().message(), !Catch::Contains(wrong.substr(6, 12)));

  // A string Poco's connector cannot split is the configuration's fault.
  auto malformed = openPostgresJournal(server->connection() + " password=" + wrong + " oops");
  REQUIRE_FALSE(malformed.isOk());
  CHECK(malformed.status().code() == ErrorCode::kConfiguration);
  CHECK_THAT(malformed.status().message(), !Catch::Contains(wrong.substr(6, 12)));
}
