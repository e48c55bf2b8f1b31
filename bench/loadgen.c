// Single-threaded epoll load generator for echo servers on 127.0.0.1 (bench-only; no deps).
//
//   loadgen --port P --mode pingpong --conns C --size S --seconds T --warmup W
//   loadgen --port P --mode bulk     --conns C --seconds T --warmup W
//   loadgen --port P --mode idle     --conns N --size S --pid SERVER_PID [--warmup-conns W]
//
// With --pid in pingpong and bulk modes the server's CPU time (all its threads, user + system,
// from /proc/PID/stat) over the measured interval is reported too: server_cpu_us_per_rt and
// server_cpu_pct. --stall S (seconds, default 1): no event for that long fails the run.
//
// Every byte sent follows a per-connection deterministic pattern (a pseudo-random table read at
// an offset that depends on the connection index), and every byte received is compared against
// it. Prints one JSON object on stdout. Exit status: 0 ok, 1 connection/usage error, 2 byte mismatch.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 65521u            // pattern period (prime): shifted or dropped bytes are caught
#define MAX_IO (256u * 1024u)    // largest single send/recv
#define BULK_WINDOW (256u * 1024u)

static uint8_t *pattern;  // PERIOD + MAX_IO bytes, so any slice of <= MAX_IO is contiguous
static uint8_t rbuf[MAX_IO];

typedef struct {
  int fd;
  int idx;
  int connected;
  int want_out;       // EPOLLOUT registered
  uint64_t sent;      // stream offset of the next byte to send
  uint64_t recvd;     // stream offset of the next byte expected back
  uint64_t msg_end;   // pingpong: stream offset where the current message ends
  uint64_t t0;        // pingpong: time the current message was started (ns)
} conn_t;

static int port = 0, conns = 1, size = 64, pid = 0, warmup_conns = 0;
// --stall S: a run with no event for S seconds (1 by default) fails: a hang, reported, not waited out.
static double stall_s = 1;
static int stall_ms = 1000;
static char stall_message[64] = "no progress for 1 s";
static double seconds = 2.0, warmup = 0.5;
static const char *mode = "pingpong";
static int ep;
static conn_t *cs;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int idx) {
  fprintf(stderr, "loadgen: %s (connection %d): %s\n", what, idx, errno ? strerror(errno) : "");
  exit(1);
}

// epoll_wait, retried on EINTR; dies on any other error.
static int wait_events(struct epoll_event *evs, int max, int timeout_ms) {
  for (;;) {
    int k = epoll_wait(ep, evs, max, timeout_ms);
    if (k >= 0) return k;
    if (errno != EINTR) die("epoll_wait", -1);
  }
}

static const uint8_t *pat_at(const conn_t *c, uint64_t off) {
  return pattern + (off + (uint64_t)c->idx * 7919u) % PERIOD;
}

static void set_events(conn_t *c, int out) {
  if (c->want_out == out) return;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl", c->idx);
  c->want_out = out;
}

static void start_connect(conn_t *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket", c->idx);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("connect", c->idx);
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl add", c->idx);
  c->want_out = -1;
}

// Connects conns[0..n) with at most `par` connects in flight.
static void connect_all(int n, int par) {
  int next = 0, done = 0, inflight = 0;
  struct epoll_event evs[256];
  while (done < n) {
    while (next < n && inflight < par) { start_connect(&cs[next++]); inflight++; }
    int k = wait_events(evs, 256, 10000);
    if (k == 0) { errno = ETIMEDOUT; die("connect timed out", done); }
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      int err = 0; socklen_t len = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) { errno = err; die("connect", c->idx); }
      c->connected = 1; inflight--; done++;
      set_events(c, 0);
    }
  }
}

// Sends as much of [sent, limit) as the socket takes. Returns 1 if everything went.
static int pump_send(conn_t *c, uint64_t limit) {
  while (c->sent < limit) {
    uint64_t n = limit - c->sent;
    if (n > MAX_IO) n = MAX_IO;
    ssize_t w = send(c->fd, pat_at(c, c->sent), (size_t)n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) { set_events(c, 1); return 0; }
      if (errno == EINTR) continue;
      die("send", c->idx);
    }
    c->sent += (uint64_t)w;
  }
  set_events(c, 0);
  return 1;
}

// Reads what is there and verifies it. Returns bytes read (0 when it would block).
static uint64_t pump_recv(conn_t *c) {
  uint64_t total = 0;
  for (;;) {
    uint64_t room = c->sent - c->recvd;  // never read more than we sent: extra bytes are an error anyway
    if (room == 0) room = 1;             // ...but do notice unsolicited bytes / EOF
    if (room > sizeof rbuf) room = sizeof rbuf;
    ssize_t r = recv(c->fd, rbuf, (size_t)room, 0);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return total;
      if (errno == EINTR) continue;
      die("recv", c->idx);
    }
    if (r == 0) { errno = 0; die("server closed the connection", c->idx); }
    if (c->recvd + (uint64_t)r > c->sent) {
      fprintf(stderr, "loadgen: connection %d received %zd bytes more than sent\n", c->idx, (ssize_t)(c->recvd + r - c->sent));
      exit(2);
    }
    if (memcmp(rbuf, pat_at(c, c->recvd), (size_t)r) != 0) {
      const uint8_t *want = pat_at(c, c->recvd);
      ssize_t i = 0;
      while (i < r && rbuf[i] == want[i]) i++;
      fprintf(stderr, "loadgen: byte mismatch on connection %d at stream offset %llu: got 0x%02x want 0x%02x\n",
              c->idx, (unsigned long long)(c->recvd + (uint64_t)i), rbuf[i], want[i]);
      exit(2);
    }
    c->recvd += (uint64_t)r;
    total += (uint64_t)r;
    // Everything sent is back: stop here rather than spend a recv() on EAGAIN per message (that
    // extra system call made the load generator, not the server, the bottleneck). Bytes the server
    // adds are still caught: by the next message's comparison, or by check_no_extra_bytes().
    if ((uint64_t)r < room || c->recvd == c->sent) return total;
  }
}

// The server's CPU time so far (user + system, all threads) in seconds; 0 without --pid.
static double server_cpu_s(void) {
  if (pid <= 0) return 0;
  char path[64], line[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) die("open /proc/PID/stat", -1);
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = 0;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const char *p = strrchr(line, ')');
  unsigned long long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
    errno = 0;
    die("parse /proc/PID/stat", -1);
  }
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static long read_rss_kb(int p) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", p);
  FILE *f = fopen(path, "r");
  if (!f) die("open /proc/PID/status", -1);
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) { kb = strtol(line + 6, NULL, 10); break; }
  fclose(f);
  return kb;
}

// After a run: stop sending, take every outstanding echo, then make sure no connection has
// anything more to read (a server that duplicates data at the very end is caught here).
static void check_no_extra_bytes(void) {
  for (int i = 0; i < conns; i++) if (cs[i].fd >= 0) set_events(&cs[i], 0);
  uint64_t deadline = now_ns() + 2000000000ull;
  struct epoll_event evs[512];
  for (;;) {
    int pending = 0;
    for (int i = 0; i < conns; i++) if (cs[i].fd >= 0 && cs[i].recvd < cs[i].sent) pending++;
    if (pending == 0) break;
    if (now_ns() > deadline) { errno = ETIMEDOUT; die("waiting for the last echoes", -1); }
    int k = wait_events(evs, 512, 100);
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLERR) { errno = 0; die("socket error", c->idx); }
      if (evs[i].events & (EPOLLIN | EPOLLHUP)) pump_recv(c);
    }
  }
  struct timespec ts = {0, 20 * 1000000};  // time for stray bytes to arrive
  nanosleep(&ts, NULL);
  for (int i = 0; i < conns; i++) {
    if (cs[i].fd < 0) continue;
    ssize_t r = recv(cs[i].fd, rbuf, 1, MSG_DONTWAIT);
    if (r > 0) {
      fprintf(stderr, "loadgen: connection %d received bytes beyond what it sent\n", i);
      exit(2);
    }
    if (r == 0) { errno = 0; die("server closed the connection", i); }
  }
}

static void run_pingpong(void) {
  connect_all(conns, 256);
  size_t cap = 1 << 16, nlat = 0;
  uint64_t *lat = malloc(cap * sizeof *lat);
  uint64_t t_start = now_ns();
  uint64_t t_measure = t_start + (uint64_t)(warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(seconds * 1e9);
  uint64_t trips = 0, bytes = 0;
  for (int i = 0; i < conns; i++) {
    conn_t *c = &cs[i];
    c->msg_end = c->sent + (uint64_t)size;
    c->t0 = now_ns();
    pump_send(c, c->msg_end);
  }
  struct epoll_event evs[512];
  int measuring = 0;
  uint64_t t_meas_real = 0;
  double cpu0 = 0;
  for (;;) {
    int k = wait_events(evs, 512, stall_ms);
    uint64_t t = now_ns();
    if (!measuring && t >= t_measure) { measuring = 1; t_meas_real = t; cpu0 = server_cpu_s(); }
    if (t >= t_end) break;
    if (k == 0) { errno = ETIMEDOUT; die(stall_message, -1); }
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & (EPOLLERR)) { errno = 0; die("socket error", c->idx); }
      if (evs[i].events & EPOLLOUT) pump_send(c, c->msg_end);
      if (evs[i].events & (EPOLLIN | EPOLLHUP)) {
        pump_recv(c);
        if (c->recvd == c->msg_end) {
          uint64_t t1 = now_ns();
          if (measuring) {
            if (nlat == cap) { cap *= 2; lat = realloc(lat, cap * sizeof *lat); }
            lat[nlat++] = t1 - c->t0;
            trips++;
            bytes += (uint64_t)size;
          }
          c->msg_end = c->sent + (uint64_t)size;
          c->t0 = t1;
          pump_send(c, c->msg_end);
        }
      }
    }
  }
  double cpu = measuring ? server_cpu_s() - cpu0 : 0;
  double el = (double)(now_ns() - t_meas_real) / 1e9;
  if (!measuring || el <= 0) el = seconds;
  check_no_extra_bytes();
  qsort(lat, nlat, sizeof *lat, cmp_u64);
  double p50 = nlat ? lat[nlat / 2] / 1e3 : 0, p99 = nlat ? lat[(size_t)(nlat * 0.99)] / 1e3 : 0;
  uint64_t verified = 0;
  for (int i = 0; i < conns; i++) verified += cs[i].recvd;
  printf("{\"mode\":\"pingpong\",\"conns\":%d,\"size\":%d,\"seconds\":%.3f,\"round_trips\":%llu,"
         "\"rps\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"mb_per_s\":%.2f,\"bytes_verified\":%llu",
         conns, size, el, (unsigned long long)trips, trips / el, p50, p99, bytes / el / 1e6,
         (unsigned long long)verified);
  if (pid > 0) printf(",\"server_cpu_us_per_rt\":%.3f,\"server_cpu_pct\":%.1f", trips ? cpu * 1e6 / (double)trips : 0, cpu / el * 100);
  printf("}\n");
  free(lat);
}

static void run_bulk(void) {
  connect_all(conns, 256);
  uint64_t t_measure = now_ns() + (uint64_t)(warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(seconds * 1e9);
  for (int i = 0; i < conns; i++) pump_send(&cs[i], cs[i].recvd + BULK_WINDOW);
  struct epoll_event evs[512];
  int measuring = 0;
  uint64_t t_meas_real = 0, bytes = 0;
  double cpu0 = 0;
  for (;;) {
    int k = wait_events(evs, 512, stall_ms);
    uint64_t t = now_ns();
    if (!measuring && t >= t_measure) { measuring = 1; t_meas_real = t; cpu0 = server_cpu_s(); }
    if (t >= t_end) break;
    if (k == 0) { errno = ETIMEDOUT; die(stall_message, -1); }
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLERR) { errno = 0; die("socket error", c->idx); }
      if (evs[i].events & (EPOLLIN | EPOLLHUP)) {
        uint64_t n = pump_recv(c);
        if (measuring) bytes += n;
      }
      pump_send(c, c->recvd + BULK_WINDOW);
    }
  }
  double cpu = measuring ? server_cpu_s() - cpu0 : 0;
  double el = (double)(now_ns() - t_meas_real) / 1e9;
  if (!measuring || el <= 0) el = seconds;
  check_no_extra_bytes();
  uint64_t verified = 0;
  for (int i = 0; i < conns; i++) verified += cs[i].recvd;
  printf("{\"mode\":\"bulk\",\"conns\":%d,\"seconds\":%.3f,\"mb_per_s\":%.2f,\"bytes_verified\":%llu",
         conns, el, bytes / el / 1e6, (unsigned long long)verified);
  if (pid > 0) printf(",\"server_cpu_us_per_mb\":%.3f,\"server_cpu_pct\":%.1f", bytes ? cpu * 1e12 / (double)bytes : 0, cpu / el * 100);
  printf("}\n");
}

// One echo on each of cs[0..n), at most 256 outstanding, so every connection has been accepted and used.
static void echo_once_each(int n) {
  int next = 0, done = 0, inflight = 0;
  struct epoll_event evs[512];
  while (done < n) {
    while (next < n && inflight < 256) {
      conn_t *c = &cs[next++];
      c->msg_end = c->sent + (uint64_t)size;
      pump_send(c, c->msg_end);
      inflight++;
    }
    int k = wait_events(evs, 512, 10000);
    if (k == 0) { errno = ETIMEDOUT; die("echo timed out", done); }
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLERR) { errno = 0; die("socket error", c->idx); }
      if (evs[i].events & EPOLLOUT) pump_send(c, c->msg_end);
      if (evs[i].events & (EPOLLIN | EPOLLHUP)) {
        int was_done = c->recvd == c->msg_end;
        pump_recv(c);
        if (!was_done && c->recvd == c->msg_end) { done++; inflight--; }
      }
    }
  }
}

static void settle(void) {
  struct timespec ts = {0, 300 * 1000000};
  nanosleep(&ts, NULL);
}

static void run_idle(void) {
  if (pid <= 0) { fprintf(stderr, "loadgen: idle mode needs --pid\n"); exit(1); }
  // Warm-up: the first connections a fresh server handles also pay for one-time costs (JIT
  // compilation of its connection path, whose malloc'd memory stays in the process, first use of
  // the young generation); open, echo on and close --warmup-conns connections before "before".
  int warm = warmup_conns < conns ? warmup_conns : conns;
  if (warm > 0) {
    connect_all(warm, 128);
    echo_once_each(warm);
    for (int i = 0; i < warm; i++) {
      close(cs[i].fd);
      memset(&cs[i], 0, sizeof cs[i]);
      cs[i].idx = i, cs[i].fd = -1;
    }
    settle();
  }
  long before = read_rss_kb(pid);
  uint64_t t0 = now_ns();
  connect_all(conns, 128);
  echo_once_each(conns);
  double setup = (double)(now_ns() - t0) / 1e9;
  check_no_extra_bytes();
  settle();
  long after = read_rss_kb(pid);
  printf("{\"mode\":\"idle\",\"conns\":%d,\"size\":%d,\"warmup_conns\":%d,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,"
         "\"kb_per_conn\":%.3f,\"setup_seconds\":%.3f}\n",
         conns, size, warm, before, after, (double)(after - before) / conns, setup);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) { fprintf(stderr, "loadgen: %s needs a value\n", a); return 1; }
    if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--mode")) mode = v;
    else if (!strcmp(a, "--conns")) conns = atoi(v);
    else if (!strcmp(a, "--size")) size = atoi(v);
    else if (!strcmp(a, "--seconds")) seconds = atof(v);
    else if (!strcmp(a, "--warmup")) warmup = atof(v);
    else if (!strcmp(a, "--pid")) pid = atoi(v);
    else if (!strcmp(a, "--warmup-conns")) warmup_conns = atoi(v);
    else if (!strcmp(a, "--stall")) stall_s = atof(v);
    else { fprintf(stderr, "loadgen: unknown option %s\n", a); return 1; }
    i++;
  }
  if (port <= 0 || conns <= 0 || size <= 0 || (unsigned)size > MAX_IO * 64u || !(stall_s >= 0.001 && stall_s <= 3600)) {
    fprintf(stderr, "usage: loadgen --port P [--mode pingpong|bulk|idle] [--conns C] [--size S] "
                    "[--seconds T] [--warmup W] [--pid PID] [--warmup-conns N] [--stall S]\n");
    return 1;
  }
  stall_ms = (int)(stall_s * 1000);
  snprintf(stall_message, sizeof stall_message, "no progress for %g s", stall_s);
  pattern = malloc(PERIOD + MAX_IO);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < PERIOD; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; pattern[i] = (uint8_t)(x >> 7); }
  for (size_t i = PERIOD; i < PERIOD + MAX_IO; i++) pattern[i] = pattern[i - PERIOD];
  ep = epoll_create1(EPOLL_CLOEXEC);
  cs = calloc((size_t)conns, sizeof *cs);
  for (int i = 0; i < conns; i++) cs[i].idx = i, cs[i].fd = -1;
  if (!strcmp(mode, "pingpong")) run_pingpong();
  else if (!strcmp(mode, "bulk")) run_bulk();
  else if (!strcmp(mode, "idle")) run_idle();
  else { fprintf(stderr, "loadgen: unknown mode %s\n", mode); return 1; }
  fflush(stdout);
  for (int i = 0; i < conns; i++) if (cs[i].fd >= 0) close(cs[i].fd);
  return 0;
}
