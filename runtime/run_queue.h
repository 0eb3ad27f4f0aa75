// LocalRunQueue: a P's 256-slot run queue plus `runnext`.
//
// Single producer (the owning P), multiple consumers (the owner and thieves),
// lock-free, after Go's runq/runqput/runqget/runqgrab:
//  - only the owner writes `tail_` and the slots between tail and head;
//  - anyone consumes by CAS on `head_`;
//  - slots are atomics so a thief reading a slot the owner is reusing is a
//    benign race the CAS then rejects, not undefined behaviour.
// `runnext` holds the Task most recently made ready by the running Task
// (spawn, channel hand-off). It runs next and inherits the time slice, which
// keeps producer/consumer pairs on one P; only the owner sets it, thieves may
// only take it.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/task.h"

namespace rt::internal {

class LocalRunQueue {
 public:
  static constexpr uint32_t kSize = 256;

  // Owner only. Appends `t` (or, with next=true, puts it in runnext and
  // moves the previous runnext to the tail). When the ring is full, half of
  // it plus the new Task are moved to `overflow` (the caller puts that batch
  // on the global queue) and true is returned.
  bool put(Task* t, bool next, TaskQueue& overflow);

  // Owner only. Takes runnext first (inherit_time=true), then the head.
  Task* get(bool& inherit_time);

  // Thief side: moves about half of `victim`'s Tasks into this queue (which
  // the caller owns and which must be empty) and returns one of them to run.
  // With steal_runnext, may take the victim's runnext when its ring is empty;
  // `victim_running` makes it first back off for ~3us, as Go does, so a
  // producer/consumer pair on the victim is not split needlessly.
  Task* stealFrom(LocalRunQueue& victim, bool steal_runnext, bool victim_running);

  // Owner only: removes everything (procresize, shutdown).
  void drainTo(TaskQueue& out);

  uint32_t size() const {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t t = tail_.load(std::memory_order_acquire);
    return t - h + (runnext_.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
  }
  bool empty() const {
    // Go's runqempty: re-read until head/tail/runnext form a consistent view.
    for (int i = 0; i < 100; i++) {
      uint32_t h = head_.load(std::memory_order_acquire);
      uint32_t t = tail_.load(std::memory_order_acquire);
      Task* n = runnext_.load(std::memory_order_acquire);
      if (tail_.load(std::memory_order_acquire) == t) return h == t && n == nullptr;
    }
    return false;
  }

 private:
  bool putSlow(Task* t, uint32_t h, uint32_t tail, TaskQueue& overflow);
  // Copies up to half of this queue into dst's ring starting at dst_tail;
  // returns the count.
  uint32_t grab(LocalRunQueue& dst, uint32_t dst_tail, bool steal_runnext,
                bool victim_running);

  alignas(64) std::atomic<uint32_t> head_{0};
  alignas(64) std::atomic<uint32_t> tail_{0};
  std::atomic<Task*> runnext_{nullptr};
  std::atomic<Task*> slots_[kSize] = {};
};

}  // namespace rt::internal
