// The netpoller on a kernel (or sandbox) without epoll_pwait2: a seccomp
// filter makes that call fail with ENOSYS, as on kernels before 5.11, under
// gVisor or valgrind, and (with EPERM) under older Docker seccomp profiles.
// The runtime must fall back to epoll_wait, not abort, and timers must not
// fire early when the wait rounds to milliseconds.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>

#include "gtest/gtest.h"
#include "runtime/net/net.h"
#include "runtime/runtime.h"
#include "tests/unit/runtime/net/net_test_util.h"

namespace rt::net {
namespace {

using namespace std::chrono_literals;

// Every later thread of this process inherits the filter.
bool refuseSyscall(long nr, int err) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// In the child: a sleep and a TCP round trip through the poller. Exit code
// 0 = everything worked; the runtime's own abort would be SIGABRT.
[[noreturn]] void pollerWorksWithout(int err) {
  if (!refuseSyscall(SYS_epoll_pwait2, err)) std::_Exit(10);
  if (syscall(SYS_epoll_pwait2, -1, nullptr, 0, nullptr, nullptr, 0) != -1 || errno != err) {
    std::_Exit(11);  // the filter is not in force: the test would prove nothing
  }
  int code = 0;
  testing::runTask(1, [&] {
    const auto t0 = Clock::now();
    rt::sleep_for(15ms);  // a blocking poll with a sub-second timeout
    if (Clock::now() - t0 < 15ms) code = 12;  // rounding must never wake early
    TcpListener ln = testing::listenLoopback();
    TcpConn client, server;
    if (!testing::connectPair(ln, client, server)) {
      code = 13;
      return;
    }
    std::error_code ec;
    rt::go([&] {  // the reader parks on the poller until the write lands
      std::error_code wec;
      rt::sleep_for(5ms);
      client.write("ping", 4, wec);
    });
    char buf[4];
    server.setReadDeadline(testing::after(5s));
    if (testing::readFull(server, buf, 4, ec) != 4) code = 14;
  });
  std::_Exit(code);
}

TEST(EpollFallbackTest, RunsWhenEpollPwait2IsMissing) {
  EXPECT_EXIT(pollerWorksWithout(ENOSYS), ::testing::ExitedWithCode(0), "");
}

TEST(EpollFallbackTest, RunsWhenSeccompRefusesEpollPwait2) {
  EXPECT_EXIT(pollerWorksWithout(EPERM), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace rt::net
