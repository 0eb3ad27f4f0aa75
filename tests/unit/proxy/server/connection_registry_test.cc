#include "proxy/server/connection_registry.h"

#include <atomic>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/runtime.h"
#include "runtime/sync/sync.h"

namespace switchyard::server {
namespace {

std::set<RegistryLink*> members(ConnectionRegistry& r) {
  std::set<RegistryLink*> out;
  r.forEach([&out](RegistryLink* l) { out.insert(l); });
  return out;
}

TEST(ConnectionRegistryTest, AddRemoveAndWalkAcrossShards) {
  ConnectionRegistry r;
  std::vector<RegistryLink> links(40);
  for (size_t i = 0; i < links.size(); i++) r.add(&links[i], static_cast<int>(i) - 1);  // -1: no worker
  EXPECT_EQ(r.size(), 40);
  EXPECT_EQ(members(r).size(), 40u);
  // Remove from the middle, the head and the tail of shard lists.
  for (size_t i = 0; i < links.size(); i += 3) r.remove(&links[i]);
  EXPECT_EQ(r.size(), 26);
  std::set<RegistryLink*> left = members(r);
  for (size_t i = 0; i < links.size(); i++) {
    EXPECT_EQ(left.count(&links[i]), i % 3 == 0 ? 0u : 1u) << i;
  }
  for (size_t i = 0; i < links.size(); i++) {
    if (i % 3 != 0) r.remove(&links[i]);
  }
  EXPECT_EQ(r.size(), 0);
  EXPECT_TRUE(members(r).empty());
}

// Connections open on one worker and close on another (a Task migrates):
// the link remembers its shard, so the count and the lists stay exact.
TEST(ConnectionRegistryTest, ConcurrentJoinAndLeaveFromTwoWorkers) {
  ConnectionRegistry r;
  constexpr int kTasks = 64;
  constexpr int kRounds = 200;
  std::vector<RegistryLink> links(kTasks);
  std::atomic<int> bad{0};
  rt::Options opts;
  opts.workers = 2;
  rt::run(opts, [&] {
    rt::WaitGroup wg;
    wg.add(kTasks);
    for (int t = 0; t < kTasks; t++) {
      rt::go([&, t] {
        for (int i = 0; i < kRounds; i++) {
          r.add(&links[static_cast<size_t>(t)], rt::current_worker());
          if (r.size() < 1) bad.fetch_add(1);
          rt::yield();  // may resume on the other worker
          r.remove(&links[static_cast<size_t>(t)]);
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(r.size(), 0);
  EXPECT_TRUE(members(r).empty());
}

}  // namespace
}  // namespace switchyard::server
