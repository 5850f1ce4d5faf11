// Turns SIGINT/SIGTERM into calls on an ordinary thread.
//
// The constructor blocks the signals in the calling thread (with
// pthread_sigmask; construct it before any other thread exists, so every
// thread inherits the mask) and starts one thread that sigwait()s for them
// and calls `onSignal` with each signal number, one at a time. Without a
// handler installed the process is no longer killed by these signals.
//
// The destructor stops and joins the thread and restores the old mask;
// signals that arrive after that get their default action again.
#pragma once

#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

namespace qlik_reload::cli {

class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void(int)> onSignal);
  ~SignalWatcher();

  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void loop();

  std::function<void(int)> onSignal_;
  sigset_t watched_;
  sigset_t previous_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace qlik_reload::cli
