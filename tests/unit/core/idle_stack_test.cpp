// releaseIdleStack drops the pages below the caller's frame and nothing the
// caller still uses. Residency is read with mincore().
#include "core/idle_stack.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace qlik_reload {
namespace {

constexpr std::size_t kDeep = 512 * 1024;

// Touches kDeep bytes of stack below the caller, then returns.
__attribute__((noinline)) std::uintptr_t goDeep() {
  volatile char block[kDeep];
  for (std::size_t i = 0; i < kDeep; i += 512) block[i] = static_cast<char>(i);
  return reinterpret_cast<std::uintptr_t>(&block[0]);
}

std::size_t residentPages(std::uintptr_t low, std::uintptr_t high) {
  const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  low = (low + page - 1) & ~(page - 1);
  high &= ~(page - 1);
  if (high <= low) return 0;
  std::vector<unsigned char> flags((high - low) / page);
  if (mincore(reinterpret_cast<void*>(low), high - low, flags.data()) != 0) return SIZE_MAX;
  std::size_t resident = 0;
  for (unsigned char f : flags) resident += f & 1u;
  return resident;
}

struct Observed {
  std::size_t before = 0;
  std::size_t after = 0;
  bool frameIntact = false;
};

TEST_CASE("releaseIdleStack gives back the pages below the frame and keeps the frame", "[core][stack]") {
  Observed seen;
  std::thread worker([&seen] {
    char mine[4096];
    std::memset(mine, 0x5a, sizeof mine);
    const std::uintptr_t deepest = goDeep();
    const std::uintptr_t here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    // Well below this frame (past the function's 4 KiB margin).
    const std::uintptr_t top = here - 64 * 1024;
    seen.before = residentPages(deepest, top);
    releaseIdleStack();
    seen.after = residentPages(deepest, top);
    seen.frameIntact = true;
    for (char c : mine) seen.frameIntact = seen.frameIntact && c == 0x5a;
  });
  worker.join();
  INFO("resident pages before " << seen.before << ", after " << seen.after);
  REQUIRE(seen.before != SIZE_MAX);
  CHECK(seen.before > 64);  // the deep call left them resident
  CHECK(seen.after == 0);
  CHECK(seen.frameIntact);
}

TEST_CASE("releaseIdleStack on the main thread changes nothing", "[core][stack]") {
  // The main thread's stack is the process's; it is left alone.
  const std::uintptr_t deepest = goDeep();
  const std::uintptr_t top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)) - 64 * 1024;
  const std::size_t before = residentPages(deepest, top);
  releaseIdleStack();
  CHECK(residentPages(deepest, top) == before);
}

}  // namespace
}  // namespace qlik_reload
