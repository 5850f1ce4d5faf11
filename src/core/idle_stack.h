// releaseIdleStack: gives the kernel back the stack pages a thread touched
// earlier but does not use while it waits.
//
// The worker serves each connection on its own thread, and thousands of
// callers may be parked in a long wait at once. A thread that once went deep
// (a QRS request through TLS touches tens of KiB of stack) keeps those pages
// resident for the rest of its life although nothing below the waiting frame
// is live. Before a long wait, the pages below the caller's frame (minus a
// margin for the wait itself) are dropped with MADV_DONTNEED; they come back
// zero-filled on the next touch. Only the region below the stack pointer is
// released, which the ABI treats as dead, so this is safe at any point.
#pragma once

namespace qlik_reload {

// No-op on the main thread (its stack is the process's, grown on demand) and
// where the thread's stack cannot be found.
void releaseIdleStack();

}  // namespace qlik_reload
