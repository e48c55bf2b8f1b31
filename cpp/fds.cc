// File-descriptor system calls shared by sockets and pipes.
#include "fds.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

namespace selectloop {

int SetFdFlags(int fd, bool nonblocking) {
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags < 0 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) < 0) return -errno;
  if (nonblocking) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  }
  return 0;
}

void CloseQuietly(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

namespace {

// pipe(out: Int32Array(2), nonblocking) -> 0 | -errno. Both ends close-on-exec.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int32_t* out = ArgInt32Array(info, 0, "out", 2);
  bool nonblocking = ArgBool(info, 1, "nonblocking");
  int fds[2];
#ifdef SELECTLOOP_HAVE_PIPE2
  if (pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0)) < 0) return ErrnoResult(info.Env());
#else
  if (pipe(fds) < 0) return ErrnoResult(info.Env());
  for (int fd : fds) {
    int r = SetFdFlags(fd, nonblocking);
    if (r < 0) {
      close(fds[0]);
      close(fds[1]);
      return Result(info.Env(), r);
    }
  }
#endif
  out[0] = fds[0];
  out[1] = fds[1];
  return Result(info.Env(), 0);
}

// read(fd, buf, offset, length) -> n | -errno (0 at EOF)
Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes span = ArgSpan(info, 1, "buffer");
  ssize_t n;
  do n = read(fd, span.data, span.length); while (n < 0 && errno == EINTR);
  return n < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), n);
}

// write(fd, buf, offset, length) -> n | -errno
Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  Bytes span = ArgSpan(info, 1, "buffer");
  ssize_t n;
  do n = write(fd, span.data, span.length); while (n < 0 && errno == EINTR);
  return n < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), n);
}

// close(fd) -> 0 | -errno. Never retried: on Linux the fd is gone even after EINTR, and a retry
// could close an fd another thread just opened.
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  if (close(fd) < 0 && errno != EINTR) return ErrnoResult(info.Env());
  return Result(info.Env(), 0);
}

// dup(fd) -> new fd | -errno: a second descriptor of the same open socket or file, close-on-exec
// atomically (F_DUPFD_CLOEXEC), so another owner (a libuv handle) can close its own copy.
Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return copy < 0 ? ErrnoResult(info.Env()) : Result(info.Env(), copy);
}

// setBlocking(fd, blocking) -> 0 | -errno
Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  bool blocking = ArgBool(info, 1, "blocking");
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return ErrnoResult(info.Env());
  int next = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
  if (next != fl && fcntl(fd, F_SETFL, next) < 0) return ErrnoResult(info.Env());
  return Result(info.Env(), 0);
}

// getBlocking(fd) -> 1 (blocking) | 0 | -errno
Napi::Value GetBlocking(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return ErrnoResult(info.Env());
  return Result(info.Env(), (fl & O_NONBLOCK) ? 0 : 1);
}

// getCloexec(fd) -> 1 | 0 | -errno
Napi::Value GetCloexec(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0) return ErrnoResult(info.Env());
  return Result(info.Env(), (fl & FD_CLOEXEC) ? 1 : 0);
}

// fdType(fd) -> 1 socket | 2 fifo | 3 other | 4 character device | -errno (EBADF for a closed fd)
Napi::Value FdType(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  struct stat st;
  if (fstat(fd, &st) < 0) return ErrnoResult(info.Env());
  return Result(info.Env(), S_ISSOCK(st.st_mode)  ? 1
                            : S_ISFIFO(st.st_mode) ? 2
                            : S_ISCHR(st.st_mode)  ? 4
                                                   : 3);
}

}  // namespace

void InitFds(Napi::Env env, Napi::Object exports) {
  exports["pipe"] = Napi::Function::New(env, Pipe, "pipe");
  exports["read"] = Napi::Function::New(env, Read, "read");
  exports["write"] = Napi::Function::New(env, Write, "write");
  exports["close"] = Napi::Function::New(env, Close, "close");
  exports["dup"] = Napi::Function::New(env, Dup, "dup");
  exports["setBlocking"] = Napi::Function::New(env, SetBlocking, "setBlocking");
  exports["getBlocking"] = Napi::Function::New(env, GetBlocking, "getBlocking");
  exports["getCloexec"] = Napi::Function::New(env, GetCloexec, "getCloexec");
  exports["fdType"] = Napi::Function::New(env, FdType, "fdType");
}

}  // namespace selectloop
