#pragma once

#include <sys/socket.h>

#include "common.h"

namespace selectloop {

// sockaddr -> [host, port] (AF_INET, AF_INET6), a path string (AF_UNIX; '' when unnamed), or null.
Napi::Value AddressToJs(Napi::Env env, const struct sockaddr* sa, socklen_t len);

// A sockaddr previously built by resolve()/unixAddress(), passed back as a Buffer argument.
socklen_t ArgSockaddr(const Napi::CallbackInfo& info, size_t i, struct sockaddr_storage* out);

// Node's code for a getaddrinfo failure ('ENOTFOUND', 'EAI_AGAIN', ...).
const char* GaiErrorCode(int rc);

}  // namespace selectloop
