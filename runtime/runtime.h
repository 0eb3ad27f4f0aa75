// Switchyard's M:N runtime: Go's G/M/P scheduler in C++.
//
// A Task (G) is a stackful coroutine; a Processor (P) is a worker with a
// local run queue; a Machine (M) is an OS thread that runs Tasks while it
// holds a P. Code in a Task is written in blocking style: sleeping, waiting
// on a channel or a mutex parks the Task, not the thread. Calls that may
// block the thread itself go through rt::blocking(), which lets another
// thread take over the P while the call is in progress.
//
// The design essay is in scheduler.cc; the public names below follow the
// standard library's spelling (sleep_for, yield) because that is what a
// reader of Task code expects.
//
// Thread-safety: every function here may be called from any Task. rt::go()
// may also be called from threads outside the runtime while it runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "runtime/options.h"
#include "runtime/sched_snapshot.h"
#include "runtime/task.h"

namespace rt {

// Starts the runtime with `opts`, runs `main_task` as the first Task and
// returns when it returns; the calling thread is M0. Tasks still parked at
// that point are abandoned (their stacks are unmapped, destructors of their
// locals do not run), as a Go program exits when main returns. Returns 0.
// One runtime per process at a time.
int run(const Options& opts, std::function<void()> main_task);

// True when called from a Task.
bool inTask();
// The current Task's id (1 = the main task), 0 outside tasks.
uint64_t currentTaskId();

namespace detail {
internal::Task* allocTask();
void startTask(internal::Task* t);
void enterBlocking();
void exitBlocking();
}  // namespace detail

// Spawns a new Task running f(). It goes in the spawning P's runnext (runs
// soon, inherits the time slice), as Go's `go` statement does.
template <class F>
void go(F&& f) {
  internal::Task* t = detail::allocTask();
  t->setEntry(std::forward<F>(f));
  detail::startTask(t);
}

// Puts the current Task at the back of its P's run queue.
void yield();
// Yields if sysmon asked the current Task to (it ran > 10 ms). Long loops
// call this; returns true if it yielded.
bool yield_if_preempted();

void sleep_for(std::chrono::nanoseconds d);
void sleep_until(std::chrono::steady_clock::time_point deadline);

// Runs f() on the current thread as a potentially blocking call (Go's
// entersyscall/exitsyscall): if it takes longer than ~20us, sysmon hands the
// P to another thread so other Tasks keep running. Returns f()'s result.
template <class F>
decltype(auto) blocking(F&& f) {
  struct Exit {
    ~Exit() { detail::exitBlocking(); }
  };
  detail::enterBlocking();
  Exit on_exit;
  return std::forward<F>(f)();
}

// Wires the current Task to its thread until unlock_os_thread() (nestable).
// Other Tasks never run on that thread meanwhile. A Task that exits while
// locked takes its thread with it (the thread may be in a special state).
void lock_os_thread();
void unlock_os_thread();

// Number of Ps. set_workers() resizes live (Go's procresize): new Ps start
// idle; removed Ps hand their queued Tasks and timers to the others when
// their current Task next enters the scheduler. No Task is lost.
int workers();
void set_workers(int n);

// The P (worker) the caller runs on, in [0, workers()); -1 outside tasks.
// Per-worker caches index by it. Valid until the next call that may park
// (I/O, sync, sleep, yield): a Task may resume on another worker.
int current_worker();

// The monotonic clock as first read in the calling Task's current
// scheduling round (since it last started running on its worker): every
// deadline and timestamp taken in one round shares one clock read, as
// nginx's event loop shares one per iteration. It lags the true time by the
// Task's own uninterrupted run since the round began: microseconds for an
// I/O-bound Task, at most a time slice (10 ms) for one that computes. Use it
// for deadlines and log times, not to time a computation. Outside a Task it
// reads the clock.
std::chrono::steady_clock::time_point coarse_now();

// Per-Task scheduling delay: with tracking on, the runtime adds up the time
// the current Task spends runnable but not running (two clock reads per
// wake-up), readable with sched_delay(). The proxy logs it per request.
void track_sched_delay(bool on);
std::chrono::nanoseconds sched_delay();

// Changes the CPU set and mode of every runtime thread, live. `cpus` must be
// a subset of allowedCpus() (empty = all of them). Returns false otherwise.
bool set_affinity(const std::vector<int>& cpus, AffinityMode mode);

// Changes the schedtrace period (0 = off) and detail, live.
void set_schedtrace(std::chrono::milliseconds period, bool detailed);

// Live knobs of the netpoller (see Options).
void set_poller_handoff_interval(std::chrono::nanoseconds d);
std::chrono::nanoseconds poller_handoff_interval();
void set_netpoll_batch(int n);
int netpoll_batch();

// A timer that runs a callback instead of waking a Task: for state that has
// no Task of its own (an idle keep-alive connection waiting for bytes or
// its idle timeout). The callback runs on a scheduler thread's own stack,
// between Tasks: it must not block, park or take long; it may spawn Tasks
// and make non-blocking calls. The object must outlive its armed period
// (cancel() first, or let it fire). Arming allocates nothing.
class CallbackTimer {
 public:
  using Fn = void (*)(void* arg);
  CallbackTimer() = default;
  CallbackTimer(const CallbackTimer&) = delete;
  CallbackTimer& operator=(const CallbackTimer&) = delete;

  // Arms on the calling Task's P. Must not be armed already.
  void arm(std::chrono::steady_clock::time_point deadline, Fn fn, void* arg);
  // True if it was armed and now will not fire; false if it already fired
  // or is firing right now (fn may still be running on another thread).
  bool cancel();

 private:
  static void fire(internal::Timer* t, void* self, uint64_t seq);
  internal::Timer timer_;
  Fn fn_ = nullptr;
  void* arg_ = nullptr;
};

// Counters and per-P/M state; with_tasks also lists every live Task.
SchedSnapshot snapshot(bool with_tasks = false);

}  // namespace rt
