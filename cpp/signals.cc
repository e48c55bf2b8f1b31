// Signal delivery into reactors: the handler only writes the signal number to each registered
// wake-up pipe; every reactor runs its JS callback later, in its loop, never in the handler.
//
// Dispositions are process-wide and shared with Node, so this file keeps process-wide state (the
// one place with static mutable state: a handler receives no user data) and coexists:
// - with other reactors: per signal, a set of wake-up fds and a user count; the handler is
//   installed by the first user and removed by the last, so any number of reactors get a signal;
// - with Node (libuv): while we handle a signal, a "keeper" uv_signal_t holds libuv's own handler
//   in place, so process.on() added later does not replace ours and libuv never resets the signal
//   to SIG_DFL under us (libuv installs and resets without looking at what was there). Our handler
//   sits on top of libuv's and chains to it, so Node's listeners and child_process (SIGCHLD) keep
//   working. When the last user goes we put libuv's handler back, but never overwrite a handler
//   someone installed after ours, and we restore the disposition found before us (SIG_IGN, say)
//   when libuv would leave SIG_DFL.
// Installing and removing is for the main thread only (the keeper lives on Node's main loop); the
// handler itself may run on any thread.
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common.h"
#include "uv_min.h"

namespace selectloop {
namespace {

#ifndef NSIG
#define NSIG 65
#endif

// Reactors that may handle one signal at the same time.
constexpr int kMaxWakeFds = 32;

using PlainHandler = void (*)(int);
using InfoHandler = void (*)(int, siginfo_t*, void*);

struct SignalState {
  std::atomic<int> wakeFdPlusOne[kMaxWakeFds];  // fd + 1: zero-initialised means free
  std::atomic<PlainHandler> chainPlain;          // the handler ours replaced, called after ours
  std::atomic<InfoHandler> chainInfo;
  // Below: only under g_mutex.
  int users;
  struct sigaction original;  // before we (and the keeper) came
  struct sigaction beneath;   // what ours replaced: libuv's handler, held by the keeper
  uv_signal_t* keeper;
};

SignalState g_signals[NSIG];
std::mutex g_mutex;

void* HandlerAddress(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) ? reinterpret_cast<void*>(sa.sa_sigaction)
                                    : reinterpret_cast<void*>(sa.sa_handler);
}

bool IsFunction(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}

void OnSignal(int signum, siginfo_t* info, void* context) {
  int saved = errno;
  SignalState& s = g_signals[signum];
  unsigned char byte = static_cast<unsigned char>(signum);
  for (auto& slot : s.wakeFdPlusOne) {
    int fd = slot.load(std::memory_order_relaxed) - 1;
    // A full pipe already holds a wake-up: dropping this byte loses nothing (wakes coalesce).
    if (fd >= 0) {
      ssize_t ignored = write(fd, &byte, 1);
      (void)ignored;
    }
  }
  if (InfoHandler f = s.chainInfo.load(std::memory_order_acquire)) f(signum, info, context);
  else if (PlainHandler g = s.chainPlain.load(std::memory_order_acquire)) g(signum);
  errno = saved;
}

bool IsOurs(const struct sigaction& sa) {
  return HandlerAddress(sa) == reinterpret_cast<void*>(&OnSignal);
}

int ArgSignal(const Napi::CallbackInfo& info) {
  return static_cast<int>(ArgInteger(info, 0, "signum", 1, NSIG - 1));
}

// The wake-up fd: an open fd below INT_MAX (it is stored plus one).
int ArgWakeFd(const Napi::CallbackInfo& info) {
  return static_cast<int>(ArgInteger(info, 1, "wakeupFd", 0, INT_MAX - 1));
}

void RequireMainThread(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop != uv_default_loop())
    throw Napi::Error::New(env, "signal handlers can only be installed from the main thread");
}

// First user: libuv's handler in place (the keeper), ours on top chaining to it. 0 | -errno.
int TakeOver(int signum, SignalState& s) {
  if (sigaction(signum, nullptr, &s.original) < 0) return -errno;
  s.keeper = static_cast<uv_signal_t*>(calloc(1, uv_handle_size(UV_SIGNAL)));
  if (s.keeper == nullptr) return -ENOMEM;
  int r = uv_signal_init(uv_default_loop(), s.keeper);
  if (r < 0) {
    free(s.keeper);
    s.keeper = nullptr;
    return r;
  }
  r = uv_signal_start(s.keeper, [](uv_signal_t*, int) {}, signum);
  uv_unref(reinterpret_cast<uv_handle_t*>(s.keeper));  // it must not keep the process alive
  struct sigaction ours;
  memset(&ours, 0, sizeof ours);
  ours.sa_sigaction = OnSignal;
  // Every signal blocked while ours and the chained libuv handler run, as libuv installs its own:
  // libuv's handler takes a lock by a blocking pipe read, so a second signal (the SIGCHLD of a
  // child that just sent ours) nested inside it would wait for that lock forever.
  sigfillset(&ours.sa_mask);
  ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  if (r == 0 && sigaction(signum, nullptr, &s.beneath) < 0) r = -errno;
  if (r == 0) {
    if (s.beneath.sa_flags & SA_SIGINFO) s.chainInfo.store(s.beneath.sa_sigaction, std::memory_order_release);
    else if (IsFunction(s.beneath)) s.chainPlain.store(s.beneath.sa_handler, std::memory_order_release);
    if (sigaction(signum, &ours, nullptr) < 0) r = -errno;
  }
  if (r < 0) {
    s.chainInfo.store(nullptr);
    s.chainPlain.store(nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(s.keeper), [](uv_handle_t* h) { free(h); });
    s.keeper = nullptr;
    sigaction(signum, &s.original, nullptr);
  }
  return r;
}

// Last user gone: hand the signal back without clobbering anyone.
void GiveBack(int signum, SignalState& s) {
  struct sigaction current;
  sigaction(signum, nullptr, &current);
  // Someone installed over ours: theirs stays. Else libuv's handler goes back.
  if (IsOurs(current)) sigaction(signum, &s.beneath, nullptr);
  s.chainInfo.store(nullptr, std::memory_order_release);
  s.chainPlain.store(nullptr, std::memory_order_release);
  struct sigaction handedBack;
  sigaction(signum, nullptr, &handedBack);
  // libuv resets to SIG_DFL when its last watcher stops, whatever was installed.
  uv_signal_stop(s.keeper);
  uv_close(reinterpret_cast<uv_handle_t*>(s.keeper), [](uv_handle_t* h) { free(h); });
  s.keeper = nullptr;
  struct sigaction after;
  sigaction(signum, nullptr, &after);
  if (IsFunction(after) || after.sa_handler != SIG_DFL) return;
  void* libuvHandler = HandlerAddress(s.beneath);
  if (HandlerAddress(handedBack) != libuvHandler) sigaction(signum, &handedBack, nullptr);
  else if (HandlerAddress(s.original) != libuvHandler) sigaction(signum, &s.original, nullptr);
}

// signalInstall(signum, wakeupFd) -> 0 | -errno: signum's deliveries also go to wakeupFd.
// Idempotent per (signum, wakeupFd).
Napi::Value SignalInstall(const Napi::CallbackInfo& info) {
  int signum = ArgSignal(info);
  int fd = ArgWakeFd(info);
  RequireMainThread(info.Env());
  if (signum == SIGKILL || signum == SIGSTOP) return Result(info.Env(), -EINVAL);
  if (fcntl(fd, F_GETFD) < 0) return ErrnoResult(info.Env());
  std::lock_guard<std::mutex> lock(g_mutex);
  SignalState& s = g_signals[signum];
  int freeSlot = -1;
  for (int i = 0; i < kMaxWakeFds; i++) {
    int v = s.wakeFdPlusOne[i].load();
    if (v == fd + 1) return Result(info.Env(), 0);
    if (v == 0 && freeSlot < 0) freeSlot = i;
  }
  if (freeSlot < 0) return Result(info.Env(), -ENOSPC);
  if (s.users == 0) {
    int r = TakeOver(signum, s);
    if (r < 0) return Result(info.Env(), r);
  }
  s.wakeFdPlusOne[freeSlot].store(fd + 1);
  s.users++;
  return Result(info.Env(), 0);
}

// signalRestore(signum, wakeupFd) -> 0 | -errno: stops sending signum to wakeupFd; the last one
// hands the signal back (see GiveBack). A pair never installed is a no-op.
Napi::Value SignalRestore(const Napi::CallbackInfo& info) {
  int signum = ArgSignal(info);
  int fd = ArgWakeFd(info);
  RequireMainThread(info.Env());
  std::lock_guard<std::mutex> lock(g_mutex);
  SignalState& s = g_signals[signum];
  for (auto& slot : s.wakeFdPlusOne) {
    if (slot.load() != fd + 1) continue;
    slot.store(0);
    if (--s.users == 0) GiveBack(signum, s);
    break;
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
