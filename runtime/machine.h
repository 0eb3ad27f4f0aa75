// Machine: the M of Go's G/M/P model, an OS thread.
//
// Owns its g0 context (the thread's own stack, where the scheduler loop
// runs), its park note, and the hand-over slots other threads fill before
// waking it (nextp). At most `workers` Ms hold a P; extra Ms exist only for
// Tasks inside blocking() calls and for Tasks locked to a thread.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "runtime/context/context.h"
#include "runtime/internal/note.h"
#include "runtime/task.h"

namespace rt::internal {

struct Processor;

// What g0 must do for the Task that just switched to it. The Task cannot do
// these itself: until its registers are saved another M must not run it.
enum class SwitchReason : uint8_t {
  kNone,
  kPark,          // run park_commit; the Task waits for ready()
  kYield,         // back of the local run queue
  kPreempted,     // global run queue (sysmon asked it to yield)
  kExit,          // recycle the Task
  kExitSyscall,   // blocking() returned and no P was free: global queue
};

struct Machine {
  int64_t id = 0;
  pthread_t thread{};
  pid_t tid = 0;
  bool is_m0 = false;
  context::Context g0;

  Processor* p = nullptr;        // held P (owned by this M)
  std::atomic<Processor*> nextp{nullptr};  // P handed over by startm
  Processor* oldp = nullptr;     // P left behind by enterBlocking
  std::atomic<Task*> curg{nullptr};  // sysmon reads it to preempt
  std::atomic<Task*> lockedg{nullptr};  // lock_os_thread
  std::atomic<bool> spinning{false};
  std::atomic<bool> blocked{false};  // parked in stopm
  std::atomic<bool> exiting{false};  // locked Task exited: thread ends
  Note park;
  Machine* link = nullptr;       // sched.midle

  SwitchReason reason = SwitchReason::kNone;
  bool (*park_commit)(Task* t, void* arg) = nullptr;
  void* park_arg = nullptr;

  int bound_cpu = -1;            // pin mode: CPU this thread is bound to
  uint64_t affinity_gen = 0;     // last sched.affinity_gen applied
};

}  // namespace rt::internal
