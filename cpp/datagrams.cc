// Datagram batches: many datagrams per system call in each direction (recvmmsg/sendmmsg where the
// platform has them, a recvmsg/sendmsg loop elsewhere), so a busy UDP endpoint pays one JS ->
// native crossing per batch rather than per datagram. Results cross in a caller-owned Int32Array
// and the sender addresses in a caller-owned byte array (one sockaddr slot per message), so a
// receive batch allocates nothing on the JS heap.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstring>

#include "addresses.h"
#include "common.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

namespace selectloop {
namespace {

// Messages per native call: the read budget per readable event (libuv uses 32 per wakeup).
constexpr int kMaxBatch = 64;
// One sockaddr slot per message: a shared slot made every datagram look as if it came from one
// peer (uNetworking/uSockets#245).
constexpr size_t kNameSlot = sizeof(struct sockaddr_storage);
// Per-message results: length, truncated, sender address length, same-sender-as-before.
constexpr int kResultWidth = 4;

// The element at `i` of a JS array, as a Uint8Array's memory; `what` names it in errors.
Bytes Uint8Element(Napi::Env env, napi_value element, const char* what, int64_t i) {
  bool isTyped = false;
  napi_is_typedarray(env, element, &isTyped);
  if (!isTyped) ThrowType(env, std::string(what) + "[" + std::to_string(i) + "] must be a Uint8Array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t offset;
  napi_get_typedarray_info(env, element, &type, &length, &data, &ab, &offset);
  if (type != napi_uint8_array) ThrowType(env, std::string(what) + "[" + std::to_string(i) + "] must be a Uint8Array");
  return {static_cast<uint8_t*>(data), length};
}

// recvDatagrams(fd, buf, offset, slotSize, maxCount, results: Int32Array(4 * maxCount),
//               names: Uint8Array((BATCH_MAX + 1) * 128)) -> count | -errno
// Message i lands at buf[offset + i * slotSize], its sender in names slot i. The last names slot
// (index BATCH_MAX) remembers the previous batch's last sender, so results[4i + 3] can say "same sender as the
// message before" across batches and JS reuses its decoded address (a burst from one peer decodes
// one address). A sender length of 0 means "no address" (a connected socket, an unnamed AF_UNIX
// peer): never a slot's stale bytes (libuv#5161).
Napi::Value RecvDatagrams(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Bytes buf = ArgBytes(info, 1, "buffer");
  int64_t offset = ArgInteger(info, 2, "offset", 0, INT64_C(1) << 53);
  int64_t slotSize = ArgInteger(info, 3, "slotSize", 1, INT32_MAX);
  int count = static_cast<int>(ArgInteger(info, 4, "maxCount", 1, kMaxBatch));
  int32_t* results = ArgInt32Array(info, 5, "results", static_cast<size_t>(kResultWidth * count));
  Bytes names = ArgBytes(info, 6, "names");
  if (static_cast<uint64_t>(offset) > buf.length ||
      static_cast<uint64_t>(slotSize) * static_cast<uint64_t>(count) > buf.length - static_cast<uint64_t>(offset))
    ThrowRange(env, "buffer: offset " + std::to_string(offset) + " + " + std::to_string(count) + " slots of " +
                        std::to_string(slotSize) + " bytes exceeds its size " + std::to_string(buf.length));
  if (names.length < (static_cast<size_t>(kMaxBatch) + 1) * kNameSlot)
    ThrowRange(env, "names holds " + std::to_string(names.length) + " bytes, needs " +
                        std::to_string((kMaxBatch + 1) * kNameSlot));
  uint8_t* base = buf.data + offset;
  uint8_t* last = names.data + static_cast<size_t>(kMaxBatch) * kNameSlot;
  struct iovec iov[kMaxBatch];
  int got = 0;
#ifdef SELECTLOOP_HAVE_RECVMMSG
  struct mmsghdr msgs[kMaxBatch];
  // Zeroed on every call: fields left from the previous call broke recvmmsg on musl (libuv#3416).
  memset(msgs, 0, sizeof(struct mmsghdr) * static_cast<size_t>(count));
  for (int i = 0; i < count; i++) {
    iov[i].iov_base = base + static_cast<size_t>(i) * static_cast<size_t>(slotSize);
    iov[i].iov_len = static_cast<size_t>(slotSize);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = names.data + static_cast<size_t>(i) * kNameSlot;
    msgs[i].msg_hdr.msg_namelen = kNameSlot;
  }
  int r;
  do r = recvmmsg(fd, msgs, static_cast<unsigned>(count), MSG_DONTWAIT, nullptr);
  while (r < 0 && errno == EINTR);
  if (r < 0) return ErrnoResult(env);
  got = r;
  for (int i = 0; i < got; i++) {
    results[kResultWidth * i] = static_cast<int32_t>(msgs[i].msg_len);
    results[kResultWidth * i + 1] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    results[kResultWidth * i + 2] = static_cast<int32_t>(msgs[i].msg_hdr.msg_namelen);
  }
#else
  for (; got < count; got++) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    iov[got].iov_base = base + static_cast<size_t>(got) * static_cast<size_t>(slotSize);
    iov[got].iov_len = static_cast<size_t>(slotSize);
    msg.msg_iov = &iov[got];
    msg.msg_iovlen = 1;
    msg.msg_name = names.data + static_cast<size_t>(got) * kNameSlot;
    msg.msg_namelen = kNameSlot;
    ssize_t n;
    do n = recvmsg(fd, &msg, MSG_DONTWAIT); while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (got == 0) return ErrnoResult(env);
      break;  // would-block ends the batch; a real error comes back on the next call
    }
    results[kResultWidth * got] = static_cast<int32_t>(n);
    results[kResultWidth * got + 1] = (msg.msg_flags & MSG_TRUNC) ? 1 : 0;
    results[kResultWidth * got + 2] = static_cast<int32_t>(msg.msg_namelen);
  }
#endif
  for (int i = 0; i < got; i++) {
    int32_t len = results[kResultWidth * i + 2];
    if (len < 0 || static_cast<size_t>(len) > kNameSlot) len = results[kResultWidth * i + 2] = 0;
    uint8_t* name = names.data + static_cast<size_t>(i) * kNameSlot;
    // The last slot holds [length (4 bytes) | sockaddr bytes] of the sender decoded before.
    int32_t lastLen;
    memcpy(&lastLen, last, sizeof lastLen);
    bool same = len > 0 && len == lastLen && memcmp(name, last + sizeof lastLen, static_cast<size_t>(len)) == 0;
    results[kResultWidth * i + 3] = same ? 1 : 0;
    if (!same && len > 0 && static_cast<size_t>(len) <= kNameSlot - sizeof lastLen) {
      memcpy(last, &len, sizeof len);
      memcpy(last + sizeof len, name, static_cast<size_t>(len));
    }
  }
  return Result(env, got);
}

// sendDatagrams(fd, datas: Uint8Array[], addrs: Array<Uint8Array | null>, start, count)
//   -> datagrams sent | -errno (the first one failed).
// Each datagram goes whole or not at all (datagram sockets never send part of one); a failure
// after the first stops the batch there, and the next call meets it first.
Napi::Value SendDatagrams(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  if (info.Length() < 3 || !info[1].IsArray() || !info[2].IsArray()) ThrowType(env, "datas and addrs must be arrays");
  Napi::Array datas = info[1].As<Napi::Array>();
  Napi::Array addrs = info[2].As<Napi::Array>();
  int64_t start = ArgInteger(info, 3, "start", 0, datas.Length());
  int64_t count = ArgInteger(info, 4, "count", 0, static_cast<int64_t>(datas.Length()) - start);
  if (start + count > addrs.Length()) ThrowRange(env, "addrs is shorter than start + count");
  if (count > kMaxBatch) count = kMaxBatch;
  if (count == 0) return Result(env, 0);
  // Every element first: a getter runs JS, which could detach a buffer already pointed at.
  napi_value dataValues[kMaxBatch];
  napi_value addrValues[kMaxBatch];
  for (int64_t i = 0; i < count; i++) {
    if (napi_get_element(env, datas, static_cast<uint32_t>(start + i), &dataValues[i]) != napi_ok ||
        napi_get_element(env, addrs, static_cast<uint32_t>(start + i), &addrValues[i]) != napi_ok)
      throw Napi::Error::New(env);
  }
  struct iovec iov[kMaxBatch];
  struct sockaddr_storage ss[kMaxBatch];
  socklen_t ssLen[kMaxBatch];
  for (int64_t i = 0; i < count; i++) {
    Bytes data = Uint8Element(env, dataValues[i], "datas", start + i);
    iov[i].iov_base = data.data;
    iov[i].iov_len = data.length;
    napi_valuetype t;
    napi_typeof(env, addrValues[i], &t);
    if (t == napi_null || t == napi_undefined) {
      ssLen[i] = 0;
      continue;
    }
    Bytes addr = Uint8Element(env, addrValues[i], "addrs", start + i);
    if (addr.length < sizeof(sa_family_t) + offsetof(struct sockaddr, sa_family) || addr.length > sizeof ss[i])
      ThrowRange(env, "addrs[" + std::to_string(start + i) + "] is not a sockaddr (" + std::to_string(addr.length) + " bytes)");
    memset(&ss[i], 0, sizeof ss[i]);
    memcpy(&ss[i], addr.data, addr.length);
    ssLen[i] = static_cast<socklen_t>(addr.length);
  }
#ifdef SELECTLOOP_HAVE_SENDMMSG
  struct mmsghdr msgs[kMaxBatch];
  memset(msgs, 0, sizeof(struct mmsghdr) * static_cast<size_t>(count));
  for (int64_t i = 0; i < count; i++) {
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = ssLen[i] > 0 ? &ss[i] : nullptr;
    msgs[i].msg_hdr.msg_namelen = ssLen[i];
  }
  int r;
  do r = sendmmsg(fd, msgs, static_cast<unsigned>(count), MSG_DONTWAIT | MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? ErrnoResult(env) : Result(env, r);
#else
  int64_t sent = 0;
  for (; sent < count; sent++) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov[sent];
    msg.msg_iovlen = 1;
    msg.msg_name = ssLen[sent] > 0 ? &ss[sent] : nullptr;
    msg.msg_namelen = ssLen[sent];
    ssize_t n;
    do n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (sent == 0) return ErrnoResult(env);
      break;
    }
  }
  return Result(env, sent);
#endif
}

// datagramAddress(names, slot, length) -> the JS address of names slot `slot` (`length` bytes).
Napi::Value DatagramAddress(const Napi::CallbackInfo& info) {
  Bytes names = ArgBytes(info, 0, "names");
  int64_t slot = ArgInteger(info, 1, "slot", 0, kMaxBatch);
  int64_t length = ArgInteger(info, 2, "length", 0, kNameSlot);
  if ((static_cast<size_t>(slot) + 1) * kNameSlot > names.length) ThrowRange(info.Env(), "slot is outside names");
  if (length == 0) return info.Env().Null();
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, names.data + static_cast<size_t>(slot) * kNameSlot, static_cast<size_t>(length));
  return AddressToJs(info.Env(), reinterpret_cast<struct sockaddr*>(&ss), static_cast<socklen_t>(length));
}

// datagramSockaddr(names, slot, length) -> a copy of that sockaddr, to send replies to it.
Napi::Value DatagramSockaddr(const Napi::CallbackInfo& info) {
  Bytes names = ArgBytes(info, 0, "names");
  int64_t slot = ArgInteger(info, 1, "slot", 0, kMaxBatch);
  int64_t length = ArgInteger(info, 2, "length", 1, kNameSlot);
  if ((static_cast<size_t>(slot) + 1) * kNameSlot > names.length) ThrowRange(info.Env(), "slot is outside names");
  return Napi::Buffer<uint8_t>::Copy(info.Env(), names.data + static_cast<size_t>(slot) * kNameSlot,
                                     static_cast<size_t>(length));
}

// setsockoptBytes(fd, level, option, value: bytes) -> 0 | -errno. For options whose value is a
// struct (IP_ADD_MEMBERSHIP's ip_mreq, IPV6_JOIN_GROUP's ipv6_mreq, SO_LINGER), as Python's
// setsockopt(level, option, bytes).
Napi::Value SetSockOptBytes(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int level = ArgInt(info, 1, "level");
  int name = ArgInt(info, 2, "option");
  Bytes value = ArgBytes(info, 3, "value");
  if (value.length > 1024) ThrowRange(info.Env(), "value is longer than 1024 bytes");
  return setsockopt(fd, level, name, value.data, static_cast<socklen_t>(value.length)) < 0
             ? ErrnoResult(info.Env())
             : Result(info.Env(), 0);
}

}  // namespace

void InitDatagrams(Napi::Env env, Napi::Object exports) {
  exports["recvDatagrams"] = Napi::Function::New(env, RecvDatagrams, "recvDatagrams");
  exports["sendDatagrams"] = Napi::Function::New(env, SendDatagrams, "sendDatagrams");
  exports["datagramAddress"] = Napi::Function::New(env, DatagramAddress, "datagramAddress");
  exports["datagramSockaddr"] = Napi::Function::New(env, DatagramSockaddr, "datagramSockaddr");
  exports["setsockoptBytes"] = Napi::Function::New(env, SetSockOptBytes, "setsockoptBytes");
  Napi::Object c = Napi::Object::New(env);
#define SELECTLOOP_CONST(name) c[#name] = static_cast<double>(name)
  SELECTLOOP_CONST(IP_ADD_MEMBERSHIP);
  SELECTLOOP_CONST(IP_DROP_MEMBERSHIP);
  SELECTLOOP_CONST(IP_MULTICAST_TTL);
  SELECTLOOP_CONST(IP_MULTICAST_LOOP);
  SELECTLOOP_CONST(IP_MULTICAST_IF);
  SELECTLOOP_CONST(IP_TTL);
  SELECTLOOP_CONST(IPV6_JOIN_GROUP);
  SELECTLOOP_CONST(IPV6_LEAVE_GROUP);
  SELECTLOOP_CONST(IPV6_MULTICAST_HOPS);
  SELECTLOOP_CONST(IPV6_MULTICAST_LOOP);
  SELECTLOOP_CONST(IPV6_MULTICAST_IF);
  SELECTLOOP_CONST(MSG_TRUNC);
#undef SELECTLOOP_CONST
  c["BATCH_MAX"] = kMaxBatch;
  c["NAME_SLOT"] = static_cast<double>(kNameSlot);
#ifdef SELECTLOOP_HAVE_RECVMMSG
  c["HAVE_RECVMMSG"] = 1;
#else
  c["HAVE_RECVMMSG"] = 0;
#endif
#ifdef SELECTLOOP_HAVE_SENDMMSG
  c["HAVE_SENDMMSG"] = 1;
#else
  c["HAVE_SENDMMSG"] = 0;
#endif
  exports["datagramConstants"] = c;
}

}  // namespace selectloop
