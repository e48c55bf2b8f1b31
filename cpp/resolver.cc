// Name resolution off the loop thread. getaddrinfo blocks, so each Resolver runs it on a few
// worker threads of its own and reports completion by writing a byte to a pipe that the reactor
// watches like any other fd: that wakes it in blocking mode (runForever, where Node's loop and
// libuv's thread pool callbacks never run) as well as attached. Results are fetched with take().
//
// Workers hold only the shared State (never the env or JS values), so a resolver closed while a
// lookup is in flight is safe: the worker finishes, sees `closed`, and drops its result. The pipe
// is written and closed under the same mutex, so a worker never writes to a reused fd number.
#include <netdb.h>
#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "addresses.h"
#include "common.h"
#include "fds.h"

namespace selectloop {

namespace {

// Lookups beyond this wait their turn; an abandoned lookup still holds its worker until
// getaddrinfo returns (libuv#1845: DNS must not take every thread).
constexpr int kMaxWorkers = 4;

struct Job {
  double id;
  std::string host;
  std::string service;
  int family;
  int socktype;
};

struct Outcome {
  double id;
  int rc;             // getaddrinfo's result
  int systemErrno;    // for EAI_SYSTEM
  std::vector<std::string> sockaddrs;
};

struct State {
  std::mutex mutex;
  std::condition_variable gateOpened;
  std::deque<Job> jobs;
  std::vector<Outcome> done;
  int workers = 0;
  bool held = false;  // tests only: workers wait before resolving while held
  bool closed = false;
  bool signalled = false;  // a wake byte is in the pipe and not yet drained
  bool hookRan = false;    // the env cleanup hook closed us (the env is going away)
  int readFd = -1;
  int writeFd = -1;
};

Outcome Resolve(const Job& job) {
  Outcome out{job.id, 0, 0, {}};
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = job.family;
  hints.ai_socktype = job.socktype;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  out.rc = getaddrinfo(job.host.c_str(), job.service.c_str(), &hints, &res);
  if (out.rc == EAI_SYSTEM) out.systemErrno = errno;
  if (out.rc != 0) return out;
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next)
    out.sockaddrs.emplace_back(reinterpret_cast<const char*>(ai->ai_addr), ai->ai_addrlen);
  freeaddrinfo(res);
  return out;
}

void Work(std::shared_ptr<State> state) {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(state->mutex);
      state->gateOpened.wait(lock, [&] { return !state->held || state->closed; });
      if (state->closed || state->jobs.empty()) {
        state->workers--;
        return;
      }
      job = std::move(state->jobs.front());
      state->jobs.pop_front();
    }
    Outcome outcome = Resolve(job);
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->closed) continue;  // dropped: nobody is waiting any more
    state->done.push_back(std::move(outcome));
    if (!state->signalled) {
      state->signalled = true;
      char byte = 1;
      // A full pipe already holds a wake-up; nothing else can fail on a pipe we own.
      while (write(state->writeFd, &byte, 1) < 0 && errno == EINTR) {
      }
    }
  }
}

void CloseState(State* state) {
  std::lock_guard<std::mutex> lock(state->mutex);
  if (state->closed) return;
  state->closed = true;
  state->jobs.clear();
  state->done.clear();
  close(state->readFd);
  close(state->writeFd);
  state->readFd = state->writeFd = -1;
  state->gateOpened.notify_all();
}

class Resolver : public Napi::ObjectWrap<Resolver> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Resolver",
                       {InstanceMethod<&Resolver::Fileno>("fileno"),
                        InstanceMethod<&Resolver::Submit>("submit"),
                        InstanceMethod<&Resolver::Take>("take"),
                        InstanceMethod<&Resolver::Hold>("hold"),
                        InstanceMethod<&Resolver::Close>("close")});
  }

  explicit Resolver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Resolver>(info) {
    state_ = std::make_shared<State>();
    int fds[2];
#ifdef SELECTLOOP_HAVE_PIPE2
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) throw Napi::Error::New(info.Env(), std::string("pipe2: ") + strerror(errno));
#else
    if (pipe(fds) < 0) throw Napi::Error::New(info.Env(), std::string("pipe: ") + strerror(errno));
    for (int fd : fds) {
      if (SetFdFlags(fd, true) < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        throw Napi::Error::New(info.Env(), std::string("fcntl: ") + strerror(saved));
      }
    }
#endif
    state_->readFd = fds[0];
    state_->writeFd = fds[1];
    // A worker_threads env that ends without close(): its pipe must not leak.
    hookHolder_ = new std::shared_ptr<State>(state_);
    napi_add_env_cleanup_hook(info.Env(), EnvCleanup, hookHolder_);
  }

  ~Resolver() override { CloseAndUnhook(Env()); }

 private:
  Napi::Value Fileno(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return Result(info.Env(), state_->readFd);
  }

  // submit(id, host, port, family, socktype) -> 0 | -EBADF once closed | -EAGAIN (no thread)
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Job job;
    job.id = ArgNumber(info, 0, "id");
    job.host = ArgString(info, 1, "host");
    if (job.host.empty() || job.host.find('\0') != std::string::npos)
      ThrowType(info.Env(), "host must be a non-empty string without NUL");
    job.service = std::to_string(ArgInteger(info, 2, "port", 0, 65535));
    job.family = ArgInt(info, 3, "family");
    job.socktype = ArgInt(info, 4, "socktype");
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return Result(info.Env(), -EBADF);
    state_->jobs.push_back(std::move(job));
    if (state_->workers < kMaxWorkers) {
      state_->workers++;
      try {
        std::thread(Work, state_).detach();
      } catch (const std::system_error&) {
        state_->workers--;
        state_->jobs.pop_back();
        return Result(info.Env(), -EAGAIN);
      }
    }
    return Result(info.Env(), 0);
  }

  // take() -> Array<[id, Buffer[] | { code, message, errno }]>; drains the wake pipe.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<Outcome> done;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      if (!state_->closed) {
        char buf[64];
        while (read(state_->readFd, buf, sizeof buf) > 0) {
        }
      }
      state_->signalled = false;
      done.swap(state_->done);
    }
    Napi::Array out = Napi::Array::New(env, done.size());
    for (size_t i = 0; i < done.size(); i++) {
      const Outcome& o = done[i];
      Napi::Array entry = Napi::Array::New(env, 2);
      entry[0u] = Napi::Number::New(env, o.id);
      if (o.rc == 0) {
        Napi::Array list = Napi::Array::New(env, o.sockaddrs.size());
        for (size_t j = 0; j < o.sockaddrs.size(); j++)
          list[j] = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(o.sockaddrs[j].data()), o.sockaddrs[j].size());
        entry[1u] = list;
      } else {
        Napi::Object err = Napi::Object::New(env);
        err["code"] = GaiErrorCode(o.rc);
        err["message"] = o.rc == EAI_SYSTEM ? strerror(o.systemErrno) : gai_strerror(o.rc);
        err["eai"] = o.rc;
        err["errno"] = -o.systemErrno;
        entry[1u] = err;
      }
      out[i] = entry;
    }
    return out;
  }

  // hold(flag): tests only. While held, workers wait before resolving (a lookup "in flight").
  Napi::Value Hold(const Napi::CallbackInfo& info) {
    bool flag = ArgBool(info, 0, "flag");
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->held = flag;
    if (!flag) state_->gateOpened.notify_all();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseAndUnhook(info.Env());
    return info.Env().Undefined();
  }

  static void EnvCleanup(void* arg) {
    auto* holder = static_cast<std::shared_ptr<State>*>(arg);
    {
      std::lock_guard<std::mutex> lock((*holder)->mutex);
      (*holder)->hookRan = true;
    }
    CloseState(holder->get());
    delete holder;
  }

  void CloseAndUnhook(napi_env env) {
    CloseState(state_.get());
    if (hookHolder_ == nullptr) return;
    bool ran;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      ran = state_->hookRan;
    }
    // Once the hook ran it freed its holder; removing it again would free it twice.
    if (!ran) {
      napi_remove_env_cleanup_hook(env, EnvCleanup, hookHolder_);
      delete hookHolder_;
    }
    hookHolder_ = nullptr;
  }

  std::shared_ptr<State> state_;
  std::shared_ptr<State>* hookHolder_ = nullptr;
};

}  // namespace

Napi::Function InitResolver(Napi::Env env) { return Resolver::Define(env); }

}  // namespace selectloop
