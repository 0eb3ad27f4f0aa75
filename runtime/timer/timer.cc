#include "runtime/timer/timer.h"

#include <cassert>

namespace rt::internal {
namespace {
constexpr size_t kArity = 4;
}

void TimerHeap::publishNext() {
  next_when_.store(heap_.empty() ? kNever : heap_[0]->when, std::memory_order_release);
  size_.store(heap_.size(), std::memory_order_relaxed);
}

void TimerHeap::siftUp(size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    size_t parent = (i - 1) / kArity;
    if (heap_[parent]->when <= t->when) break;
    heap_[i] = heap_[parent];
    heap_[i]->index = static_cast<int32_t>(i);
    i = parent;
  }
  heap_[i] = t;
  t->index = static_cast<int32_t>(i);
}

void TimerHeap::siftDown(size_t i) {
  Timer* t = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t first = i * kArity + 1;
    if (first >= n) break;
    size_t best = first;
    size_t last = first + kArity < n ? first + kArity : n;
    for (size_t c = first + 1; c < last; c++) {
      if (heap_[c]->when < heap_[best]->when) best = c;
    }
    if (heap_[best]->when >= t->when) break;
    heap_[i] = heap_[best];
    heap_[i]->index = static_cast<int32_t>(i);
    i = best;
  }
  heap_[i] = t;
  t->index = static_cast<int32_t>(i);
}

void TimerHeap::removeAt(size_t i) {
  Timer* t = heap_[i];
  Timer* last = heap_.back();
  heap_.pop_back();
  t->index = -1;
  t->heap.store(nullptr, std::memory_order_relaxed);
  if (i < heap_.size()) {
    heap_[i] = last;
    last->index = static_cast<int32_t>(i);
    siftDown(i);
    siftUp(static_cast<size_t>(last->index));
  }
}

bool TimerHeap::add(Timer* t) {
  std::lock_guard<std::mutex> lock(mu_);
  assert(t->index < 0);
  t->heap.store(this, std::memory_order_relaxed);
  heap_.push_back(t);
  siftUp(heap_.size() - 1);
  publishNext();
  return heap_[0] == t;
}

bool TimerHeap::remove(Timer* t) {
  std::lock_guard<std::mutex> lock(mu_);
  if (t->heap.load(std::memory_order_relaxed) != this || t->index < 0) return false;
  removeAt(static_cast<size_t>(t->index));
  publishNext();
  return true;
}

int TimerHeap::runExpired(int64_t now) {
  if (nextWhen() > now) return 0;
  int ran = 0;
  for (;;) {
    Timer* t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (heap_.empty() || heap_[0]->when > now) {
        publishNext();
        return ran;
      }
      t = heap_[0];
      removeAt(0);
      publishNext();
    }
    // Copy what fn needs: once fn runs, the timer's owner may re-arm it.
    Timer::Fn fn = t->fn;
    void* arg = t->arg;
    uint64_t seq = t->seq;
    fn(t, arg, seq);
    ran++;
  }
}

void TimerHeap::moveAllTo(TimerHeap& dst) {
  if (&dst == this) return;
  // Both locks at once (std::scoped_lock orders them), so a concurrent
  // timerStop() sees the timer in exactly one heap at every instant.
  std::scoped_lock lock(mu_, dst.mu_);
  for (Timer* t : heap_) {
    t->heap.store(&dst, std::memory_order_relaxed);
    dst.heap_.push_back(t);
    dst.siftUp(dst.heap_.size() - 1);
  }
  heap_.clear();
  publishNext();
  dst.publishNext();
}

bool timerStop(Timer* t) {
  for (int attempt = 0; attempt < 1000; attempt++) {
    TimerHeap* h = t->heap.load(std::memory_order_acquire);
    if (h == nullptr) return false;
    if (h->remove(t)) return true;
    // Moved between heaps while we looked; retry on the new one.
    if (t->heap.load(std::memory_order_acquire) == nullptr) return false;
  }
  return false;
}

}  // namespace rt::internal
