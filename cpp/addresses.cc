// Socket addresses: name resolution and sockaddr <-> JS conversion. Addresses cross into JS as
// opaque Buffers holding a sockaddr, so a resolved address is reused without resolving again.
#include "addresses.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

namespace selectloop {

Napi::Value AddressToJs(Napi::Env env, const struct sockaddr* sa, socklen_t len) {
  char host[INET6_ADDRSTRLEN];
  if (len >= sizeof(sa_family_t) && sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const struct sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    Napi::Array a = Napi::Array::New(env, 2);
    a[0u] = Napi::String::New(env, host);
    a[1u] = Napi::Number::New(env, ntohs(in->sin_port));
    return a;
  }
  if (len >= sizeof(sa_family_t) && sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    Napi::Array a = Napi::Array::New(env, 2);
    a[0u] = Napi::String::New(env, host);
    a[1u] = Napi::Number::New(env, ntohs(in6->sin6_port));
    return a;
  }
  if (len >= sizeof(sa_family_t) && sa->sa_family == AF_UNIX) {
    auto* un = reinterpret_cast<const struct sockaddr_un*>(sa);
    size_t pathLen = len > offsetof(struct sockaddr_un, sun_path)
                         ? len - offsetof(struct sockaddr_un, sun_path) : 0;
    if (pathLen > sizeof(un->sun_path)) pathLen = sizeof(un->sun_path);
    // A filesystem path is NUL-terminated; an abstract (Linux) one starts with NUL and is kept whole.
    if (pathLen > 0 && un->sun_path[0] != '\0') pathLen = strnlen(un->sun_path, pathLen);
    return Napi::String::New(env, un->sun_path, pathLen);
  }
  return env.Null();
}

socklen_t ArgSockaddr(const Napi::CallbackInfo& info, size_t i, struct sockaddr_storage* out) {
  Bytes b = ArgBytes(info, i, "address");
  if (b.length < sizeof(sa_family_t) + offsetof(struct sockaddr, sa_family) ||
      b.length > sizeof(struct sockaddr_storage))
    ThrowRange(info.Env(), "address is not a sockaddr (" + std::to_string(b.length) + " bytes)");
  memset(out, 0, sizeof *out);
  memcpy(out, b.data, b.length);
  return static_cast<socklen_t>(b.length);
}

const char* GaiErrorCode(int rc) {
  switch (rc) {
    case EAI_NONAME: return "ENOTFOUND";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_FAMILY: return "EAI_FAMILY";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
    case EAI_BADFLAGS: return "EAI_BADFLAGS";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_FAIL: return "EAI_FAIL";
#ifdef EAI_OVERFLOW
    case EAI_OVERFLOW: return "EAI_OVERFLOW";
#endif
#ifdef EAI_NODATA
    case EAI_NODATA: return "ENOTFOUND";
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return "ENOTFOUND";
#endif
    case EAI_SYSTEM: return "EAI_SYSTEM";
    default: return "EAI_FAIL";
  }
}

namespace {

Napi::Value SockaddrBuffer(Napi::Env env, const void* sa, size_t len) {
  return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(sa), len);
}

// resolve(host: string | null, port, family, socktype, passive) -> Buffer[] | {code, message, errno}
// getaddrinfo blocks, as Python's socket.connect does for a host name; numeric hosts never
// touch the resolver.
Napi::Value Resolve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host;
  bool hasHost = info.Length() > 0 && info[0].IsString();
  if (hasHost) host = info[0].As<Napi::String>().Utf8Value();
  else if (info.Length() == 0 || !info[0].IsNull()) ThrowType(env, "host must be a string or null");
  // getaddrinfo would stop at the NUL and resolve another name ('localhost\0evil' -> localhost).
  if (host.find('\0') != std::string::npos) ThrowType(env, "host must not contain NUL bytes");
  int port = static_cast<int>(ArgInteger(info, 1, "port", 0, 65535));
  int family = ArgInt(info, 2, "family");
  int socktype = ArgInt(info, 3, "socktype");
  bool passive = ArgBool(info, 4, "passive");
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  std::string service = std::to_string(port);
  struct addrinfo* res = nullptr;
  int rc = getaddrinfo(hasHost && !host.empty() ? host.c_str() : nullptr, service.c_str(), &hints, &res);
  if (rc != 0) {
    Napi::Object err = Napi::Object::New(env);
    int sysErrno = rc == EAI_SYSTEM ? errno : 0;
    err["code"] = GaiErrorCode(rc);
    err["message"] = gai_strerror(rc);
    err["eai"] = rc;
    err["errno"] = -sysErrno;
    return err;
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next)
    out[n++] = SockaddrBuffer(env, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(res);
  return out;
}

// unixAddress(path: string | Buffer) -> Buffer | -ENAMETOOLONG
// A path starting with NUL is a Linux abstract name (binary: NULs inside are part of it, as in
// Python). A filesystem path must not contain NUL: the kernel would stop there and bind a
// different file ('sock\0evil' -> 'sock'). An empty path is refused too (as libuv's pipe bind
// does): Linux would silently autobind an abstract name instead.
Napi::Value UnixAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (info.Length() > 0 && info[0].IsString()) path = info[0].As<Napi::String>().Utf8Value();
  else if (info.Length() > 0 && info[0].IsTypedArray()) {
    // Any TypedArray, not just a Uint8Array: IsBuffer() is also true for a DataView, whose bytes
    // Buffer::Data() cannot read (a generic "Invalid argument" Error, found by `npm run fuzz`).
    Bytes b = ArgBytes(info, 0, "path");
    path.assign(reinterpret_cast<const char*>(b.data), b.length);
  } else ThrowType(env, "path must be a string or a Buffer / TypedArray");
  if (path.empty()) ThrowType(env, "AF_UNIX path must not be empty");
  bool abstract = path[0] == '\0';
#ifndef __linux__
  if (abstract) ThrowType(env, "AF_UNIX abstract names (a leading NUL byte) exist on Linux only");
#endif
  if (!abstract && path.find('\0') != std::string::npos)
    ThrowType(env, "AF_UNIX path must not contain NUL bytes");
  struct sockaddr_un un;
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  // A filesystem path needs room for its terminating NUL.
  if (path.size() > sizeof(un.sun_path) - (abstract ? 0 : 1)) return Result(env, -ENAMETOOLONG);
  memcpy(un.sun_path, path.data(), path.size());
  size_t len = offsetof(struct sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1);
  return SockaddrBuffer(env, &un, len);
}

// parseAddress(sockaddr Buffer) -> JS address
Napi::Value ParseAddress(const Napi::CallbackInfo& info) {
  struct sockaddr_storage ss;
  socklen_t len = ArgSockaddr(info, 0, &ss);
  return AddressToJs(info.Env(), reinterpret_cast<struct sockaddr*>(&ss), len);
}

// sockaddrFamily(sockaddr Buffer) -> family
Napi::Value SockaddrFamily(const Napi::CallbackInfo& info) {
  struct sockaddr_storage ss;
  ArgSockaddr(info, 0, &ss);
  return Result(info.Env(), ss.ss_family);
}

}  // namespace

void InitAddresses(Napi::Env env, Napi::Object exports) {
  exports["resolve"] = Napi::Function::New(env, Resolve, "resolve");
  exports["unixAddress"] = Napi::Function::New(env, UnixAddress, "unixAddress");
  exports["parseAddress"] = Napi::Function::New(env, ParseAddress, "parseAddress");
  exports["sockaddrFamily"] = Napi::Function::New(env, SockaddrFamily, "sockaddrFamily");
}

}  // namespace selectloop
