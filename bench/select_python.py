#!/usr/bin/env python3
"""CPython side of bench/select.ts: microseconds per selector.select(0) with N idle registered fds
plus one active fd (a pipe holding one unread byte). bench/select.ts drives it with --serve, one
sample at a time, alternating with its own samples (paired rounds). Same fd layout and method as the Node bench:
idle fds are both ends of N/2 pipes registered for EVENT_READ, ~100 ms warm-up, K calls per
measurement sized to --target-ms, median of --repeats. Prints JSON on stdout.

    python3 bench/select_python.py --configs select:10,poll:10000,epoll:10000
"""
import argparse
import json
import os
import resource
import selectors
import statistics
import sys
import time

CLASSES = {
    'SelectSelector': 'SelectSelector',
    'PollSelector': 'PollSelector',
    'EpollSelector': 'EpollSelector',
    'select': 'SelectSelector',
    'poll': 'PollSelector',
    'epoll': 'EpollSelector',
}


def time_loop(sel, k):
    select = sel.select
    ready = 0
    t0 = time.perf_counter_ns()
    for _ in range(k):
        ready += len(select(0))
    t1 = time.perf_counter_ns()
    if ready != k:
        raise RuntimeError(f'expected {k} ready keys, got {ready}')
    return t1 - t0


def measure(sel, target_ms, repeats):
    k = 1
    warm_start = time.perf_counter_ns()
    while True:
        ns = time_loop(sel, k)
        if ns >= 20e6 and time.perf_counter_ns() - warm_start >= 100e6:
            break
        if ns < 20e6:
            k *= 2
    k = max(1, round(k * target_ms * 1e6 / ns))
    samples = [time_loop(sel, k) / k / 1000 for _ in range(repeats)]
    return statistics.median(samples), k, samples


def serve(max_n):
    """Paired mode for bench/select.ts: one JSON request per stdin line, one JSON reply per line.
    {"op": "setup", "backend": b, "n": n} registers n idle fds + the active one (replies k, the
    calibrated call count for --target-ms); {"op": "sample", "k": k} times k calls (replies us);
    {"op": "teardown"} closes the selector."""
    idle, all_fds, active_r = make_fds(max_n)
    sel = None
    try:
        for line in sys.stdin:
            req = json.loads(line)
            if req['op'] == 'setup':
                cls_name = CLASSES[req['backend']]
                cls = getattr(selectors, cls_name, None)
                fds = [fd for fd in idle if fd < 1024] if cls_name == 'SelectSelector' else idle
                if cls is None or len(fds) < req['n']:
                    reply = {'error': 'not available' if cls is None else 'not enough fds'}
                else:
                    sel = cls()
                    for fd in fds[:req['n']]:
                        sel.register(fd, selectors.EVENT_READ)
                    sel.register(active_r, selectors.EVENT_READ)
                    _, k, _ = measure(sel, req['target_ms'], 1)
                    reply = {'k': k}
            elif req['op'] == 'sample':
                reply = {'us': time_loop(sel, req['k']) / req['k'] / 1000}
            else:
                if sel is not None:
                    sel.close()
                sel = None
                reply = {}
            sys.stdout.write(json.dumps(reply) + '\n')
            sys.stdout.flush()
    finally:
        for fd in all_fds:
            os.close(fd)


def raise_fd_limit(max_n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max_n + 2 + 64
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(hard, max(need, 65536))
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def make_fds(max_n):
    """An active pipe (one unread byte) and >= max_n idle pipe ends, lowest fds first."""
    raise_fd_limit(max_n)
    active_r, active_w = os.pipe()
    all_fds = [active_r, active_w]
    os.write(active_w, b'x')
    idle = []
    while len(idle) < max_n:
        r, w = os.pipe()
        all_fds += [r, w]
        idle += [r, w]
    idle.sort()
    return idle, all_fds, active_r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--serve', type=int, metavar='MAX_N', help='paired mode (see serve())')
    ap.add_argument('--with-thread', action='store_true',
                    help='start one idle thread first: the kernel then takes and drops a reference per fd in poll()/select() '
                         '(the fd table is shared), as it always does in Node, which runs several threads')
    ap.add_argument('--configs', help='backend:N,... (backend = class name or select/poll/epoll)')
    ap.add_argument('--target-ms', type=float, default=300)
    ap.add_argument('--repeats', type=int, default=5)
    args = ap.parse_args()
    if args.with_thread:
        import threading
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    if args.serve is not None:
        return serve(args.serve)
    configs = []
    for item in args.configs.split(','):
        if not item:
            continue
        b, n = item.rsplit(':', 1)
        configs.append((b, int(n)))
    max_n = max((n for _, n in configs), default=0)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max_n + 2 + 64
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(hard, max(need, 65536))
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))

    all_fds = []
    results = []
    try:
        active_r, active_w = os.pipe()
        all_fds += [active_r, active_w]
        os.write(active_w, b'x')
        idle = []
        while len(idle) < max_n:
            r, w = os.pipe()
            all_fds += [r, w]
            idle += [r, w]
        idle.sort()
        for b, n in configs:
            cls_name = CLASSES[b]
            cls = getattr(selectors, cls_name, None)
            if cls is None:
                results.append({'backend': b, 'n': n, 'us': None, 'note': 'not available'})
                continue
            fds = idle
            if cls_name == 'SelectSelector':
                fds = [fd for fd in idle if fd < 1024]
            if len(fds) < n:
                results.append({'backend': b, 'n': n, 'us': None, 'note': 'not enough fds'})
                continue
            sel = cls()
            try:
                for fd in fds[:n]:
                    sel.register(fd, selectors.EVENT_READ)
                sel.register(active_r, selectors.EVENT_READ)
                us, k, samples = measure(sel, args.target_ms, args.repeats)
                results.append({'backend': b, 'n': n, 'us': us, 'k': k, 'samples': samples})
            finally:
                sel.close()
    finally:
        for fd in all_fds:
            try:
                os.close(fd)
            except OSError:
                pass
    json.dump({'python': sys.version.split()[0], 'results': results}, sys.stdout)
    print()


if __name__ == '__main__':
    main()
