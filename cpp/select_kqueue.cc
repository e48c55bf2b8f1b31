// BSD/macOS kqueue. Compiled only where <sys/event.h> exists (see CMakeLists.txt).
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "common.h"
#include "wait.h"

namespace selectloop {
namespace {

constexpr int kFieldsPerKevent = 5;  // ident, filter, flags, fflags, data

Napi::Value KqueueCreate(const Napi::CallbackInfo& info) {
  int fd = kqueue();
  if (fd < 0) return ErrnoResult(info.Env());
  // Most BSDs drop a kqueue across fork anyway; exec is what FD_CLOEXEC covers.
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    return Result(info.Env(), -err);
  }
  return Result(info.Env(), fd);
}

// keventWait(kq, changes: Float64Array, nchanges, out: Float64Array, maxevents, timeoutMs)
//   -> n | -errno. Each kevent is 5 doubles: ident, filter, flags, fflags, data.
Napi::Value KeventWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int kq = ArgFd(info, 0, "kq");
  int64_t nchanges = ArgInteger(info, 2, "nchanges", 0, INT_MAX / 64);
  int64_t maxevents = ArgInteger(info, 4, "maxevents", 0, INT_MAX / 64);
  Bytes changesBytes = ArgBytes(info, 1, "changes");
  Bytes outBytes = ArgBytes(info, 3, "out");
  if (static_cast<uint64_t>(nchanges) * kFieldsPerKevent * sizeof(double) > changesBytes.length)
    ThrowRange(env, "nchanges exceeds the changes buffer");
  if (static_cast<uint64_t>(maxevents) * kFieldsPerKevent * sizeof(double) > outBytes.length)
    ThrowRange(env, "maxevents exceeds the out buffer");
  double timeout = ArgTimeout(info, 5);
  const double* changesIn = reinterpret_cast<const double*>(changesBytes.data);
  double* out = reinterpret_cast<double*>(outBytes.data);

  std::vector<struct kevent> changes(static_cast<size_t>(nchanges));
  for (int64_t i = 0; i < nchanges; i++) {
    const double* c = changesIn + i * kFieldsPerKevent;
    EV_SET(&changes[i], static_cast<uintptr_t>(c[0]), static_cast<short>(c[1]),
           static_cast<unsigned short>(c[2]), static_cast<unsigned int>(c[3]),
           static_cast<intptr_t>(c[4]), 0);
  }
  std::vector<struct kevent> events(static_cast<size_t>(maxevents));
  bool changesApplied = false;
  int n = RetryWait(timeout, [&](double ms) {
    struct timespec ts;
    if (ms >= 0) {
      double ns = std::ceil(ms * 1e6);
      ts.tv_sec = static_cast<time_t>(ns / 1e9);
      ts.tv_nsec = static_cast<long>(ns - static_cast<double>(ts.tv_sec) * 1e9);
    }
    // Changes are submitted once: a retry after EINTR must not apply them twice.
    int r = kevent(kq, changesApplied ? nullptr : changes.data(),
                   changesApplied ? 0 : static_cast<int>(nchanges), events.data(),
                   static_cast<int>(maxevents), ms < 0 ? nullptr : &ts);
    changesApplied = true;
    return r;
  });
  for (int i = 0; i < n; i++) {
    double* o = out + i * kFieldsPerKevent;
    o[0] = static_cast<double>(events[i].ident);
    o[1] = events[i].filter;
    o[2] = events[i].flags;
    o[3] = events[i].fflags;
    o[4] = static_cast<double>(events[i].data);
  }
  return Result(env, n);
}

}  // namespace

void InitKqueue(Napi::Env env, Napi::Object exports) {
  exports["kqueueCreate"] = Napi::Function::New(env, KqueueCreate, "kqueueCreate");
  exports["keventWait"] = Napi::Function::New(env, KeventWait, "keventWait");
  Napi::Object c = Napi::Object::New(env);
  c["KQ_FILTER_READ"] = EVFILT_READ;
  c["KQ_FILTER_WRITE"] = EVFILT_WRITE;
  c["KQ_EV_ADD"] = EV_ADD;
  c["KQ_EV_DELETE"] = EV_DELETE;
  c["KQ_EV_ENABLE"] = EV_ENABLE;
  c["KQ_EV_DISABLE"] = EV_DISABLE;
  c["KQ_EV_ONESHOT"] = EV_ONESHOT;
  c["KQ_EV_CLEAR"] = EV_CLEAR;
  c["KQ_EV_EOF"] = EV_EOF;
  c["KQ_EV_ERROR"] = EV_ERROR;
  exports["kqueueConstants"] = c;
}

}  // namespace selectloop
