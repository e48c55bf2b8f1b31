// Linux epoll. Results cross into JS through a caller-owned Int32Array, with no allocation.
#include <sys/epoll.h>
#include <unistd.h>

#include "batch_io.h"
#include "common.h"
#include "wait.h"

namespace selectloop {
namespace {

// epollCreate() -> epfd | -errno. Always close-on-exec (libuv#1099: an inherited epoll fd
// delivers junk events to both processes).
Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), fd);
}

// epollCtl(epfd, op, fd, events) -> 0 | -errno
Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  int epfd = ArgFd(info, 0, "epfd");
  int op = ArgInt(info, 1, "op");
  int fd = ArgFd(info, 2, "fd");
  uint32_t events = static_cast<uint32_t>(ArgInteger(info, 3, "events", 0, UINT32_MAX));
  if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
    ThrowRange(info.Env(), "op must be EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL");
  struct epoll_event ev = {};
  ev.events = events;
  ev.data.fd = fd;
  return epoll_ctl(epfd, op, fd, &ev) < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), 0);
}

// epollWait(epfd, out: Int32Array, maxevents, timeoutMs) -> n | -errno
// On return out[2i] = fd, out[2i + 1] = events for i < n. `out` must hold maxevents
// epoll_event structs (EPOLL_EVENT_INT32S elements each): the kernel writes them straight into
// it and they are compacted in place into (fd, events) pairs. Pair i ends at byte 8i + 8, which is
// never past the start of event i + 1 (sizeof(epoll_event) >= 12), so nothing unread is
// overwritten.
Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  int epfd = ArgFd(info, 0, "epfd");
  int maxevents = static_cast<int>(ArgInteger(info, 2, "maxevents", 1, INT_MAX / 16));
  constexpr size_t kInt32sPerEvent = sizeof(struct epoll_event) / sizeof(int32_t);
  int32_t* out = ArgInt32Array(info, 1, "out", static_cast<size_t>(maxevents) * kInt32sPerEvent);
  double timeout = ArgTimeout(info, 3);
  auto* events = reinterpret_cast<struct epoll_event*>(out);
  int n = RetryWait(timeout, [&](double ms) {
    return epoll_wait(epfd, events, maxevents, ms < 0 ? -1 : CeilMs(ms));
  });
  for (int i = 0; i < n; i++) {
    int32_t fd = events[i].data.fd;
    int32_t ev = static_cast<int32_t>(events[i].events);
    out[2 * i] = fd;
    out[2 * i + 1] = ev;
  }
  return Result(info.Env(), n);
}


// epollWaitRead(epfd, out, maxevents, timeoutMs, marks, offsets, results, slab, cursor, minRoom)
// -> n | -errno. epollWait, and each ready fd that is marked is read into the slab in the same
// crossing (see batch_io.h): the Reactor's wait, one native call per ready batch.
Napi::Value EpollWaitRead(const Napi::CallbackInfo& info) {
  int epfd = ArgFd(info, 0, "epfd");
  int maxevents = static_cast<int>(ArgInteger(info, 2, "maxevents", 1, INT_MAX / 16));
  constexpr size_t kInt32sPerEvent = sizeof(struct epoll_event) / sizeof(int32_t);
  size_t outCount = static_cast<size_t>(maxevents) * kInt32sPerEvent;
  int32_t* out = ArgInt32Array(info, 1, "out", outCount);
  double timeout = ArgTimeout(info, 3);
  PreReads pre = ArgPreReads(info, 4, out, outCount * sizeof(int32_t));
  auto* events = reinterpret_cast<struct epoll_event*>(out);
  int n = RetryWait(timeout, [&](double ms) {
    return epoll_wait(epfd, events, maxevents, ms < 0 ? -1 : CeilMs(ms));
  });
  for (int i = 0; i < n; i++) {
    int32_t fd = events[i].data.fd;
    uint32_t ev = events[i].events;
    out[2 * i] = fd;
    out[2 * i + 1] = static_cast<int32_t>(ev);
    PreRead(pre, fd, (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0);
  }
  return Result(info.Env(), n);
}

}  // namespace

void InitEpoll(Napi::Env env, Napi::Object exports) {
  exports["epollCreate"] = Napi::Function::New(env, EpollCreate, "epollCreate");
  exports["epollCtl"] = Napi::Function::New(env, EpollCtl, "epollCtl");
  exports["epollWait"] = Napi::Function::New(env, EpollWait, "epollWait");
  exports["epollWaitRead"] = Napi::Function::New(env, EpollWaitRead, "epollWaitRead");
  Napi::Object c = Napi::Object::New(env);
  c["EPOLLIN"] = static_cast<double>(EPOLLIN);
  c["EPOLLOUT"] = static_cast<double>(EPOLLOUT);
  c["EPOLLPRI"] = static_cast<double>(EPOLLPRI);
  c["EPOLLERR"] = static_cast<double>(EPOLLERR);
  c["EPOLLHUP"] = static_cast<double>(EPOLLHUP);
  c["EPOLLET"] = static_cast<double>(static_cast<uint32_t>(EPOLLET));
  c["EPOLLONESHOT"] = static_cast<double>(EPOLLONESHOT);
  c["EPOLLRDHUP"] = static_cast<double>(EPOLLRDHUP);
#ifdef EPOLLEXCLUSIVE
  c["EPOLLEXCLUSIVE"] = static_cast<double>(EPOLLEXCLUSIVE);
#else
  c["EPOLLEXCLUSIVE"] = static_cast<double>(1u << 28);
#endif
  c["EPOLLRDNORM"] = static_cast<double>(EPOLLRDNORM);
  c["EPOLLRDBAND"] = static_cast<double>(EPOLLRDBAND);
  c["EPOLLWRNORM"] = static_cast<double>(EPOLLWRNORM);
  c["EPOLLWRBAND"] = static_cast<double>(EPOLLWRBAND);
  c["EPOLLMSG"] = static_cast<double>(EPOLLMSG);
  c["EPOLL_CTL_ADD"] = static_cast<double>(EPOLL_CTL_ADD);
  c["EPOLL_CTL_MOD"] = static_cast<double>(EPOLL_CTL_MOD);
  c["EPOLL_CTL_DEL"] = static_cast<double>(EPOLL_CTL_DEL);
  c["EPOLL_EVENT_INT32S"] = static_cast<double>(sizeof(struct epoll_event) / sizeof(int32_t));
  exports["epollConstants"] = c;
}

}  // namespace selectloop
