// The per-fd readiness state machine shared by every poller backend.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "runtime/netpoll/poll_desc.h"
#include "runtime/netpoll/poller.h"
#include "runtime/runtime.h"
#include "runtime/scheduler.h"
#include "runtime/scheduler_state.h"

namespace rt::internal {
namespace {

// Descriptor table: fixed chunks that are never moved or freed, so the
// poller can turn an event cookie into a descriptor without a lock.
constexpr uint32_t kChunkBits = 10;
constexpr uint32_t kChunkSize = 1u << kChunkBits;
constexpr uint32_t kMaxChunks = 4096;  // 4M descriptors

struct DescTable {
  std::atomic<PollDesc*> chunks[kMaxChunks] = {};
  std::mutex mu;
  PollDesc* free_list = nullptr;  // guarded by mu
  uint32_t used = 0;              // slots handed out so far, guarded by mu

  ~DescTable() {
    for (auto& c : chunks) delete[] c.load(std::memory_order_relaxed);
  }

  PollDesc* take() {
    std::lock_guard<std::mutex> l(mu);
    if (free_list != nullptr) {
      PollDesc* pd = free_list;
      free_list = pd->free_link;
      return pd;
    }
    if (used == kMaxChunks * kChunkSize) return nullptr;
    uint32_t idx = used++;
    uint32_t c = idx >> kChunkBits;
    PollDesc* chunk = chunks[c].load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = new PollDesc[kChunkSize];
      for (uint32_t i = 0; i < kChunkSize; i++) chunk[i].index = (c << kChunkBits) | i;
      chunks[c].store(chunk, std::memory_order_release);
    }
    return &chunk[idx & (kChunkSize - 1)];
  }

  void give(PollDesc* pd) {
    std::lock_guard<std::mutex> l(mu);
    pd->free_link = free_list;
    free_list = pd;
  }
};

DescTable& table() {
  static DescTable* t = new DescTable();  // outlives every runtime
  return *t;
}

std::atomic<int> g_batch{512};

std::atomic<uintptr_t>& word(PollDesc* pd, IoMode mode) {
  return mode == IoMode::kRead ? pd->rg : pd->wg;
}
std::atomic<uint64_t>& ticketOf(PollDesc* pd, IoMode mode) {
  return mode == IoMode::kRead ? pd->r_ticket : pd->w_ticket;
}

// The hook's Task, not yet counted nor runnable: the poller's path (edge)
// counts it and queues it itself; the arming path hands it to startTask,
// which does both.
Task* makeHookTask(PollDesc* pd) {
  void (*fn)(void*) = pd->hook_fn;
  void* arg = pd->hook_arg;
  Task* t = rt::detail::allocTask();
  t->setEntry([fn, arg] { fn(arg); });
  return t;
}

// One edge on one direction.
void edge(PollDesc* pd, IoMode mode, TaskQueue& ready) {
  auto& w = word(pd, mode);
  for (int attempt = 0; attempt < 1000; attempt++) {
    uintptr_t v = w.load(std::memory_order_acquire);
    if (v == PollDesc::kReady) return;
    if (v == 0) {
      if (w.compare_exchange_weak(v, PollDesc::kReady, std::memory_order_acq_rel)) return;
      continue;
    }
    if (v == PollDesc::kHook) {
      if (w.compare_exchange_weak(v, 0, std::memory_order_acq_rel)) {
        sched->poller.addWaiters(-1);
        Task* t = makeHookTask(pd);
        sched->tasks_spawned.fetch_add(1, std::memory_order_relaxed);
        markRunnable(t);
        ready.pushBack(t);
        return;
      }
      continue;
    }
    auto* t = reinterpret_cast<Task*>(v);
    if (!w.compare_exchange_weak(v, 0, std::memory_order_acq_rel)) continue;
    if (claimWake(t, ticketOf(pd, mode).load(std::memory_order_acquire))) {
      if (markRunnable(t)) ready.pushBack(t);
    } else {
      // Its deadline won the race: keep the edge for the next wait.
      uintptr_t zero = 0;
      w.compare_exchange_strong(zero, PollDesc::kReady, std::memory_order_acq_rel);
    }
    return;
  }
}

struct WaitArgs {
  std::atomic<uintptr_t>* word;
  bool registered;
};

bool waitCommit(Task* t, void* raw) {
  auto* a = static_cast<WaitArgs*>(raw);
  uintptr_t expected = 0;
  if (!a->word->compare_exchange_strong(expected, reinterpret_cast<uintptr_t>(t),
                                        std::memory_order_acq_rel)) {
    return false;  // an edge arrived meanwhile: run again at once
  }
  a->registered = true;
  sched->poller.addWaiters(1);
  return true;
}

}  // namespace

uint64_t pollCookie(const PollDesc* pd) {
  return (static_cast<uint64_t>(pd->generation.load(std::memory_order_relaxed)) << 32) |
         pd->index;
}

PollDesc* pollFromCookie(uint64_t cookie) {
  const uint32_t idx = static_cast<uint32_t>(cookie);
  const uint32_t gen = static_cast<uint32_t>(cookie >> 32);
  if ((idx >> kChunkBits) >= kMaxChunks) return nullptr;
  PollDesc* chunk = table().chunks[idx >> kChunkBits].load(std::memory_order_acquire);
  if (chunk == nullptr) return nullptr;
  PollDesc* pd = &chunk[idx & (kChunkSize - 1)];
  if (pd->generation.load(std::memory_order_acquire) != gen) return nullptr;
  return pd;
}

void pollReady(PollDesc* pd, bool readable, bool writable, TaskQueue& ready) {
  if (readable) edge(pd, IoMode::kRead, ready);
  if (writable) edge(pd, IoMode::kWrite, ready);
}

PollDesc* pollOpen(int fd, std::error_code& ec) {
  PollDesc* pd = table().take();
  if (pd == nullptr) {
    ec = std::make_error_code(std::errc::too_many_files_open);
    return nullptr;
  }
  pd->fd = fd;
  pd->closing.store(false, std::memory_order_relaxed);
  pd->read_hangup.store(false, std::memory_order_relaxed);
  pd->rg.store(0, std::memory_order_relaxed);
  pd->wg.store(0, std::memory_order_relaxed);
  pd->hook_fn = nullptr;
  pd->hook_arg = nullptr;
  ec = sched->poller.add(pd);
  if (ec) {
    table().give(pd);
    return nullptr;
  }
  return pd;
}

void pollClose(PollDesc* pd) {
  pollDisarmOnReadable(pd);
  sched->poller.remove(pd);
  // Events already taken for this fd now find a different generation.
  pd->generation.fetch_add(1, std::memory_order_acq_rel);
  pd->fd = -1;
  table().give(pd);
}

std::error_code pollWait(PollDesc* pd, IoMode mode, int64_t deadline_ns) {
  auto& w = word(pd, mode);
  Task* t = currentTask();
  for (;;) {
    if (pd->closing.load(std::memory_order_acquire)) {
      return std::make_error_code(std::errc::operation_canceled);
    }
    uintptr_t v = w.load(std::memory_order_acquire);
    if (v == PollDesc::kReady &&
        w.compare_exchange_strong(v, 0, std::memory_order_acq_rel)) {
      return {};
    }
    if (v != 0 && v != PollDesc::kReady) {
      std::fprintf(stderr, "switchyard runtime: fatal: two tasks wait on fd %d\n", pd->fd);
      std::abort();
    }
    if (deadline_ns != INT64_MAX && deadline_ns <= roundNanotime()) {
      return std::make_error_code(std::errc::timed_out);
    }
    const uint64_t ticket = armWake(t);
    ticketOf(pd, mode).store(ticket, std::memory_order_release);
    WaitArgs args{&w, false};
    const bool woken = parkUntil(deadline_ns, ticket, waitCommit, &args, WaitReason::kIoWait);
    if (!args.registered) continue;  // an edge raced our park: look again
    sched->poller.addWaiters(-1);
    // Deregister unless the poller (or an evict) already took us off.
    uintptr_t me = reinterpret_cast<uintptr_t>(t);
    w.compare_exchange_strong(me, 0, std::memory_order_acq_rel);
    if (pd->closing.load(std::memory_order_acquire)) {
      return std::make_error_code(std::errc::operation_canceled);
    }
    if (!woken) return std::make_error_code(std::errc::timed_out);
    return {};
  }
}

void pollArmOnReadable(PollDesc* pd, void (*fn)(void* arg), void* arg) {
  pd->hook_fn = fn;
  pd->hook_arg = arg;
  for (int attempt = 0; attempt < 1000; attempt++) {
    uintptr_t v = pd->rg.load(std::memory_order_acquire);
    if (v == PollDesc::kReady) {
      // An edge is already pending: start the Task now.
      if (pd->rg.compare_exchange_weak(v, 0, std::memory_order_acq_rel)) {
        rt::detail::startTask(makeHookTask(pd));
        return;
      }
      continue;
    }
    if (v != 0) {
      std::fprintf(stderr, "switchyard runtime: fatal: arming a busy fd %d\n", pd->fd);
      std::abort();
    }
    if (pd->rg.compare_exchange_weak(v, PollDesc::kHook, std::memory_order_acq_rel)) {
      sched->poller.addWaiters(1);
      return;
    }
  }
}

bool pollDisarmOnReadable(PollDesc* pd) {
  uintptr_t v = PollDesc::kHook;
  if (pd->rg.compare_exchange_strong(v, 0, std::memory_order_acq_rel)) {
    sched->poller.addWaiters(-1);
    return true;
  }
  return false;
}

void pollEvict(PollDesc* pd) {
  pd->closing.store(true, std::memory_order_release);
  pollDisarmOnReadable(pd);
  for (IoMode mode : {IoMode::kRead, IoMode::kWrite}) {
    auto& w = word(pd, mode);
    uintptr_t v = w.load(std::memory_order_acquire);
    if (v == 0 || v == PollDesc::kReady || v == PollDesc::kHook) continue;
    if (w.compare_exchange_strong(v, 0, std::memory_order_acq_rel)) {
      tryWake(reinterpret_cast<Task*>(v), ticketOf(pd, mode).load(std::memory_order_acquire));
    }
  }
}

void setNetpollBatch(int n) { g_batch.store(n < 1 ? 1 : n, std::memory_order_relaxed); }
int netpollBatch() { return g_batch.load(std::memory_order_relaxed); }

}  // namespace rt::internal
