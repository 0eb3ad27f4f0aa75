// Timers: per-P 4-ary min-heaps of intrusive Timer nodes.
//
// Owns: ordering of timers by deadline on one P. A Timer is embedded in its
// owner (a Task, a socket deadline), so arming one allocates nothing. The
// heap has its own small lock because other Ms touch it: a stopping waiter
// removes its timer from whichever P armed it, idle Ms run expired timers of
// idle Ps (Go's stealWork last pass), and resizing moves timers off dead Ps.
//
// Why 4-ary: as in Go's runtime/time.go, a shallower heap with siblings in
// one cache line beats a binary heap for sift-down heavy use.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace rt::internal {

struct Processor;
class TimerHeap;

struct Timer {
  using Fn = void (*)(Timer* t, void* arg, uint64_t seq);
  int64_t when = 0;      // CLOCK_MONOTONIC nanoseconds
  Fn fn = nullptr;
  void* arg = nullptr;
  uint64_t seq = 0;      // passed to fn; lets fn detect a stale firing
  // Heap bookkeeping, guarded by the owning heap's lock.
  std::atomic<TimerHeap*> heap{nullptr};
  int32_t index = -1;
};

class TimerHeap {
 public:
  static constexpr int64_t kNever = INT64_MAX;
  // Slots reserved up front, so that arming a timer does not allocate until a P has
  // had this many armed at once (an idle keep-alive connection holds one, each
  // deadline-bounded wait one): the proxy's request path stays allocation-free
  // (tests/integration/request_path_alloc_test).
  static constexpr size_t kInitialCapacity = 1024;

  TimerHeap() { heap_.reserve(kInitialCapacity); }

  // Arms `t` (must not be armed). Returns true if it became the earliest.
  bool add(Timer* t);
  // Disarms `t` if it is still in this heap. False if it already fired or
  // is being fired.
  bool remove(Timer* t);
  // Pops and runs every timer due at `now`. Runs fn without the lock held.
  // Returns the number run.
  int runExpired(int64_t now);
  // Earliest deadline, or kNever. Lock-free read for idle Ms.
  int64_t nextWhen() const { return next_when_.load(std::memory_order_acquire); }
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Moves every timer into `dst` (resizing away a P).
  void moveAllTo(TimerHeap& dst);

 private:
  void siftUp(size_t i);
  void siftDown(size_t i);
  void removeAt(size_t i);
  void publishNext();

  std::mutex mu_;
  std::vector<Timer*> heap_;
  std::atomic<int64_t> next_when_{kNever};
  std::atomic<size_t> size_{0};
};

// Removes `t` from whatever heap it is armed in. False if it was not armed
// (already fired, or never armed).
bool timerStop(Timer* t);

}  // namespace rt::internal
