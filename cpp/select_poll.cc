// poll(2). The pollfd set lives in JS-owned memory (struct pollfd is 8 bytes on every platform:
// int fd, short events, short revents), so registering costs no native call and waiting copies
// nothing in.
#include <poll.h>

#include "common.h"
#include "wait.h"

namespace selectloop {
namespace {

// pollWait(pollfds: ArrayBuffer|TypedArray, nfds, out: Int32Array, timeoutMs) -> n | -errno
// Ready entries are compacted into out as (fd, revents) pairs.
Napi::Value PollWait(const Napi::CallbackInfo& info) {
  Bytes set = ArgBytes(info, 0, "pollfds");
  int64_t nfds = ArgInteger(info, 1, "nfds", 0, INT_MAX / 2);
  if (static_cast<uint64_t>(nfds) * sizeof(struct pollfd) > set.length)
    ThrowRange(info.Env(), "nfds exceeds the pollfds buffer");
  if (reinterpret_cast<uintptr_t>(set.data) % alignof(struct pollfd) != 0)
    ThrowRange(info.Env(), "pollfds must be 4-byte aligned");
  int32_t* out = ArgInt32Array(info, 2, "out", static_cast<size_t>(nfds) * 2);
  double timeout = ArgTimeout(info, 3);
  auto* fds = reinterpret_cast<struct pollfd*>(set.data);
  // No clearing of revents first: a successful poll() sets revents of every entry, and on
  // failure or timeout nothing is read back (an O(nfds) pass saved per call).
  int n = RetryWait(timeout, [&](double ms) {
    return poll(fds, static_cast<nfds_t>(nfds), ms < 0 ? -1 : CeilMs(ms));
  });
  if (n <= 0) return Result(info.Env(), n);
  int count = 0;
  for (int64_t i = 0; i < nfds && count < n; i++) {
    if (fds[i].revents != 0) {
      out[2 * count] = fds[i].fd;
      out[2 * count + 1] = fds[i].revents;
      count++;
    }
  }
  return Result(info.Env(), count);
}

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports) {
  exports["pollWait"] = Napi::Function::New(env, PollWait, "pollWait");
  Napi::Object c = Napi::Object::New(env);
  c["POLLIN"] = POLLIN;
  c["POLLPRI"] = POLLPRI;
  c["POLLOUT"] = POLLOUT;
  c["POLLERR"] = POLLERR;
  c["POLLHUP"] = POLLHUP;
  c["POLLNVAL"] = POLLNVAL;
#ifdef POLLRDNORM
  c["POLLRDNORM"] = POLLRDNORM;
  c["POLLRDBAND"] = POLLRDBAND;
  c["POLLWRNORM"] = POLLWRNORM;
  c["POLLWRBAND"] = POLLWRBAND;
#endif
#ifdef POLLMSG
  c["POLLMSG"] = POLLMSG;
#endif
#ifdef POLLRDHUP
  c["POLLRDHUP"] = POLLRDHUP;
#endif
  c["POLLFD_SIZE"] = static_cast<double>(sizeof(struct pollfd));
  exports["pollConstants"] = c;
}

}  // namespace selectloop
