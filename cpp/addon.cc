// Module entry. State is per Node environment (Napi::Addon keeps it as instance data), so the
// addon loads and works in worker_threads (fivdi/epoll#46: static globals break there).
#include "common.h"

namespace selectloop {

class SelectloopAddon : public Napi::Addon<SelectloopAddon> {
 public:
  SelectloopAddon(Napi::Env env, Napi::Object exports) {
    InitConstants(env, exports);
    InitFds(env, exports);
    InitSockets(env, exports);
    InitAddresses(env, exports);
    InitPoll(env, exports);
    InitSelect(env, exports);
    InitSignals(env, exports);
    InitFeatures(env, exports);
    InitDatagrams(env, exports);
    InitBatchIo(env, exports);
    Napi::Object backends = Napi::Object::New(env);
    backends["select"] = true;
    backends["poll"] = true;
#ifdef SELECTLOOP_HAVE_EPOLL
    InitEpoll(env, exports);
    backends["epoll"] = true;
#else
    backends["epoll"] = false;
#endif
#ifdef SELECTLOOP_HAVE_KQUEUE
    InitKqueue(env, exports);
    backends["kqueue"] = true;
#else
    backends["kqueue"] = false;
#endif
#ifdef SELECTLOOP_HAVE_DEVPOLL
    InitDevpoll(env, exports);
    backends["devpoll"] = true;
#else
    backends["devpoll"] = false;
#endif
    exports["backends"] = backends;
    loopWatcher_ = Napi::Persistent(InitLoopWatcher(env));
    exports["LoopWatcher"] = loopWatcher_.Value();
    resolver_ = Napi::Persistent(InitResolver(env));
    exports["Resolver"] = resolver_.Value();
  }

 private:
  Napi::FunctionReference loopWatcher_;
  Napi::FunctionReference resolver_;
};

}  // namespace selectloop

using selectloop::SelectloopAddon;
NODE_API_ADDON(SelectloopAddon)
