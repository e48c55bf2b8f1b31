// Batched stream I/O for the Reactor (see batch_io.h): the pre-reads of a wait, and sendBatch,
// which sends what an iteration's writes queued, every fd in one crossing.
#include "batch_io.h"

#include <sys/socket.h>
#include <unistd.h>

namespace selectloop {

PreReads ArgPreReads(const Napi::CallbackInfo& info, size_t first, const void* other, size_t otherLength) {
  Napi::Env env = info.Env();
  TypedSpan marks = ArgTypedArray(info, first, "marks", napi_uint8_array, "a Uint8Array");
  TypedSpan offsets = ArgTypedArray(info, first + 1, "offsets", napi_int32_array, "an Int32Array");
  TypedSpan results = ArgTypedArray(info, first + 2, "results", napi_int32_array, "an Int32Array");
  Bytes slab = ArgBytes(info, first + 3, "slab");
  TypedSpan cursor = ArgTypedArray(info, first + 4, "cursor", napi_int32_array, "an Int32Array");
  int64_t minRoom = ArgInteger(info, first + 5, "minRoom", 1, INT32_MAX);
  if (offsets.count < marks.count || results.count < marks.count)
    ThrowRange(env, "offsets and results must hold at least marks.length elements");
  if (slab.length > static_cast<size_t>(INT32_MAX)) ThrowRange(env, "slab must be at most 2^31 - 1 bytes");
  if (cursor.count < 3) ThrowRange(env, "cursor must hold at least 3 elements");
  auto* cursorData = static_cast<int32_t*>(cursor.data);
  if (cursorData[0] < 0 || static_cast<size_t>(cursorData[0]) > slab.length)
    ThrowRange(env, "cursor[0] must be within the slab");
  const struct {
    const void* data;
    size_t length;
  } regions[] = {
      {other, otherLength},
      {marks.data, marks.count},
      {offsets.data, offsets.count * 4},
      {results.data, results.count * 4},
      {slab.data, slab.length},
      {cursor.data, 12},
  };
  constexpr size_t kRegions = sizeof regions / sizeof regions[0];
  for (size_t a = 0; a < kRegions; a++)
    for (size_t b = a + 1; b < kRegions; b++)
      if (Overlaps(regions[a].data, regions[a].length, regions[b].data, regions[b].length))
        ThrowRange(env, "the wait's arrays and the slab must not share memory");
  if (cursorData[2] < 1) ThrowRange(env, "cursor[2] (the large read size) must be >= 1");
  cursorData[1] = 0;
  return {static_cast<const uint8_t*>(marks.data), marks.count, static_cast<int32_t*>(offsets.data),
          static_cast<int32_t*>(results.data), slab.data, slab.length, cursorData,
          static_cast<size_t>(minRoom), static_cast<size_t>(cursorData[2]), false};
}

void PreRead(PreReads& p, int fd, bool readable) {
  if (!readable || fd < 0 || static_cast<size_t>(fd) >= p.markCount) return;
  uint8_t mark = p.marks[fd];
  if (mark == 0 || p.results[fd] != kNotRead) return;  // not wanted, or an earlier read is unclaimed
  size_t at = static_cast<size_t>(*p.cursor);
  size_t room = p.slabLength - at;
  // Out of room, or after a large read: left to the caller, which reads it itself.
  if (room < p.minRoom || p.stopped) return;
  ssize_t n;
  do {
    n = mark == 1 ? recv(fd, p.slab + at, room, MSG_DONTWAIT) : read(fd, p.slab + at, room);
  } while (n < 0 && errno == EINTR);
  p.offsets[fd] = static_cast<int32_t>(at);
  p.results[fd] = n < 0 ? -errno : static_cast<int32_t>(n);
  p.cursor[1]++;
  if (n > 0) {
    if (static_cast<size_t>(n) >= p.largeRead) p.stopped = true;
    size_t next = (at + static_cast<size_t>(n) + 7) & ~static_cast<size_t>(7);
    *p.cursor = static_cast<int32_t>(next < p.slabLength ? next : p.slabLength);
  }
}

namespace {

constexpr size_t kEntryInt32s = 5;  // fd, source, offset, length, result

// sendBatch(entries: Int32Array, count, staging, slab) -> count
// Entry i is entries[5i .. 5i + 5) = (fd, source, offset, length, result): sends bytes [offset,
// offset + length) of staging (source 0) or slab (source 1) on socket fd (MSG_NOSIGNAL |
// MSG_DONTWAIT) and stores the bytes sent or -errno as its result. fd -1 skips the entry. Every
// entry is checked before anything is sent.
Napi::Value SendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TypedSpan entries = ArgTypedArray(info, 0, "entries", napi_int32_array, "an Int32Array");
  int64_t count = ArgInteger(info, 1, "count", 0, static_cast<int64_t>(entries.count / kEntryInt32s));
  const Bytes sources[2] = {ArgBytes(info, 2, "staging"), ArgBytes(info, 3, "slab")};
  auto* e = static_cast<int32_t*>(entries.data);
  for (int64_t i = 0; i < count; i++) {
    const int32_t* entry = e + i * kEntryInt32s;
    if (entry[0] < -1) ThrowRange(env, "entry " + std::to_string(i) + ": fd must be >= -1");
    if (entry[1] != 0 && entry[1] != 1) ThrowRange(env, "entry " + std::to_string(i) + ": source must be 0 or 1");
    const Bytes& source = sources[entry[1]];
    if (entry[2] < 0 || entry[3] < 0 ||
        static_cast<size_t>(entry[2]) + static_cast<size_t>(entry[3]) > source.length)
      ThrowRange(env, "entry " + std::to_string(i) + ": offset + length must lie within its source");
  }
  for (int64_t i = 0; i < count; i++) {
    int32_t* entry = e + i * kEntryInt32s;
    int fd = entry[0];
    if (fd < 0) continue;
    const uint8_t* data = sources[entry[1]].data + entry[2];
    size_t length = static_cast<size_t>(entry[3]);
    ssize_t n;
    do n = send(fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
    entry[4] = n < 0 ? -errno : static_cast<int32_t>(n);
  }
  return Result(env, count);
}

}  // namespace

void InitBatchIo(Napi::Env env, Napi::Object exports) {
  exports["sendBatch"] = Napi::Function::New(env, SendBatch, "sendBatch");
  exports["NOT_READ"] = static_cast<double>(kNotRead);
}

}  // namespace selectloop
