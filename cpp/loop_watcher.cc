// The bridge that lets Node's own loop (libuv) drive a Reactor: a uv_poll_t on the selector's
// backend fd, and a uv_timer_t for the reactor's next deadline. Each fires a JS callback through
// MakeCallback, so promise jobs and process.nextTick callbacks run after every batch, as they do
// after any Node I/O callback.
#include <cstdlib>
#include <memory>

#include "common.h"
#include "uv_min.h"

namespace selectloop {
namespace {

constexpr int kWakeReadable = 1;
constexpr int kWakeTimer = 2;

class LoopWatcher : public Napi::ObjectWrap<LoopWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LoopWatcher",
                       {InstanceMethod("start", &LoopWatcher::Start),
                        InstanceMethod("stop", &LoopWatcher::Stop),
                        InstanceMethod("armTimer", &LoopWatcher::ArmTimer),
                        InstanceMethod("disarmTimer", &LoopWatcher::DisarmTimer),
                        InstanceMethod("ref", &LoopWatcher::Ref),
                        InstanceMethod("unref", &LoopWatcher::Unref),
                        InstanceMethod("close", &LoopWatcher::Close)});
  }

  // new LoopWatcher(fd, callback(kind, status)); fd < 0 means "timer only" (no backend fd).
  explicit LoopWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LoopWatcher>(info) {
    Napi::Env env = info.Env();
    int fd = static_cast<int>(ArgInteger(info, 0, "fd", -1, INT_MAX));
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "callback must be a function");
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "selectloop.Reactor");
    env_ = env;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
      throw Napi::Error::New(env, "cannot get the libuv loop of this Node environment");
    timer_ = static_cast<uv_timer_t*>(calloc(1, uv_handle_size(UV_TIMER)));
    int r = uv_timer_init(loop, timer_);
    if (r < 0) {
      free(timer_);
      timer_ = nullptr;
      throw Napi::Error::New(env, "uv_timer_init failed: " + std::to_string(r));
    }
    uv_handle_set_data(AsHandle(timer_), this);
    if (fd >= 0) {
      poll_ = static_cast<uv_poll_t*>(calloc(1, uv_handle_size(UV_POLL)));
      r = uv_poll_init(loop, poll_, fd);
      if (r < 0) {
        free(poll_);
        poll_ = nullptr;
        CloseHandles();
        throw Napi::Error::New(env, "uv_poll_init failed on fd " + std::to_string(fd) + ": " +
                                        std::to_string(r));
      }
      uv_handle_set_data(AsHandle(poll_), this);
    }
    napi_add_env_cleanup_hook(env, &LoopWatcher::OnEnvCleanup, this);
  }

  ~LoopWatcher() override {
    CloseHandles();
    napi_remove_env_cleanup_hook(env_, &LoopWatcher::OnEnvCleanup, this);
  }

 private:
  static uv_handle_t* AsHandle(void* h) { return static_cast<uv_handle_t*>(h); }

  static void OnEnvCleanup(void* self) { static_cast<LoopWatcher*>(self)->CloseHandles(); }

  // Handles are freed in their close callback, when libuv is done with them; `this` may be gone
  // by then, so the callback touches only the handle.
  void CloseHandles() {
    if (timer_ != nullptr) {
      uv_handle_set_data(AsHandle(timer_), nullptr);
      uv_close(AsHandle(timer_), [](uv_handle_t* h) { free(h); });
      timer_ = nullptr;
    }
    if (poll_ != nullptr) {
      uv_handle_set_data(AsHandle(poll_), nullptr);
      uv_close(AsHandle(poll_), [](uv_handle_t* h) { free(h); });
      poll_ = nullptr;
    }
  }

  void Fire(int kind, int status) {
    Napi::HandleScope scope(env_);
    try {
      callback_.MakeCallback(Value(), {Napi::Number::New(env_, kind), Napi::Number::New(env_, status)},
                             *context_);
    } catch (const Napi::Error& e) {
      // The reactor reports callback errors itself; anything reaching here is a bug in it.
      napi_fatal_exception(env_, e.Value());
    }
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<LoopWatcher*>(uv_handle_get_data(AsHandle(handle)));
    if (self != nullptr) self->Fire(kWakeReadable, status);
  }

  static void OnTimer(uv_timer_t* handle) {
    auto* self = static_cast<LoopWatcher*>(uv_handle_get_data(AsHandle(handle)));
    if (self != nullptr) self->Fire(kWakeTimer, 0);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (poll_ == nullptr) return Result(info.Env(), -EBADF);
    return Result(info.Env(), uv_poll_start(poll_, UV_READABLE, &LoopWatcher::OnPoll));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_poll_stop(poll_);
    return info.Env().Undefined();
  }

  // armTimer(ms): one shot after ms (whole milliseconds, libuv's resolution; the caller rounds up).
  Napi::Value ArmTimer(const Napi::CallbackInfo& info) {
    int64_t ms = ArgInteger(info, 0, "ms", 0, INT64_C(1) << 52);
    if (timer_ == nullptr) return Result(info.Env(), -EBADF);
    return Result(info.Env(), uv_timer_start(timer_, &LoopWatcher::OnTimer, static_cast<uint64_t>(ms), 0));
  }

  Napi::Value DisarmTimer(const Napi::CallbackInfo& info) {
    if (timer_ != nullptr) uv_timer_stop(timer_);
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (timer_ != nullptr) uv_ref(AsHandle(timer_));
    if (poll_ != nullptr) uv_ref(AsHandle(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (timer_ != nullptr) uv_unref(AsHandle(timer_));
    if (poll_ != nullptr) uv_unref(AsHandle(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandles();
    return info.Env().Undefined();
  }

  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
};

}  // namespace

Napi::Function InitLoopWatcher(Napi::Env env) { return LoopWatcher::Define(env); }

}  // namespace selectloop
