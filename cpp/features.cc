// Which atomic close-on-exec paths this build compiled in (native.features). A false flag means
// the fd gets FD_CLOEXEC from a second system call, so a child spawned by another thread in
// between can inherit it; tests on platforms that have the atomic call assert the flag is true.
#include <fcntl.h>
#include <sys/socket.h>

#include "common.h"

namespace selectloop {

void InitFeatures(Napi::Env env, Napi::Object exports) {
  Napi::Object f = Napi::Object::New(env);
#ifdef SELECTLOOP_HAVE_ACCEPT4
  f["accept4"] = true;  // accept4(SOCK_CLOEXEC | SOCK_NONBLOCK)
#else
  f["accept4"] = false;
#endif
#ifdef SELECTLOOP_HAVE_PIPE2
  f["pipe2"] = true;  // pipe2(O_CLOEXEC | O_NONBLOCK)
#else
  f["pipe2"] = false;
#endif
#ifdef SOCK_CLOEXEC
  f["sockCloexec"] = true;  // socket()/socketpair() with SOCK_CLOEXEC | SOCK_NONBLOCK
#else
  f["sockCloexec"] = false;
#endif
#ifdef SELECTLOOP_HAVE_EPOLL
  f["epollCloexec"] = true;  // epoll_create1(EPOLL_CLOEXEC): the epoll backend needs it
#else
  f["epollCloexec"] = false;
#endif
  exports["features"] = f;
}

}  // namespace selectloop
