#include <catch2/catch.hpp>

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <future>

#include "signal_watcher.h"

using namespace qlik_reload::cli;

TEST_CASE("SignalWatcher hands SIGINT and SIGTERM to its thread and restores the mask", "[cli][signal]") {
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  REQUIRE_FALSE(sigismember(&before, SIGTERM));
  {
    std::promise<int> first;
    std::promise<int> second;
    int calls = 0;
    SignalWatcher watcher([&](int signalNumber) {
      if (++calls == 1) {
        first.set_value(signalNumber);
      } else if (calls == 2) {
        second.set_value(signalNumber);
      }
    });
    // Blocked in this thread: the signals go to the watcher's sigwait().
    sigset_t during;
    pthread_sigmask(SIG_SETMASK, nullptr, &during);
    CHECK(sigismember(&during, SIGINT));
    CHECK(sigismember(&during, SIGTERM));

    kill(getpid(), SIGTERM);
    auto firstSeen = first.get_future();
    REQUIRE(firstSeen.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(firstSeen.get() == SIGTERM);
    kill(getpid(), SIGINT);
    auto secondSeen = second.get_future();
    REQUIRE(secondSeen.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(secondSeen.get() == SIGINT);
  }
  sigset_t after;
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  CHECK_FALSE(sigismember(&after, SIGTERM));
  CHECK_FALSE(sigismember(&after, SIGINT));
}
