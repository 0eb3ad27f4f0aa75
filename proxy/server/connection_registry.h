// ConnectionRegistry: the set of open client connections, for draining and
// counting them.
//
// Owns only the links and the counts, not the connections. Sharded: a
// connection joins the shard of the worker that opened it and leaves that
// same shard (remembered in its link), so connections opened and closed on
// different workers take different locks. One mutex for all would be taken
// twice per connection by every worker, which a burst of short-lived
// connections turns into a global serialisation point. Walking the set
// (drain) and counting it (metrics) are rare and visit every shard.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace switchyard::server {

// Embedded in each member (intrusive: joining allocates nothing).
struct RegistryLink {
  RegistryLink* prev = nullptr;
  RegistryLink* next = nullptr;
  uint32_t shard = 0;
};

class ConnectionRegistry {
 public:
  static constexpr size_t kShards = 16;

  // `worker`: the caller's rt::current_worker() (-1 outside a worker).
  void add(RegistryLink* link, int worker) {
    link->shard = worker < 0 ? 0 : static_cast<uint32_t>(worker) % kShards;
    Shard& s = shards_[link->shard];
    std::lock_guard<std::mutex> lock(s.mu);
    link->prev = nullptr;
    link->next = s.head;
    if (s.head != nullptr) s.head->prev = link;
    s.head = link;
    s.count.store(s.count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  void remove(RegistryLink* link) {
    Shard& s = shards_[link->shard];
    std::lock_guard<std::mutex> lock(s.mu);
    if (link->prev != nullptr) {
      link->prev->next = link->next;
    } else {
      s.head = link->next;
    }
    if (link->next != nullptr) link->next->prev = link->prev;
    link->prev = link->next = nullptr;
    s.count.store(s.count.load(std::memory_order_relaxed) - 1, std::memory_order_release);
  }

  // Members now; exact only while nobody joins or leaves.
  int64_t size() const {
    int64_t n = 0;
    for (const Shard& s : shards_) n += s.count.load(std::memory_order_acquire);
    return n;
  }

  // f(link) for every member, one shard at a time under that shard's lock:
  // f must not add or remove (collect what to act on, act afterwards).
  template <class F>
  void forEach(F&& f) {
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      for (RegistryLink* l = s.head; l != nullptr; l = l->next) f(l);
    }
  }

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    RegistryLink* head = nullptr;
    std::atomic<int64_t> count{0};  // written under mu, read without it
  };
  Shard shards_[kShards];
};

}  // namespace switchyard::server
