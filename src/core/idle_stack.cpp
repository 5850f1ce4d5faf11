#include "core/idle_stack.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace qlik_reload {
namespace {

// Kept below the waiting frame: the wait's own calls (mutex, condition
// variable, futex) and the 128-byte red zone fit in far less.
constexpr std::uintptr_t kMargin = 4 * 1024;

struct StackBounds {
  bool known = false;
  std::uintptr_t low = 0;  // lowest usable address (above the guard page)
};

StackBounds findBounds() {
  StackBounds bounds;
  if (static_cast<pid_t>(syscall(SYS_gettid)) == getpid()) return bounds;  // the main thread
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return bounds;
  void* address = nullptr;
  size_t size = 0;
  size_t guard = 0;
  if (pthread_attr_getstack(&attr, &address, &size) == 0 && pthread_attr_getguardsize(&attr, &guard) == 0 &&
      address != nullptr) {
    bounds.known = true;
    bounds.low = reinterpret_cast<std::uintptr_t>(address) + guard;
  }
  pthread_attr_destroy(&attr);
  return bounds;
}

}  // namespace

void releaseIdleStack() {
  thread_local const StackBounds bounds = findBounds();
  if (!bounds.known) return;
  const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::uintptr_t here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  if (here < bounds.low + kMargin + page) return;
  const std::uintptr_t low = (bounds.low + page - 1) & ~(page - 1);
  const std::uintptr_t high = (here - kMargin) & ~(page - 1);
  if (high <= low) return;
  madvise(reinterpret_cast<void*>(low), high - low, MADV_DONTNEED);
}

}  // namespace qlik_reload
