// PEP 475 for every backend: a wait interrupted by a signal (EINTR) is retried with the time that
// remains, and once that has run out, with one last zero-timeout poll (mio#494, cpython#79491).
#pragma once

#include <errno.h>
#include <time.h>
#include <climits>
#include <cmath>

namespace selectloop {

double MonotonicMs();

// Milliseconds for a kernel that counts in whole ms, rounded *up* so that a positive timeout is
// never turned into a busy non-blocking poll (python/asyncio#106), clamped to what int holds.
inline int CeilMs(double ms) {
  if (ms <= 0) return 0;
  double c = std::ceil(ms);
  return c >= static_cast<double>(INT_MAX) ? INT_MAX : static_cast<int>(c);
}

// `wait(remainingMs)` performs one system call with a timeout (negative = block) and returns its
// result or -1 with errno set. Returns the count of ready entries or -errno.
template <typename Wait>
int RetryWait(double timeoutMs, Wait wait) {
  if (timeoutMs < 0) {
    for (;;) {
      int r = wait(-1.0);
      if (r >= 0) return r;
      if (errno != EINTR) return -errno;
    }
  }
  if (timeoutMs == 0) {
    // A plain poll reads no clock; interrupted, it is simply tried once more (as the deadline
    // path below would: the time is already up, so one last zero-timeout poll).
    int r = wait(0.0);
    if (r >= 0 || errno != EINTR) return r >= 0 ? r : -errno;
    r = wait(0.0);
    return r >= 0 ? r : (errno == EINTR ? 0 : -errno);
  }
  const double deadline = MonotonicMs() + timeoutMs;
  double remaining = timeoutMs;
  bool lastTry = false;
  for (;;) {
    int r = wait(remaining);
    if (r > 0) return r;
    if (r < 0 && errno != EINTR) return -errno;
    if (lastTry) return r < 0 ? 0 : r;
    remaining = deadline - MonotonicMs();
    if (remaining <= 0) {
      if (r == 0) return 0;
      lastTry = true;  // interrupted and out of time: one zero-timeout poll
      remaining = 0;
    }
    // r == 0 with time left happens when a wait was clamped (INT_MAX ms) or woke early: go on.
  }
}

}  // namespace selectloop
