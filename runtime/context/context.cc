#include "runtime/context/context.h"

#include <pthread.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define RT_TSAN 1
#endif

#if RT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if RT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

extern "C" void rt_context_switch(void** save_sp, void* new_sp);
extern "C" void rt_context_trampoline();

namespace rt::context {

void prepare(Context& ctx, void* bottom, size_t size, EntryFn entry, void* arg) {
  ctx.stack_bottom = bottom;
  ctx.stack_size = size;
  ctx.asan_fake_stack = nullptr;
  auto top = (reinterpret_cast<uintptr_t>(bottom) + size) & ~uintptr_t{15};
#if defined(__x86_64__)
  // Frame popped by rt_context_switch: control words, r15, r14, r13, r12,
  // rbx, rbp, return address. After the final `ret`, rsp is 16-aligned, as
  // the ABI wants at the trampoline's call instruction.
  auto* frame = reinterpret_cast<uint64_t*>(top - 16 - 64);
  std::memset(frame, 0, 64);
  const uint32_t mxcsr = 0x1F80;  // default: all exceptions masked
  const uint16_t fpucw = 0x037F;  // default x87 control word
  std::memcpy(reinterpret_cast<char*>(frame), &mxcsr, 4);
  std::memcpy(reinterpret_cast<char*>(frame) + 4, &fpucw, 2);
  frame[4] = reinterpret_cast<uint64_t>(entry);  // r12
  frame[3] = reinterpret_cast<uint64_t>(arg);    // r13
  frame[7] = reinterpret_cast<uint64_t>(&rt_context_trampoline);
  ctx.sp = frame;
#elif defined(__aarch64__)
  auto* frame = reinterpret_cast<uint64_t*>(top - 160);
  std::memset(frame, 0, 160);
  frame[0] = reinterpret_cast<uint64_t>(entry);  // x19
  frame[1] = reinterpret_cast<uint64_t>(arg);    // x20
  frame[11] = reinterpret_cast<uint64_t>(&rt_context_trampoline);  // x30
  ctx.sp = frame;
#else
#error "rt::context supports x86-64 and aarch64"
#endif
}

void adoptThreadStack(Context& ctx) {
  pthread_attr_t attr;
  void* addr = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
  }
  ctx.stack_bottom = addr;
  ctx.stack_size = size;
#if RT_TSAN
  ctx.tsan_fiber = __tsan_get_current_fiber();
#endif
}

void switchTo(Context& from, Context& to, bool from_is_finished) {
#if RT_ASAN
  __sanitizer_start_switch_fiber(from_is_finished ? nullptr : &from.asan_fake_stack,
                                 to.stack_bottom, to.stack_size);
#else
  (void)from_is_finished;
#endif
#if RT_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  rt_context_switch(&from.sp, to.sp);
  // Back in `from`, possibly on another thread.
#if RT_ASAN
  __sanitizer_finish_switch_fiber(from.asan_fake_stack, nullptr, nullptr);
#endif
}

void onFirstEntry() {
#if RT_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

void createSanitizerFiber(Context& ctx) {
#if RT_TSAN
  if (ctx.tsan_fiber == nullptr) ctx.tsan_fiber = __tsan_create_fiber(0);
#else
  (void)ctx;
#endif
}

void destroySanitizerFiber(Context& ctx) {
#if RT_TSAN
  if (ctx.tsan_fiber != nullptr) __tsan_destroy_fiber(ctx.tsan_fiber);
  ctx.tsan_fiber = nullptr;
#else
  (void)ctx;
#endif
}

}  // namespace rt::context
