#include "runtime/run_queue.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace rt::internal {

bool LocalRunQueue::put(Task* t, bool next, TaskQueue& overflow) {
  if (next) {
    Task* old = runnext_.load(std::memory_order_relaxed);
    while (!runnext_.compare_exchange_weak(old, t, std::memory_order_acq_rel)) {
    }
    if (old == nullptr) return false;
    t = old;  // the kicked-out runnext goes to the tail
  }
  for (;;) {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - h < kSize) {
      slots_[tail % kSize].store(t, std::memory_order_relaxed);
      tail_.store(tail + 1, std::memory_order_release);
      return false;
    }
    if (putSlow(t, h, tail, overflow)) return true;
    // A thief took some; the ring has room now.
  }
}

bool LocalRunQueue::putSlow(Task* t, uint32_t h, uint32_t tail, TaskQueue& overflow) {
  constexpr uint32_t kHalf = kSize / 2;
  if (tail - h != kSize) {
    std::fprintf(stderr, "switchyard runtime: run queue is not full in putSlow\n");
    std::abort();
  }
  Task* batch[kHalf + 1];
  for (uint32_t i = 0; i < kHalf; i++) {
    batch[i] = slots_[(h + i) % kSize].load(std::memory_order_relaxed);
  }
  if (!head_.compare_exchange_strong(h, h + kHalf, std::memory_order_acq_rel)) return false;
  batch[kHalf] = t;
  for (uint32_t i = 0; i <= kHalf; i++) overflow.pushBack(batch[i]);
  return true;
}

Task* LocalRunQueue::get(bool& inherit_time) {
  Task* next = runnext_.load(std::memory_order_relaxed);
  // Only the owner sets runnext, so a failed CAS means a thief took it.
  if (next != nullptr &&
      runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
    inherit_time = true;
    return next;
  }
  inherit_time = false;
  for (;;) {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == h) return nullptr;
    Task* t = slots_[h % kSize].load(std::memory_order_relaxed);
    if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel)) return t;
  }
}

uint32_t LocalRunQueue::grab(LocalRunQueue& dst, uint32_t dst_tail, bool steal_runnext,
                             bool victim_running) {
  for (int attempt = 0; attempt < 1000; attempt++) {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t tail = tail_.load(std::memory_order_acquire);
    uint32_t n = tail - h;
    n = n - n / 2;
    if (n == 0) {
      if (!steal_runnext) return 0;
      Task* next = runnext_.load(std::memory_order_acquire);
      if (next == nullptr) return 0;
      if (victim_running) {
        // The victim is likely about to run it (a chan send/recv wake-up
        // takes tens of ns); 3us is a ~50x margin, as in Go's runqgrab.
        usleep(3);
      }
      if (!runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
        continue;
      }
      dst.slots_[dst_tail % kSize].store(next, std::memory_order_relaxed);
      return 1;
    }
    if (n > kSize / 2) continue;  // inconsistent head/tail pair; re-read
    for (uint32_t i = 0; i < n; i++) {
      Task* t = slots_[(h + i) % kSize].load(std::memory_order_relaxed);
      dst.slots_[(dst_tail + i) % kSize].store(t, std::memory_order_relaxed);
    }
    if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return n;
  }
  return 0;
}

Task* LocalRunQueue::stealFrom(LocalRunQueue& victim, bool steal_runnext, bool victim_running) {
  uint32_t tail = tail_.load(std::memory_order_relaxed);
  uint32_t n = victim.grab(*this, tail, steal_runnext, victim_running);
  if (n == 0) return nullptr;
  n--;
  Task* t = slots_[(tail + n) % kSize].load(std::memory_order_relaxed);
  if (n == 0) return t;
  tail_.store(tail + n, std::memory_order_release);
  return t;
}

void LocalRunQueue::drainTo(TaskQueue& out) {
  Task* next = runnext_.exchange(nullptr, std::memory_order_acq_rel);
  if (next != nullptr) out.pushBack(next);
  bool inherit = false;
  while (Task* t = get(inherit)) out.pushBack(t);
}

}  // namespace rt::internal
