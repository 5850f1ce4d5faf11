#include "signal_watcher.h"

#include <pthread.h>

namespace qlik_reload::cli {

SignalWatcher::SignalWatcher(std::function<void(int)> onSignal) : onSignal_(std::move(onSignal)) {
  sigemptyset(&watched_);
  sigaddset(&watched_, SIGINT);
  sigaddset(&watched_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &watched_, &previous_);
  thread_ = std::thread([this] { loop(); });
}

SignalWatcher::~SignalWatcher() {
  stopping_ = true;
  // Wake the sigwait() with a signal aimed at that thread alone; it sees
  // stopping_ and leaves without calling onSignal_. SIGTERM is blocked in
  // every thread, so this only wakes sigwait(); it never terminates anything.
  pthread_kill(thread_.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

void SignalWatcher::loop() {
  for (;;) {
    int signalNumber = 0;
    if (sigwait(&watched_, &signalNumber) != 0) continue;
    if (stopping_) return;
    onSignal_(signalNumber);
  }
}

}  // namespace qlik_reload::cli
