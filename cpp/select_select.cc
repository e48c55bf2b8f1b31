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

// A bitmap argument: an Int32Array of at least `words` elements, bit (fd & 31) of word fd >> 5.
const uint32_t* ArgBitmap(const Napi::CallbackInfo& info, size_t i, const char* name, size_t words) {
  return reinterpret_cast<const uint32_t*>(ArgInt32Array(info, i, name, words));
}

// selectWaitBits(readBits, writeBits: Int32Array, nfds, out: Int32Array, timeoutMs) -> n | -errno
// The persistent form behind SelectSelector: the interest sets are bitmaps the caller keeps across
// calls (bit fd of word fd >> 5, fds below nfds <= FD_SETSIZE), so a call costs O(nfds / 32) here
// instead of rebuilding lists. Every fd ready for reading or writing becomes one (fd, mask) pair
// in out, in fd order (mask 1 = readable, 2 = writable); n is the number of pairs.
Napi::Value SelectWaitBits(const Napi::CallbackInfo& info) {
  int64_t nfds = ArgInteger(info, 2, "nfds", 0, FD_SETSIZE);
  const size_t words = static_cast<size_t>((nfds + 31) / 32);
  const uint32_t* rbits = ArgBitmap(info, 0, "readBits", words);
  const uint32_t* wbits = ArgBitmap(info, 1, "writeBits", words);
  int32_t* out = ArgInt32Array(info, 3, "out", static_cast<size_t>(nfds) * 2);
  double timeout = ArgTimeout(info, 4);
  fd_set rs, ws;
  int n = RetryWait(timeout, [&](double ms) {
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    for (size_t w = 0; w < words; w++) {
      for (uint32_t bits = rbits[w]; bits != 0; bits &= bits - 1) FD_SET(static_cast<int>(w * 32 + __builtin_ctz(bits)), &rs);
      for (uint32_t bits = wbits[w]; bits != 0; bits &= bits - 1) FD_SET(static_cast<int>(w * 32 + __builtin_ctz(bits)), &ws);
    }
    struct timeval tv = {0, 0};
    if (ms > 0) {
      double us = std::ceil(ms * 1000.0);  // rounded up: a positive timeout never becomes a poll
      if (us > 1e15) us = 1e15;
      tv.tv_sec = static_cast<time_t>(us / 1e6);
      tv.tv_usec = static_cast<suseconds_t>(us - static_cast<double>(tv.tv_sec) * 1e6);
    }
    return select(static_cast<int>(nfds), &rs, &ws, nullptr, ms < 0 ? nullptr : &tv);
  });
  if (n <= 0) return Result(info.Env(), n);
  int count = 0;
  for (size_t w = 0; w < words; w++) {
    for (uint32_t bits = rbits[w] | wbits[w]; bits != 0; bits &= bits - 1) {
      int fd = static_cast<int>(w * 32 + __builtin_ctz(bits));
      int mask = (FD_ISSET(fd, &rs) ? 1 : 0) | (FD_ISSET(fd, &ws) ? 2 : 0);
      if (mask == 0) continue;
      out[2 * count] = fd;
      out[2 * count + 1] = mask;
      count++;
    }
  }
  return Result(info.Env(), count);
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports["selectWait"] = Napi::Function::New(env, SelectWait, "selectWait");
  exports["selectWaitBits"] = Napi::Function::New(env, SelectWaitBits, "selectWaitBits");
  exports["FD_SETSIZE"] = FD_SETSIZE;
}

}  // namespace selectloop
