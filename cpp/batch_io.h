// Batched stream I/O for the Reactor: reads done inside the wait (pre-reads) and one crossing for
// every send an iteration queued. Nothing here allocates; every array is the caller's.
#pragma once

#include <cstdint>

#include "common.h"

namespace selectloop {

// Where a pre-read leaves its result: results[fd] = bytes read, 0 at EOF, -errno, or kNotRead.
constexpr int32_t kNotRead = INT32_MIN;

// The pre-read arguments of a wait: marks (Uint8Array indexed by fd: 0 = not pre-read,
// 1 = a socket, read with recv(MSG_DONTWAIT), 2 = anything else, read with read()), offsets and
// results (Int32Arrays indexed by fd, at least as long as marks), the slab the reads go into,
// cursor (Int32Array: [0] = where the next read goes, advanced past each one, 8-byte aligned;
// [1] = set to the number of fds read; [2] = a large read: after one of at least that many bytes
// the remaining fds are left unread, so that large data is used while still in cache) and
// minRoom (a read is only done with at least that much slab room, or the fd is left unread).
struct PreReads {
  const uint8_t* marks;
  size_t markCount;
  int32_t* offsets;
  int32_t* results;
  uint8_t* slab;
  size_t slabLength;
  int32_t* cursor;
  size_t minRoom;
  size_t largeRead;
  bool stopped;  // a large read was done: no more reads this wait
};

// Reads args [first, first + 6): marks, offsets, results, slab, cursor, minRoom. `other` (the
// wait's own output array) must not share memory with any of them, nor they with one another:
// a read into the slab must never rewrite an fd number or a mark still to be used.
PreReads ArgPreReads(const Napi::CallbackInfo& info, size_t first, const void* other, size_t otherLength);

// Reads fd into the slab if it is marked, `readable` and not read yet this round.
void PreRead(PreReads& p, int fd, bool readable);

}  // namespace selectloop
