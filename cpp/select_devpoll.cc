// Solaris/illumos /dev/poll. Compiled only where <sys/devpoll.h> exists (see CMakeLists.txt).
#include <sys/devpoll.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "common.h"
#include "wait.h"

namespace selectloop {
namespace {

Napi::Value DevpollCreate(const Napi::CallbackInfo& info) {
  int fd = open("/dev/poll", O_RDWR | O_CLOEXEC);
  return fd < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), fd);
}

// devpollWrite(dpfd, pollfds, nfds) -> 0 | -errno: registers/updates (POLLREMOVE removes).
Napi::Value DevpollWrite(const Napi::CallbackInfo& info) {
  int dpfd = ArgFd(info, 0, "dpfd");
  Bytes set = ArgBytes(info, 1, "pollfds");
  int64_t nfds = ArgInteger(info, 2, "nfds", 0, INT_MAX / 16);
  size_t size = static_cast<size_t>(nfds) * sizeof(struct pollfd);
  if (size > set.length) ThrowRange(info.Env(), "nfds exceeds the pollfds buffer");
  ssize_t w;
  do w = write(dpfd, set.data, size); while (w < 0 && errno == EINTR);
  return w < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), 0);
}

// devpollWait(dpfd, scratch pollfds, maxevents, out: Int32Array, timeoutMs) -> n | -errno
Napi::Value DevpollWait(const Napi::CallbackInfo& info) {
  int dpfd = ArgFd(info, 0, "dpfd");
  Bytes scratch = ArgBytes(info, 1, "scratch");
  int64_t maxevents = ArgInteger(info, 2, "maxevents", 1, INT_MAX / 16);
  if (static_cast<uint64_t>(maxevents) * sizeof(struct pollfd) > scratch.length)
    ThrowRange(info.Env(), "maxevents exceeds the scratch buffer");
  int32_t* out = ArgInt32Array(info, 3, "out", static_cast<size_t>(maxevents) * 2);
  double timeout = ArgTimeout(info, 4);
  auto* fds = reinterpret_cast<struct pollfd*>(scratch.data);
  int n = RetryWait(timeout, [&](double ms) {
    struct dvpoll dvp;
    dvp.dp_fds = fds;
    dvp.dp_nfds = static_cast<int>(maxevents);
    dvp.dp_timeout = ms < 0 ? -1 : CeilMs(ms);
    return ioctl(dpfd, DP_POLL, &dvp);
  });
  for (int i = 0; i < n; i++) {
    out[2 * i] = fds[i].fd;
    out[2 * i + 1] = fds[i].revents;
  }
  return Result(info.Env(), n);
}

}  // namespace

void InitDevpoll(Napi::Env env, Napi::Object exports) {
  exports["devpollCreate"] = Napi::Function::New(env, DevpollCreate, "devpollCreate");
  exports["devpollWrite"] = Napi::Function::New(env, DevpollWrite, "devpollWrite");
  exports["devpollWait"] = Napi::Function::New(env, DevpollWait, "devpollWait");
  exports["POLLREMOVE"] = POLLREMOVE;
}

}  // namespace selectloop
