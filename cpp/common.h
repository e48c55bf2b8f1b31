// Shared by every native file: argument validation and the one error convention.
//
// Convention: a wrapped system call returns its non-negative result or -errno as a JS number,
// never throwing. JavaScript (src/errors.ts) turns a negative result into the contract's error
// objects, so would-block stays a cheap return value on the hot path. Only *argument* errors throw,
// as TypeError/RangeError, because they are programming errors that must never reach the kernel.
#pragma once

#include <napi.h>
#include <errno.h>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>

namespace selectloop {

inline Napi::Number Result(Napi::Env env, long long value) {
  return Napi::Number::New(env, static_cast<double>(value));
}

// -errno for the errno of the call that just failed.
inline Napi::Number ErrnoResult(Napi::Env env) { return Result(env, -static_cast<long long>(errno)); }

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] inline void ThrowRange(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

// Arguments are read with one Node-API call each where one suffices (the getter refuses a value
// of the wrong type): these run on every native call of the hot path.
inline double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double v;
  if (i >= info.Length() || napi_get_value_double(info.Env(), info[i], &v) != napi_ok)
    ThrowType(info.Env(), std::string(name) + " must be a number");
  return v;
}

inline int64_t ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* name,
                          int64_t min, int64_t max) {
  double v = ArgNumber(info, i, name);
  if (!std::isfinite(v) || std::trunc(v) != v)
    ThrowRange(info.Env(), std::string(name) + " must be an integer, got " + std::to_string(v));
  if (v < static_cast<double>(min) || v > static_cast<double>(max))
    ThrowRange(info.Env(), std::string(name) + " must be in [" + std::to_string(min) + ", " +
                               std::to_string(max) + "], got " + std::to_string(v));
  return static_cast<int64_t>(v);
}

inline int ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<int>(ArgInteger(info, i, name, INT_MIN, INT_MAX));
}

inline int ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name = "fd") {
  return static_cast<int>(ArgInteger(info, i, name, 0, INT_MAX));
}

inline bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  bool v;
  if (i >= info.Length() || napi_get_value_bool(info.Env(), info[i], &v) != napi_ok)
    ThrowType(info.Env(), std::string(name) + " must be a boolean");
  return v;
}

inline std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsString())
    ThrowType(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// Wait timeout in milliseconds: negative means block. NaN is refused.
inline double ArgTimeout(const Napi::CallbackInfo& info, size_t i) {
  double v = ArgNumber(info, i, "timeout");
  if (std::isnan(v)) ThrowRange(info.Env(), "timeout must not be NaN");
  return v;
}

struct Bytes {
  uint8_t* data;
  size_t length;
};

// The whole memory of a Buffer / TypedArray / DataView / ArrayBuffer argument.
inline Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  napi_env env = info.Env();
  napi_value v = i < info.Length() ? static_cast<napi_value>(info[i]) : nullptr;
  bool is = false;
  napi_typedarray_type type;
  size_t count;
  void* data;
  // napi_invalid_arg for anything but a typed array; no ArrayBuffer asked for.
  if (v != nullptr && napi_get_typedarray_info(env, v, &type, &count, &data, nullptr, nullptr) == napi_ok) {
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    return {static_cast<uint8_t*>(data), count * elem};
  }
  if (v != nullptr && napi_is_dataview(env, v, &is) == napi_ok && is) {
    size_t len;
    void* data;
    napi_value ab;
    size_t offset;
    napi_get_dataview_info(env, v, &len, &data, &ab, &offset);
    return {static_cast<uint8_t*>(data), len};
  }
  if (v != nullptr && napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    void* data;
    size_t len;
    napi_get_arraybuffer_info(env, v, &data, &len);
    return {static_cast<uint8_t*>(data), len};
  }
  ThrowType(info.Env(), std::string(name) + " must be a Buffer, TypedArray, DataView or ArrayBuffer");
}

// buffer[offset, offset + length), bounds-checked: no read or write outside what JS owns.
inline Bytes ArgSpan(const Napi::CallbackInfo& info, size_t bufIndex, const char* name) {
  Bytes all = ArgBytes(info, bufIndex, name);
  int64_t offset = ArgInteger(info, bufIndex + 1, "offset", 0, INT64_C(1) << 53);
  int64_t length = ArgInteger(info, bufIndex + 2, "length", 0, INT64_C(1) << 53);
  if (static_cast<uint64_t>(offset) > all.length ||
      static_cast<uint64_t>(length) > all.length - static_cast<uint64_t>(offset))
    ThrowRange(info.Env(), std::string(name) + ": offset " + std::to_string(offset) + " + length " +
                               std::to_string(length) + " exceeds its size " +
                               std::to_string(all.length));
  return {all.data + offset, static_cast<size_t>(length)};
}

// An Int32Array argument holding at least `minCount` elements.
inline int32_t* ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name,
                              size_t minCount) {
  napi_env env = info.Env();
  napi_value v = i < info.Length() ? static_cast<napi_value>(info[i]) : nullptr;
  napi_typedarray_type type;
  size_t count;
  void* data;
  if (v == nullptr || napi_get_typedarray_info(env, v, &type, &count, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array)
    ThrowType(info.Env(), std::string(name) + " must be an Int32Array");
  if (count < minCount)
    ThrowRange(info.Env(), std::string(name) + " holds " + std::to_string(count) +
                               " elements, needs at least " + std::to_string(minCount));
  return static_cast<int32_t*>(data);
}

// A typed array argument of exactly `type`, whole: its elements and their count.
struct TypedSpan {
  void* data;
  size_t count;
};

inline TypedSpan ArgTypedArray(const Napi::CallbackInfo& info, size_t i, const char* name,
                               napi_typedarray_type want, const char* typeName) {
  napi_env env = info.Env();
  napi_value v = i < info.Length() ? static_cast<napi_value>(info[i]) : nullptr;
  napi_typedarray_type type;
  TypedSpan span{nullptr, 0};
  // No ArrayBuffer asked for: V8 would materialise one for an on-heap typed array.
  if (v == nullptr || napi_get_typedarray_info(env, v, &type, &span.count, &span.data, nullptr, nullptr) != napi_ok ||
      type != want)
    ThrowType(info.Env(), std::string(name) + " must be " + typeName);
  return span;
}

// True when [a, a + aLen) and [b, b + bLen) share a byte.
inline bool Overlaps(const void* a, size_t aLen, const void* b, size_t bLen) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return aLen > 0 && bLen > 0 && pa < pb + bLen && pb < pa + aLen;
}

// Registration of each file's functions on the exports object.
void InitConstants(Napi::Env env, Napi::Object exports);
void InitFds(Napi::Env env, Napi::Object exports);
void InitSockets(Napi::Env env, Napi::Object exports);
void InitAddresses(Napi::Env env, Napi::Object exports);
void InitPoll(Napi::Env env, Napi::Object exports);
void InitSelect(Napi::Env env, Napi::Object exports);
void InitEpoll(Napi::Env env, Napi::Object exports);
void InitKqueue(Napi::Env env, Napi::Object exports);
void InitDevpoll(Napi::Env env, Napi::Object exports);
void InitSignals(Napi::Env env, Napi::Object exports);
void InitFeatures(Napi::Env env, Napi::Object exports);
void InitDatagrams(Napi::Env env, Napi::Object exports);
void InitBatchIo(Napi::Env env, Napi::Object exports);
Napi::Function InitLoopWatcher(Napi::Env env);
Napi::Function InitResolver(Napi::Env env);

}  // namespace selectloop
