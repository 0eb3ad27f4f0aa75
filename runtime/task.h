// Task: the G of Go's G/M/P model.
//
// A Task is a stackful coroutine: its own stack (from StackAllocator) and a
// saved context. Task structs are never freed while the runtime runs (as Go
// keeps its Gs): dead ones are recycled through per-P free lists, so a stale
// pointer held by a timer or a wait queue always points at a valid Task, and
// `wake_seq` tells whether the wait it was armed for is still current.
//
// Ownership by state (who may touch a Task's fields):
//   kRunnable  - whoever holds the queue it sits in (a P's run queue, the
//                global queue under sched.lock).
//   kRunning   - the M running it (Machine::curg).
//   kSyscall   - the M running it; the P it left may be taken by sysmon.
//   kParking   - the M that parks it: its park commit is running. A waker
//                that comes now (the commit already published the Task)
//                only marks it kWokenWhileParking; the parking M enqueues
//                it once the commit has returned, so nothing the commit
//                writes can race with the Task resuming on another M.
//   kWaiting   - nobody; exactly one waker moves it back to kRunnable, chosen
//                by the wait's own lock or by a CAS on wake_seq.
//   kDead      - the P whose free list holds it.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "runtime/context/context.h"
#include "runtime/internal/stack.h"
#include "runtime/timer/timer.h"

namespace rt::internal {

struct Machine;

// Numbered as Go's _G* constants so schedtrace output reads the same.
enum class TaskState : uint8_t {
  kIdle = 0,
  kRunnable = 1,
  kRunning = 2,
  kSyscall = 3,
  kWaiting = 4,
  kDead = 6,
  kParking = 8,            // not Go's; shown as 4 (waiting) in traces
  kWokenWhileParking = 9,  // not Go's; shown as 1 (runnable) in traces
};

enum class WaitReason : uint8_t {
  kNone,
  kSleep,
  kChanSend,
  kChanReceive,
  kMutex,
  kCondVar,
  kWaitGroup,
  kIoWait,
  kLockedThread,
  kPreempted,
};
const char* waitReasonName(WaitReason r);

struct Task {
  // Closures up to this size live inside the Task: spawning a typical
  // lambda allocates nothing.
  static constexpr size_t kInlineClosureBytes = 64;

  context::Context ctx;
  Stack stack;  // empty until the Task first runs (unstarted Tasks cost no stack)
  uint64_t id = 0;
  std::atomic<TaskState> state{TaskState::kIdle};
  std::atomic<WaitReason> wait_reason{WaitReason::kNone};
  Task* sched_link = nullptr;  // global run queue and free lists
  std::atomic<Machine*> m{nullptr};         // M running it, for traces
  std::atomic<Machine*> locked_m{nullptr};  // lock_os_thread
  uint32_t lock_count = 0;
  std::atomic<bool> preempt{false};
  // Incremented each time the Task arms a wake-up that may race (a timeout
  // against a notify). A waker claims the wake-up by CAS from the value it
  // was given; losers do nothing.
  std::atomic<uint64_t> wake_seq{0};
  uint64_t timed_out_seq = 0;   // set when the timer claimed wake_seq
  Timer sleep_timer;            // the Task's own timer (sleep, timed waits)
  // Scheduling latency (runnable -> running). Sampled 1 in 8 transitions
  // for the histogram, as Go's gTrackingPeriod; every transition when the
  // Task asked for its own total (rt::track_sched_delay).
  int64_t runnable_since_ns = 0;
  uint8_t track_seq = 0;
  bool track_all = false;
  int64_t sched_delay_ns = 0;  // accumulated while track_all
  bool started = false;         // context prepared on a stack

  // Entry closure.
  void (*invoke)(void* closure) = nullptr;
  void (*destroy)(void* closure) = nullptr;
  void* closure = nullptr;
  alignas(16) unsigned char closure_buf[kInlineClosureBytes];

  template <class F>
  void setEntry(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (sizeof(Fn) <= kInlineClosureBytes && alignof(Fn) <= 16) {
      closure = new (closure_buf) Fn(std::forward<F>(f));
      destroy = [](void* c) { static_cast<Fn*>(c)->~Fn(); };
    } else {
      closure = new Fn(std::forward<F>(f));
      destroy = [](void* c) { delete static_cast<Fn*>(c); };
    }
    invoke = [](void* c) { (*static_cast<Fn*>(c))(); };
  }
};

// Intrusive FIFO of Tasks through sched_link. Not thread-safe.
struct TaskQueue {
  Task* head = nullptr;
  Task* tail = nullptr;
  uint64_t size = 0;

  bool empty() const { return head == nullptr; }
  void pushBack(Task* t) {
    t->sched_link = nullptr;
    if (tail) tail->sched_link = t; else head = t;
    tail = t;
    size++;
  }
  void pushFront(Task* t) {
    t->sched_link = head;
    head = t;
    if (!tail) tail = t;
    size++;
  }
  Task* popFront() {
    Task* t = head;
    if (!t) return nullptr;
    head = t->sched_link;
    if (!head) tail = nullptr;
    t->sched_link = nullptr;
    size--;
    return t;
  }
  void append(TaskQueue& other) {
    if (other.empty()) return;
    if (tail) tail->sched_link = other.head; else head = other.head;
    tail = other.tail;
    size += other.size;
    other = TaskQueue{};
  }
};

}  // namespace rt::internal
