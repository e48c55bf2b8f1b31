// Hand-written C epoll echo server: the "practical limit" row of the echo benchmark (bench-only).
//
//   c-echo PORT [--quiet]        prints "listening on 127.0.0.1:PORT" (port 0 picks one)
//
// What an efficient single-threaded server does per ready socket and nothing more: level-triggered
// epoll, one recv() into a shared buffer, one send() of what came in. Only when the peer does not
// take everything is the rest copied to a per-connection buffer; then the socket waits for
// EPOLLOUT instead of EPOLLIN until it is drained (backpressure, as the selectloop servers do).
// Per-connection state is a table indexed by fd, allocated once.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)

typedef struct {
  uint8_t *pending;  // bytes the peer has not taken yet (NULL when none)
  size_t off, len;
} conn_t;

static uint8_t buf[READ_SIZE];
static conn_t *conns;
static int max_fds;
static int ep;

static void die(const char *what) {
  fprintf(stderr, "c-echo: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void watch(int fd, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

static void drop(int fd) {
  free(conns[fd].pending);
  memset(&conns[fd], 0, sizeof conns[fd]);
  close(fd);  // also removes it from the epoll set
}

// Sends [data, data+len); keeps what the peer did not take. Returns -1 if the connection died.
static int send_or_keep(int fd, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      conn_t *c = &conns[fd];
      c->pending = malloc(len);
      if (!c->pending) die("malloc");
      memcpy(c->pending, data, len);
      c->off = 0, c->len = len;
      watch(fd, EPOLL_CTL_MOD, EPOLLOUT);
      return 0;
    }
    data += w, len -= (size_t)w;
  }
  return 0;
}

static void on_readable(int fd) {
  ssize_t r = recv(fd, buf, sizeof buf, 0);
  if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return drop(fd);
  if (r > 0 && send_or_keep(fd, buf, (size_t)r) < 0) drop(fd);
}

static void on_writable(int fd) {
  conn_t *c = &conns[fd];
  while (c->off < c->len) {
    ssize_t w = send(fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return drop(fd);
    }
    c->off += (size_t)w;
  }
  free(c->pending);
  c->pending = NULL, c->off = c->len = 0;
  watch(fd, EPOLL_CTL_MOD, EPOLLIN);
}

static void on_acceptable(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      die("accept4");
    }
    if (fd >= max_fds) { close(fd); continue; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    watch(fd, EPOLL_CTL_ADD, EPOLLIN);
  }
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int quiet = argc > 2 && !strcmp(argv[2], "--quiet");
  (void)quiet;  // nothing is printed per connection anyway
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) die("getrlimit");
  max_fds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? (1 << 20) : (int)rl.rlim_cur;
  conns = calloc((size_t)max_fds, sizeof *conns);
  if (!conns) die("calloc");
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  if (listen(lfd, 4096) < 0) die("listen");
  socklen_t len = sizeof sa;
  if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) die("getsockname");
  printf("listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
  fflush(stdout);

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  watch(lfd, EPOLL_CTL_ADD, EPOLLIN);
  struct epoll_event evs[512];
  for (;;) {
    int k = epoll_wait(ep, evs, 512, -1);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      uint32_t e = evs[i].events;
      if (fd == lfd) on_acceptable(lfd);
      else if (conns[fd].pending) { if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(fd); }
      else if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(fd);
    }
  }
}
