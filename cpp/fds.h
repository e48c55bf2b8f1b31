#pragma once

namespace selectloop {

// Marks fd close-on-exec and, when asked, non-blocking. Returns 0 or -errno. Used where the
// platform cannot set both atomically at creation (no accept4/pipe2/SOCK_CLOEXEC).
int SetFdFlags(int fd, bool nonblocking);

// close() that keeps errno of the failure being reported.
void CloseQuietly(int fd);

}  // namespace selectloop
