// Stack switching for stackful tasks (G).
//
// Owns: the machine-level "save callee-saved registers, swap stack pointer,
// restore" primitive, and the sanitizer bookkeeping that must bracket every
// switch so ASan (fake stacks, stack bounds) and TSan (fiber identity,
// happens-before) keep working when a stack runs on another thread.
//
// Why our own assembly: a switch is ~10 instructions here; ucontext does a
// sigprocmask syscall per switch. Measured by BM_Yield in tests/bench.
#pragma once

#include <cstddef>

namespace rt::context {

// An execution context: the saved stack pointer plus what the sanitizers
// need to know about the stack it runs on.
struct Context {
  void* sp = nullptr;             // saved stack pointer while switched out
  const void* stack_bottom = nullptr;  // lowest usable address (ASan)
  size_t stack_size = 0;
  void* asan_fake_stack = nullptr;     // ASan's per-context fake stack handle
  void* tsan_fiber = nullptr;          // TSan fiber handle
};

using EntryFn = void (*)(void* arg);

// Prepares `ctx` so that the first switch into it calls entry(arg) on the
// stack [bottom, bottom+size). entry must never return.
void prepare(Context& ctx, void* bottom, size_t size, EntryFn entry, void* arg);

// Describes the calling thread's own stack as a context (an M's g0).
void adoptThreadStack(Context& ctx);

// Saves the current registers into `from` and resumes `to`.
// `from_is_finished`: the current context will never be resumed (a task
// that exited), so ASan may free its fake stack.
void switchTo(Context& from, Context& to, bool from_is_finished = false);

// Must be the first call a new context makes (ASan bookkeeping).
void onFirstEntry();

// Creates/destroys the TSan fiber of a task context (no-ops otherwise).
void createSanitizerFiber(Context& ctx);
void destroySanitizerFiber(Context& ctx);

}  // namespace rt::context
