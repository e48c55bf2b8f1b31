// UDP echo load generator for `npm run bench:udp`: keeps N datagrams in flight against an echo
// server on 127.0.0.1, with sendmmsg/recvmmsg on K connected sockets, verifies every payload, and
// counts the datagrams that never came back (reported, never hidden).
//
//   udp-loadgen --port P [--size 64] [--inflight 256] [--sockets 4] [--seconds 2] [--warmup 0.5]
//               [--loss-ms 200]
//
// Each datagram carries [seq u32][socket u32] and then a pattern derived from both, so a reply that
// is cut, altered, sent to the wrong socket or duplicated is caught. A datagram whose reply has not
// come within --loss-ms is counted lost and replaced (so a loss never stalls the window); one that
// arrives after that counts as late. Output: one JSON object on stdout:
//   dps (echoed datagrams/s in the measured window), received, lost, late, sent, bytes_verified.
// Exit status: 0 ok, 1 usage or socket error, 2 a payload mismatch.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SIZE 65507
#define MAX_SOCKETS 64
#define RING (1u << 20) /* sequence numbers tracked per socket (send times, 0 = answered) */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint32_t ms = (uint32_t)(ts.tv_sec * 1000u + ts.tv_nsec / 1000000u);
  return ms == 0 ? 1 : ms; /* 0 means "not pending" */
}

typedef struct {
  int fd;
  uint32_t next_seq; /* next sequence number to send */
  uint32_t oldest;   /* no sequence number below it is still pending */
  uint32_t *sent_ms; /* [seq % RING]: send time in ms, 0 once answered or declared lost */
  int owed;          /* datagrams to send to refill the window */
} Sock;

static size_t g_size = 64;
static long long received, lost, late, sent_total, bytes_verified;
static int measuring;
static long long measured;

static void fill(uint8_t *p, uint32_t seq, uint32_t sock) {
  memcpy(p, &seq, 4);
  memcpy(p + 4, &sock, 4);
  for (size_t i = 8; i < g_size; i++) p[i] = (uint8_t)(seq * 31u + sock * 7u + i);
}

static int check(const uint8_t *p, size_t n, uint32_t *seq_out, uint32_t sock) {
  if (n != g_size) return 0;
  uint32_t seq, s;
  memcpy(&seq, p, 4);
  memcpy(&s, p + 4, 4);
  if (s != sock) return 0;
  for (size_t i = 8; i < g_size; i++)
    if (p[i] != (uint8_t)(seq * 31u + sock * 7u + i)) return 0;
  *seq_out = seq;
  return 1;
}

static uint8_t sendbuf[BATCH][MAX_SIZE];
static uint8_t recvbuf[BATCH][MAX_SIZE + 1];

static int send_owed(Sock *s, uint32_t index) {
  while (s->owed > 0) {
    int count = s->owed < BATCH ? s->owed : BATCH;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    memset(msgs, 0, sizeof msgs);
    uint32_t t = now_ms();
    for (int i = 0; i < count; i++) {
      fill(sendbuf[i], s->next_seq + (uint32_t)i, index);
      iov[i].iov_base = sendbuf[i];
      iov[i].iov_len = g_size;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(s->fd, msgs, (unsigned)count, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) return 0;
      if (errno == ECONNREFUSED) return 0; /* the server is not up yet, or went away: counted as lost */
      perror("sendmmsg");
      return -1;
    }
    for (int i = 0; i < r; i++) s->sent_ms[(s->next_seq + (uint32_t)i) % RING] = t;
    s->next_seq += (uint32_t)r;
    s->owed -= r;
    sent_total += r;
    if (r < count) return 0;
  }
  return 0;
}

/* Declares lost every pending datagram older than loss_ms (they were sent in sequence order). */
static void expire(Sock *s, uint32_t loss_ms, int force_all) {
  uint32_t t = now_ms();
  while (s->oldest != s->next_seq) {
    uint32_t *slot = &s->sent_ms[s->oldest % RING];
    if (*slot != 0) {
      int too_far = s->next_seq - s->oldest >= RING - BATCH;
      if (!force_all && !too_far && (uint32_t)(t - *slot) < loss_ms) break;
      *slot = 0;
      lost++;
      s->owed++;
    }
    s->oldest++;
  }
}

static int receive(Sock *s, uint32_t index) {
  for (;;) {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = recvbuf[i];
      iov[i].iov_len = sizeof recvbuf[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
      if (errno == ECONNREFUSED) continue; /* an ICMP report from before the server was up */
      perror("recvmmsg");
      return -1;
    }
    for (int i = 0; i < r; i++) {
      uint32_t seq;
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || !check(recvbuf[i], msgs[i].msg_len, &seq, index)) {
        fprintf(stderr, "udp-loadgen: payload mismatch on socket %u (%u bytes, want %zu)\n", index, msgs[i].msg_len, g_size);
        return -2;
      }
      bytes_verified += (long long)msgs[i].msg_len;
      /* Only sequence numbers in [oldest, next_seq) can be pending. */
      uint32_t *slot = &s->sent_ms[seq % RING];
      if ((uint32_t)(seq - s->oldest) < (uint32_t)(s->next_seq - s->oldest) && *slot != 0) {
        *slot = 0;
        received++;
        if (measuring) measured++;
        s->owed++;
      } else {
        late++; /* answered after being counted lost, or a duplicate */
      }
    }
    if (r < BATCH) return 0;
  }
}

int main(int argc, char **argv) {
  int port = 0, inflight = 256, nsock = 4;
  double seconds = 2, warmup = 0.5;
  uint32_t loss_ms = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--size")) g_size = (size_t)atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--inflight")) inflight = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--sockets")) nsock = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--loss-ms")) loss_ms = (uint32_t)atoi(argv[i + 1]);
    else {
      fprintf(stderr, "udp-loadgen: unknown option %s\n", argv[i]);
      return 1;
    }
  }
  if (port <= 0 || port > 65535 || g_size < 8 || g_size > MAX_SIZE || nsock < 1 || nsock > MAX_SOCKETS ||
      inflight < nsock || loss_ms < 1) {
    fprintf(stderr, "usage: udp-loadgen --port P [--size 8..65507] [--inflight N] [--sockets 1..64] [--seconds S] [--warmup S] [--loss-ms MS]\n");
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  Sock socks[MAX_SOCKETS];
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int k = 0; k < nsock; k++) {
    Sock *s = &socks[k];
    memset(s, 0, sizeof *s);
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int big = 4 << 20;
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
      perror("socket/connect");
      return 1;
    }
    s->sent_ms = calloc(RING, sizeof(uint32_t));
    if (!s->sent_ms) return 1;
    s->owed = inflight / nsock + (k < inflight % nsock ? 1 : 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)k};
    epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
  }
  double start = now_s();
  double measure_from = start + warmup, measure_to = measure_from + seconds;
  double measured_secs = 0;
  int sending = 1;
  double drain_until = 0;
  for (;;) {
    double t = now_s();
    if (!measuring && sending && t >= measure_from) {
      measuring = 1;
      measured = 0;
      measure_from = t;
    }
    if (measuring && t >= measure_to) {
      measuring = 0;
      measured_secs = t - measure_from;
      sending = 0;
      drain_until = t + loss_ms / 1000.0; /* collect what is still in flight */
    }
    if (!sending) {
      int pending = 0;
      for (int k = 0; k < nsock; k++) pending += socks[k].oldest != socks[k].next_seq;
      if (!pending || t >= drain_until) break;
    }
    for (int k = 0; k < nsock; k++) {
      expire(&socks[k], loss_ms, 0);
      if (!sending) socks[k].owed = 0;
      if (send_owed(&socks[k], (uint32_t)k) < 0) return 1;
    }
    struct epoll_event evs[MAX_SOCKETS];
    int n = epoll_wait(ep, evs, MAX_SOCKETS, 1);
    for (int i = 0; i < n; i++) {
      uint32_t k = evs[i].data.u32;
      int r = receive(&socks[k], k);
      if (r == -2) return 2;
      if (r < 0) return 1;
      if (!sending) socks[k].owed = 0;
      if (send_owed(&socks[k], k) < 0) return 1;
    }
  }
  for (int k = 0; k < nsock; k++) {
    socks[k].owed = 0;
    expire(&socks[k], loss_ms, 1); /* whatever never came back */
  }
  printf("{\"dps\": %.0f, \"received\": %lld, \"lost\": %lld, \"late\": %lld, \"sent\": %lld, \"bytes_verified\": %lld, \"size\": %zu, \"inflight\": %d, \"sockets\": %d}\n",
         measured_secs > 0 ? measured / measured_secs : 0.0, received, lost, late, sent_total, bytes_verified, g_size, inflight, nsock);
  return 0;
}
