// LazyPerWorker<T, N>: one T per runtime worker, created on first use.
//
// Owns N slots; get(i, make) returns slot i's object, creating it with
// make() the first time (a CAS installs it, so a lost race only wastes one
// construction). Objects live until the table is destroyed. Slots are read
// without a lock; what a T does with its own state is the caller's business
// (typically: only Tasks on worker i touch slot i). Callers map worker ids
// onto [0, N) themselves (some share one slot for "not a worker").
#pragma once

#include <array>
#include <atomic>
#include <cstddef>

namespace switchyard {

template <class T, size_t N>
class LazyPerWorker {
 public:
  LazyPerWorker() = default;
  LazyPerWorker(const LazyPerWorker&) = delete;
  LazyPerWorker& operator=(const LazyPerWorker&) = delete;
  ~LazyPerWorker() {
    for (auto& slot : slots_) delete slot.load(std::memory_order_acquire);
  }

  static constexpr size_t size() { return N; }

  template <class Make>
  T& get(size_t index, Make&& make) {
    auto& slot = slots_[index % N];
    T* current = slot.load(std::memory_order_acquire);
    if (current == nullptr) {
      T* fresh = make();
      if (slot.compare_exchange_strong(current, fresh, std::memory_order_acq_rel)) {
        current = fresh;
      } else {
        delete fresh;
      }
    }
    return *current;
  }

  // Calls f(T&) on every created object.
  template <class F>
  void forEach(F&& f) {
    for (auto& slot : slots_) {
      if (T* t = slot.load(std::memory_order_acquire)) f(*t);
    }
  }

 private:
  std::array<std::atomic<T*>, N> slots_{};
};

}  // namespace switchyard
