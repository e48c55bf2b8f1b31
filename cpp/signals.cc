// Signal delivery into a reactor: the handler only writes the signal number to the reactor's
// wake-up pipe; the reactor runs the JS callback later, in the loop, never in the handler.
//
// This is the one place with static mutable state, by necessity: a signal handler receives no
// user data, and dispositions are process-wide anyway. JS allows it on the main thread only.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "common.h"

namespace selectloop {
namespace {

#ifndef NSIG
#define NSIG 65
#endif

// fd + 1, so that zero-initialisation means "none" (fd 0 is valid).
std::atomic<int> g_wakeupFdPlusOne[NSIG];
struct sigaction g_previous[NSIG];
bool g_installed[NSIG];

void OnSignal(int signum) {
  int saved = errno;
  int fd = g_wakeupFdPlusOne[signum].load(std::memory_order_relaxed) - 1;
  if (fd >= 0) {
    unsigned char byte = static_cast<unsigned char>(signum);
    // A full pipe already holds a wake-up: dropping this byte loses nothing (wakes coalesce).
    ssize_t ignored = write(fd, &byte, 1);
    (void)ignored;
  }
  errno = saved;
}

int ArgSignal(const Napi::CallbackInfo& info) {
  return static_cast<int>(ArgInteger(info, 0, "signum", 1, NSIG - 1));
}

// signalInstall(signum, wakeupFd) -> 0 | -errno
Napi::Value SignalInstall(const Napi::CallbackInfo& info) {
  int signum = ArgSignal(info);
  // Stored as fd + 1: INT_MAX itself would overflow (found by `npm run fuzz`).
  int fd = static_cast<int>(ArgInteger(info, 1, "wakeupFd", 0, INT_MAX - 1));
  if (signum == SIGKILL || signum == SIGSTOP) return Result(info.Env(), -EINVAL);
  g_wakeupFdPlusOne[signum].store(fd + 1);
  if (!g_installed[signum]) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    if (sigaction(signum, &sa, &g_previous[signum]) < 0) {
      int err = errno;
      g_wakeupFdPlusOne[signum].store(0);
      return Result(info.Env(), -err);
    }
    g_installed[signum] = true;
  }
  return Result(info.Env(), 0);
}

// signalRestore(signum) -> 0 | -errno: puts back the disposition found at install time.
Napi::Value SignalRestore(const Napi::CallbackInfo& info) {
  int signum = ArgSignal(info);
  g_wakeupFdPlusOne[signum].store(0);
  if (g_installed[signum]) {
    if (sigaction(signum, &g_previous[signum], nullptr) < 0) return ErrnoResult(info.Env());
    g_installed[signum] = false;
  }
  return Result(info.Env(), 0);
}

// raise(signum) -> 0 | -errno: for tests, delivers to this process synchronously.
Napi::Value Raise(const Napi::CallbackInfo& info) {
  int signum = ArgSignal(info);
  return raise(signum) != 0 ? ErrnoResult(info.Env()) : Result(info.Env(), 0);
}

}  // namespace

void InitSignals(Napi::Env env, Napi::Object exports) {
  exports["signalInstall"] = Napi::Function::New(env, SignalInstall, "signalInstall");
  exports["signalRestore"] = Napi::Function::New(env, SignalRestore, "signalRestore");
  exports["raise"] = Napi::Function::New(env, Raise, "raise");
}

}  // namespace selectloop
