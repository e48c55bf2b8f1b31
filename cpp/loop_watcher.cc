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

class LoopWatcher;

uv_handle_t* AsHandle(void* h) { return static_cast<uv_handle_t*>(h); }

// The libuv side of one watcher. It outlives the JS object while libuv finishes closing the
// handles, and it holds a Node-API async cleanup hook until the last close callback has run: the
// callbacks are code in this addon, and Node unloads a worker's addons only once every such hook
// is removed (before, a worker that exited with a live watcher segfaulted the process).
class UvHandles {
 public:
  LoopWatcher* owner;
  uv_timer_t* timer = nullptr;
  uv_poll_t* poll = nullptr;

  explicit UvHandles(LoopWatcher* watcher) : owner(watcher) {}

  // Registers the hook first, so every later failure path can go through Close().
  bool HookInto(napi_env env) {
    return napi_add_async_cleanup_hook(env, &UvHandles::OnEnvTeardown, this, &hook_) == napi_ok;
  }

  // Starts closing both handles; deletes itself when libuv is done. Idempotent.
  void Close();

 private:
  static void OnEnvTeardown(napi_async_cleanup_hook_handle, void* self) {
    static_cast<UvHandles*>(self)->Close();
  }

  static void OnClosed(uv_handle_t* h) {
    auto* self = static_cast<UvHandles*>(uv_handle_get_data(h));
    free(h);
    if (--self->pendingCloses_ == 0) self->Finish();
  }

  void Finish() {
    if (hook_ != nullptr) napi_remove_async_cleanup_hook(hook_);
    delete this;
  }

  napi_async_cleanup_hook_handle hook_ = nullptr;
  int pendingCloses_ = 0;
  bool closing_ = false;
};

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
    handles_ = new UvHandles(this);
    if (!handles_->HookInto(env)) {
      delete handles_;
      handles_ = nullptr;
      throw Napi::Error::New(env, "napi_add_async_cleanup_hook failed");
    }
    UvHandles* h = handles_;
    h->timer = static_cast<uv_timer_t*>(calloc(1, uv_handle_size(UV_TIMER)));
    int r = h->timer == nullptr ? -ENOMEM : uv_timer_init(loop, h->timer);
    if (r < 0) {
      free(h->timer);
      h->timer = nullptr;
      h->Close();
      throw Napi::Error::New(env, "uv_timer_init failed: " + std::to_string(r));
    }
    uv_handle_set_data(AsHandle(h->timer), h);
    if (fd >= 0) {
      h->poll = static_cast<uv_poll_t*>(calloc(1, uv_handle_size(UV_POLL)));
      r = h->poll == nullptr ? -ENOMEM : uv_poll_init(loop, h->poll, fd);
      if (r < 0) {
        free(h->poll);
        h->poll = nullptr;
        h->Close();
        throw Napi::Error::New(env, "uv_poll_init failed on fd " + std::to_string(fd) + ": " +
                                        std::to_string(r));
      }
      uv_handle_set_data(AsHandle(h->poll), h);
    }
  }

  ~LoopWatcher() override { CloseHandles(); }

  void Fire(int kind, int status);

  // Called by UvHandles::Close: from now on the handles are not ours to touch.
  void Forget() { handles_ = nullptr; }

 private:
  uv_poll_t* poll() const { return handles_ != nullptr ? handles_->poll : nullptr; }
  uv_timer_t* timer() const { return handles_ != nullptr ? handles_->timer : nullptr; }

  void CloseHandles() {
    if (handles_ != nullptr) handles_->Close();
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (poll() == nullptr) return Result(info.Env(), -EBADF);
    return Result(info.Env(), uv_poll_start(poll(), UV_READABLE, &LoopWatcher::OnPoll));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll() != nullptr) uv_poll_stop(poll());
    return info.Env().Undefined();
  }

  // armTimer(ms): one shot after ms (whole milliseconds, libuv's resolution; the caller rounds up).
  Napi::Value ArmTimer(const Napi::CallbackInfo& info) {
    int64_t ms = ArgInteger(info, 0, "ms", 0, INT64_C(1) << 52);
    if (timer() == nullptr) return Result(info.Env(), -EBADF);
    return Result(info.Env(), uv_timer_start(timer(), &LoopWatcher::OnTimer, static_cast<uint64_t>(ms), 0));
  }

  Napi::Value DisarmTimer(const Napi::CallbackInfo& info) {
    if (timer() != nullptr) uv_timer_stop(timer());
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (timer() != nullptr) uv_ref(AsHandle(timer()));
    if (poll() != nullptr) uv_ref(AsHandle(poll()));
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (timer() != nullptr) uv_unref(AsHandle(timer()));
    if (poll() != nullptr) uv_unref(AsHandle(poll()));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandles();
    return info.Env().Undefined();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* h = static_cast<UvHandles*>(uv_handle_get_data(AsHandle(handle)));
    if (h != nullptr && h->owner != nullptr) h->owner->Fire(kWakeReadable, status);
  }

  static void OnTimer(uv_timer_t* handle) {
    auto* h = static_cast<UvHandles*>(uv_handle_get_data(AsHandle(handle)));
    if (h != nullptr && h->owner != nullptr) h->owner->Fire(kWakeTimer, 0);
  }

  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  UvHandles* handles_ = nullptr;
};

void UvHandles::Close() {
  if (closing_) return;
  closing_ = true;
  if (owner != nullptr) owner->Forget();
  owner = nullptr;
  for (uv_handle_t* h : {AsHandle(timer), AsHandle(poll)}) {
    if (h == nullptr) continue;
    pendingCloses_++;
    uv_close(h, &UvHandles::OnClosed);
  }
  timer = nullptr;
  poll = nullptr;
  if (pendingCloses_ == 0) Finish();
}

// Plain Node-API calls, no node-addon-api wrappers: when the callback calls process.exit() or the
// worker is being terminated, MakeCallback fails with no real exception pending, and building a
// Napi::Error from that aborts the process ("Error::Error napi_define_properties").
void LoopWatcher::Fire(int kind, int status) {
  napi_env env = env_;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value global, fn, argv[2], result;
  if (napi_get_global(env, &global) == napi_ok &&
      napi_get_reference_value(env, callback_, &fn) == napi_ok && fn != nullptr &&
      napi_create_int32(env, kind, &argv[0]) == napi_ok &&
      napi_create_int32(env, status, &argv[1]) == napi_ok &&
      napi_make_callback(env, *context_, global, fn, 2, argv, &result) != napi_ok) {
    bool pending = false;
    napi_value exception;
    napi_valuetype type;
    // The reactor reports callback errors itself: a real exception here is a bug in it, and goes
    // to 'uncaughtException'. A terminating environment leaves null or nothing: nothing to report.
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exception) == napi_ok &&
        napi_typeof(env, exception, &type) == napi_ok && type != napi_undefined && type != napi_null)
      napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace

Napi::Function InitLoopWatcher(Napi::Env env) { return LoopWatcher::Define(env); }

}  // namespace selectloop
