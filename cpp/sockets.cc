// Socket system calls. Every socket is created close-on-exec; sends never raise SIGPIPE.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vector>

#include "addresses.h"
#include "common.h"
#include "fds.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // macOS: SO_NOSIGPIPE is set on each socket instead
#endif

namespace selectloop {
namespace {

// Finishes setting up a socket fd the kernel just gave us; closes it on failure.
int AdoptSocket(int fd, bool nonblocking, bool flagsAlreadySet) {
  if (!flagsAlreadySet) {
    int r = SetFdFlags(fd, nonblocking);
    if (r < 0) {
      close(fd);
      return r;
    }
  }
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
}

// socket(family, type, protocol, nonblocking) -> fd | -errno
Napi::Value Socket(const Napi::CallbackInfo& info) {
  int family = ArgInt(info, 0, "family");
  int type = ArgInt(info, 1, "type");
  int protocol = ArgInt(info, 2, "protocol");
  bool nonblocking = ArgBool(info, 3, "nonblocking");
#ifdef SOCK_CLOEXEC
  int fd = socket(family, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), protocol);
  bool atomic = true;
#else
  int fd = socket(family, type, protocol);
  bool atomic = false;
#endif
  if (fd < 0) return ErrnoResult(info.Env());
  return Result(info.Env(), AdoptSocket(fd, nonblocking, atomic));
}

// socketpair(family, type, protocol, out: Int32Array(2), nonblocking) -> 0 | -errno
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int family = ArgInt(info, 0, "family");
  int type = ArgInt(info, 1, "type");
  int protocol = ArgInt(info, 2, "protocol");
  int32_t* out = ArgInt32Array(info, 3, "out", 2);
  bool nonblocking = ArgBool(info, 4, "nonblocking");
  int fds[2];
#ifdef SOCK_CLOEXEC
  if (socketpair(family, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), protocol, fds) < 0)
    return ErrnoResult(info.Env());
  bool atomic = true;
#else
  if (socketpair(family, type, protocol, fds) < 0) return ErrnoResult(info.Env());
  bool atomic = false;
#endif
  int a = AdoptSocket(fds[0], nonblocking, atomic);
  if (a < 0) {
    close(fds[1]);
    return Result(info.Env(), a);
  }
  int b = AdoptSocket(fds[1], nonblocking, atomic);
  if (b < 0) {
    close(fds[0]);
    return Result(info.Env(), b);
  }
  out[0] = fds[0];
  out[1] = fds[1];
  return Result(info.Env(), 0);
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  struct sockaddr_storage ss;
  socklen_t len = ArgSockaddr(info, 1, &ss);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) < 0) return ErrnoResult(info.Env());
  return Result(info.Env(), 0);
}

// connect(fd, sockaddr) -> 0 | -errno (-EINPROGRESS on a non-blocking socket).
// A blocking connect interrupted by a signal keeps going in the kernel; restarting it would fail
// with EALREADY, so wait for the outcome instead (as CPython does).
Napi::Value Connect(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  struct sockaddr_storage ss;
  socklen_t len = ArgSockaddr(info, 1, &ss);
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&ss), len) == 0) return Result(info.Env(), 0);
  if (errno != EINTR) return ErrnoResult(info.Env());
  struct pollfd p = {fd, POLLOUT, 0};
  int r;
  do r = poll(&p, 1, -1); while (r < 0 && errno == EINTR);
  if (r < 0) return ErrnoResult(info.Env());
  int err = 0;
  socklen_t errLen = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errLen) < 0) return ErrnoResult(info.Env());
  return Result(info.Env(), -err);
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int backlog = static_cast<int>(ArgInteger(info, 1, "backlog", 0, INT_MAX));
  return listen(fd, backlog) < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), 0);
}

int AcceptFd(int fd, bool nonblocking, struct sockaddr* sa, socklen_t* len) {
  int c;
#ifdef SELECTLOOP_HAVE_ACCEPT4
  do c = accept4(fd, sa, len, SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0));
  while (c < 0 && errno == EINTR);
  if (c < 0) return -errno;
  return AdoptSocket(c, nonblocking, true);
#else
  do c = accept(fd, sa, len); while (c < 0 && errno == EINTR);
  if (c < 0) return -errno;
  return AdoptSocket(c, nonblocking, false);
#endif
}

// accept(fd, nonblocking) -> fd | -errno. The hot-path form: no address is built.
Napi::Value Accept(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  bool nonblocking = ArgBool(info, 1, "nonblocking");
  return Result(info.Env(), AcceptFd(fd, nonblocking, nullptr, nullptr));
}

// acceptAddress(fd, nonblocking) -> [fd, address] | -errno
Napi::Value AcceptAddress(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  bool nonblocking = ArgBool(info, 1, "nonblocking");
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int c = AcceptFd(fd, nonblocking, reinterpret_cast<struct sockaddr*>(&ss), &len);
  if (c < 0) return Result(info.Env(), c);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out[0u] = Napi::Number::New(info.Env(), c);
  out[1u] = AddressToJs(info.Env(), reinterpret_cast<struct sockaddr*>(&ss), len);
  return out;
}

// recv(fd, buf, offset, length, flags) -> n | -errno (0 at EOF)
Napi::Value Recv(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes span = ArgSpan(info, 1, "buffer");
  int flags = ArgInt(info, 4, "flags");
  ssize_t n;
  do n = recv(fd, span.data, span.length, flags); while (n < 0 && errno == EINTR);
  return n < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), n);
}

// send(fd, buf, offset, length, flags) -> n | -errno
Napi::Value Send(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes span = ArgSpan(info, 1, "buffer");
  int flags = ArgInt(info, 4, "flags");
  ssize_t n;
  do n = send(fd, span.data, span.length, flags | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), n);
}

// writev(fd, chunks: Uint8Array[], firstOffset, count, isSocket) -> n | -errno
// Gathers chunks[0..count) (the first from firstOffset) into one system call: how a transport
// flushes its whole queue per writable event.
Napi::Value Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  if (info.Length() < 2 || !info[1].IsArray()) ThrowType(env, "chunks must be an array");
  Napi::Array chunks = info[1].As<Napi::Array>();
  int64_t firstOffset = ArgInteger(info, 2, "firstOffset", 0, INT64_C(1) << 53);
  int64_t count = ArgInteger(info, 3, "count", 0, chunks.Length());
  bool isSocket = ArgBool(info, 4, "isSocket");
#ifdef IOV_MAX
  if (count > IOV_MAX) count = IOV_MAX;
#else
  if (count > 1024) count = 1024;
#endif
  struct iovec stackIov[64];
  std::vector<struct iovec> heapIov;
  struct iovec* iov = stackIov;
  if (count > 64) {
    heapIov.resize(static_cast<size_t>(count));
    iov = heapIov.data();
  }
  // Fetch every element first: an element getter runs JS, which could throw (leaving `element`
  // unset) or detach a chunk whose data pointer was already taken. No JS runs in the second pass.
  std::vector<napi_value> elements(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; i++) {
    if (napi_get_element(env, chunks, static_cast<uint32_t>(i), &elements[static_cast<size_t>(i)]) != napi_ok)
      throw Napi::Error::New(env);  // rethrows the getter's pending exception
  }
  for (int64_t i = 0; i < count; i++) {
    napi_value element = elements[static_cast<size_t>(i)];
    bool isTyped = false;
    napi_is_typedarray(env, element, &isTyped);
    if (!isTyped) ThrowType(env, "chunks[" + std::to_string(i) + "] must be a Uint8Array");
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t offset;
    napi_get_typedarray_info(env, element, &type, &length, &data, &ab, &offset);
    if (type != napi_uint8_array) ThrowType(env, "chunks[" + std::to_string(i) + "] must be a Uint8Array");
    size_t skip = 0;
    if (i == 0) {
      if (static_cast<uint64_t>(firstOffset) > length) ThrowRange(env, "firstOffset exceeds chunks[0]");
      skip = static_cast<size_t>(firstOffset);
    }
    iov[i].iov_base = static_cast<uint8_t*>(data) + skip;
    iov[i].iov_len = length - skip;
  }
  ssize_t n;
  if (isSocket) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<decltype(msg.msg_iovlen)>(count);
    do n = sendmsg(fd, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  } else {
    do n = writev(fd, iov, static_cast<int>(count)); while (n < 0 && errno == EINTR);
  }
  return n < 0 ? ErrnoResult(env) : Result(env, n);
}

// recvfrom(fd, buf, offset, length, flags) -> [n, address] | -errno
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes span = ArgSpan(info, 1, "buffer");
  int flags = ArgInt(info, 4, "flags");
  struct sockaddr_storage ss;
  socklen_t len;
  ssize_t n;
  do {
    len = sizeof ss;
    n = recvfrom(fd, span.data, span.length, flags, reinterpret_cast<struct sockaddr*>(&ss), &len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoResult(info.Env());
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out[0u] = Napi::Number::New(info.Env(), static_cast<double>(n));
  out[1u] = len > 0 ? AddressToJs(info.Env(), reinterpret_cast<struct sockaddr*>(&ss), len)
                    : info.Env().Null();
  return out;
}

// sendto(fd, buf, offset, length, flags, sockaddr) -> n | -errno
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes span = ArgSpan(info, 1, "buffer");
  int flags = ArgInt(info, 4, "flags");
  struct sockaddr_storage ss;
  socklen_t len = ArgSockaddr(info, 5, &ss);
  ssize_t n;
  do n = sendto(fd, span.data, span.length, flags | MSG_NOSIGNAL,
                reinterpret_cast<struct sockaddr*>(&ss), len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), n);
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int how = ArgInt(info, 1, "how");
  return shutdown(fd, how) < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), 0);
}

// setsockopt(fd, level, name, value: int) -> 0 | -errno
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int level = ArgInt(info, 1, "level");
  int name = ArgInt(info, 2, "option");
  int value = ArgInt(info, 3, "value");
  return setsockopt(fd, level, name, &value, sizeof value) < 0 ? ErrnoResult(info.Env())
                                                               : Result(info.Env(), 0);
}

// getsockopt(fd, level, name, out: Int32Array(1)) -> 0 | -errno; the int value lands in out[0].
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int level = ArgInt(info, 1, "level");
  int name = ArgInt(info, 2, "option");
  int32_t* out = ArgInt32Array(info, 3, "out", 1);
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, &value, &len) < 0) return ErrnoResult(info.Env());
  out[0] = value;
  return Result(info.Env(), 0);
}

template <int (*Fn)(int, struct sockaddr*, socklen_t*)>
Napi::Value SockName(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (Fn(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) < 0) return ErrnoResult(info.Env());
  return AddressToJs(info.Env(), reinterpret_cast<struct sockaddr*>(&ss), len);
}

// socketInfo(fd, out: Int32Array(2)) -> 0 | -errno; out = [family, type]
Napi::Value SocketInfo(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int32_t* out = ArgInt32Array(info, 1, "out", 2);
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return ErrnoResult(info.Env());
  struct sockaddr_storage ss;
  socklen_t slen = sizeof ss;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &slen) < 0) return ErrnoResult(info.Env());
  out[0] = ss.ss_family;
  out[1] = type;
  return Result(info.Env(), 0);
}

}  // namespace

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports["socket"] = Napi::Function::New(env, Socket, "socket");
  exports["socketpair"] = Napi::Function::New(env, SocketPair, "socketpair");
  exports["bind"] = Napi::Function::New(env, Bind, "bind");
  exports["connect"] = Napi::Function::New(env, Connect, "connect");
  exports["listen"] = Napi::Function::New(env, Listen, "listen");
  exports["accept"] = Napi::Function::New(env, Accept, "accept");
  exports["acceptAddress"] = Napi::Function::New(env, AcceptAddress, "acceptAddress");
  exports["recv"] = Napi::Function::New(env, Recv, "recv");
  exports["send"] = Napi::Function::New(env, Send, "send");
  exports["writev"] = Napi::Function::New(env, Writev, "writev");
  exports["recvfrom"] = Napi::Function::New(env, RecvFrom, "recvfrom");
  exports["sendto"] = Napi::Function::New(env, SendTo, "sendto");
  exports["shutdown"] = Napi::Function::New(env, Shutdown, "shutdown");
  exports["setsockopt"] = Napi::Function::New(env, SetSockOpt, "setsockopt");
  exports["getsockopt"] = Napi::Function::New(env, GetSockOpt, "getsockopt");
  exports["getsockname"] = Napi::Function::New(env, SockName<getsockname>, "getsockname");
  exports["getpeername"] = Napi::Function::New(env, SockName<getpeername>, "getpeername");
  exports["socketInfo"] = Napi::Function::New(env, SocketInfo, "socketInfo");
}

}  // namespace selectloop
