// select(2), bounded by FD_SETSIZE.
#include <sys/select.h>

#include "common.h"
#include "wait.h"

namespace selectloop {
namespace {

// selectWait(fds: Int32Array, nread, nwrite, nexcept, timeoutMs) -> n | -errno
// fds holds the read fds, then the write fds, then the except fds. On return every entry that
// is not ready is set to -1. An fd outside [0, FD_SETSIZE) is a RangeError: FD_SET on it would
// write outside the fd_set.
Napi::Value SelectWait(const Napi::CallbackInfo& info) {
  int64_t nr = ArgInteger(info, 1, "nread", 0, INT_MAX / 4);
  int64_t nw = ArgInteger(info, 2, "nwrite", 0, INT_MAX / 4);
  int64_t nx = ArgInteger(info, 3, "nexcept", 0, INT_MAX / 4);
  int64_t total = nr + nw + nx;
  int32_t* fds = ArgInt32Array(info, 0, "fds", static_cast<size_t>(total));
  double timeout = ArgTimeout(info, 4);
  int maxfd = -1;
  for (int64_t i = 0; i < total; i++) {
    if (fds[i] < 0 || fds[i] >= FD_SETSIZE)
      ThrowRange(info.Env(), "fd " + std::to_string(fds[i]) + " is out of range for select() (0 <= fd < " +
                                 std::to_string(FD_SETSIZE) + ")");
    if (fds[i] > maxfd) maxfd = fds[i];
  }
  fd_set sets[3];
  const int64_t bounds[4] = {0, nr, nr + nw, total};
  int n = RetryWait(timeout, [&](double ms) {
    for (int s = 0; s < 3; s++) {
      FD_ZERO(&sets[s]);
      for (int64_t i = bounds[s]; i < bounds[s + 1]; i++) FD_SET(fds[i], &sets[s]);
    }
    struct timeval tv;
    if (ms >= 0) {
      // Round up to the microsecond so a positive timeout never becomes a zero poll.
      double us = std::ceil(ms * 1000.0);
      if (us > 1e15) us = 1e15;
      tv.tv_sec = static_cast<time_t>(us / 1e6);
      tv.tv_usec = static_cast<suseconds_t>(us - static_cast<double>(tv.tv_sec) * 1e6);
    }
    return select(maxfd + 1, &sets[0], &sets[1], &sets[2], ms < 0 ? nullptr : &tv);
  });
  if (n < 0) return Result(info.Env(), n);
  for (int s = 0; s < 3; s++)
    for (int64_t i = bounds[s]; i < bounds[s + 1]; i++)
      if (n == 0 || !FD_ISSET(fds[i], &sets[s])) fds[i] = -1;
  return Result(info.Env(), n);
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports["selectWait"] = Napi::Function::New(env, SelectWait, "selectWait");
  exports["FD_SETSIZE"] = FD_SETSIZE;
}

}  // namespace selectloop
