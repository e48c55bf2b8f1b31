// libuv, as far as loop_watcher.cc and signals.cc need it. Prefer Node's own uv.h (CMake finds it beside the
// node binary); without it, these declarations of stable libuv 1.x functions suffice because
// handles are only ever used through pointers, sized at run time by uv_handle_size().
#pragma once

#ifdef SELECTLOOP_HAVE_UV_H
#include <uv.h>
#else
#include <stddef.h>
#include <stdint.h>
extern "C" {
typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_poll_s uv_poll_t;
typedef struct uv_timer_s uv_timer_t;
typedef struct uv_signal_s uv_signal_t;
typedef void (*uv_poll_cb)(uv_poll_t* handle, int status, int events);
typedef void (*uv_timer_cb)(uv_timer_t* handle);
typedef void (*uv_close_cb)(uv_handle_t* handle);
typedef void (*uv_signal_cb)(uv_signal_t* handle, int signum);
// Values of libuv 1.x's UV_HANDLE_TYPE_MAP, which is ABI-stable within the major version.
typedef enum { UV_POLL = 8, UV_TIMER = 13, UV_SIGNAL = 16 } uv_handle_type;
enum uv_poll_event { UV_READABLE = 1, UV_WRITABLE = 2, UV_DISCONNECT = 4, UV_PRIORITIZED = 8 };
size_t uv_handle_size(uv_handle_type type);
int uv_poll_init(uv_loop_t* loop, uv_poll_t* handle, int fd);
int uv_poll_start(uv_poll_t* handle, int events, uv_poll_cb cb);
int uv_poll_stop(uv_poll_t* handle);
int uv_timer_init(uv_loop_t* loop, uv_timer_t* handle);
int uv_timer_start(uv_timer_t* handle, uv_timer_cb cb, uint64_t timeout, uint64_t repeat);
int uv_timer_stop(uv_timer_t* handle);
int uv_signal_init(uv_loop_t* loop, uv_signal_t* handle);
int uv_signal_start(uv_signal_t* handle, uv_signal_cb signal_cb, int signum);
int uv_signal_stop(uv_signal_t* handle);
uv_loop_t* uv_default_loop(void);
void uv_close(uv_handle_t* handle, uv_close_cb close_cb);
void uv_ref(uv_handle_t* handle);
void uv_unref(uv_handle_t* handle);
void* uv_handle_get_data(const uv_handle_t* handle);
void uv_handle_set_data(uv_handle_t* handle, void* data);
}
#endif
