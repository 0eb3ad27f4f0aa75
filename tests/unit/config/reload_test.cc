// ConfigStore: a valid reload swaps the snapshot and notifies subscribers with the old and
// new snapshots; an invalid one keeps the very same snapshot and counts a failure.
#include "config/reload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/loader.h"

namespace switchyard::config {
namespace {

constexpr std::string_view kConfigA =
    "[[listener]]\nname = \"a\"\naddress = \"127.0.0.1:8000\"\n";
constexpr std::string_view kConfigB =
    "[runtime]\nworkers = 2\n[[listener]]\nname = \"b\"\naddress = \"127.0.0.1:8001\"\n";
constexpr std::string_view kInvalid =
    "[runtime]\nworkers = 0\n[[listener]]\nname = \"b\"\naddress = \"8001\"\n";

LoadOptions fourCpus() {
  LoadOptions options;
  options.allowed_cpus = std::vector<int>{0, 1, 2, 3};
  return options;
}

std::shared_ptr<const Config> mustLoad(std::string_view text) {
  LoadResult result = loadConfigString(text, "initial.toml", fourCpus());
  EXPECT_TRUE(result.ok()) << result.errorReport();
  return result.config();
}

class ConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bazel_tmp = std::getenv("TEST_TMPDIR");
    directory_ = std::filesystem::path(bazel_tmp != nullptr ? bazel_tmp
                                                            : std::filesystem::temp_directory_path()) /
                 ("config_store_test_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
    path_ = (directory_ / "switchyard.toml").string();
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  void writeConfig(std::string_view text) {
    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    file << text;
    ASSERT_TRUE(file.good());
  }

  std::filesystem::path directory_;
  std::string path_;
};

struct Notification {
  std::shared_ptr<const Config> previous;
  std::shared_ptr<const Config> next;
};

TEST_F(ConfigStoreTest, ValidReloadSwapsAndNotifiesWithOldAndNew) {
  const std::shared_ptr<const Config> initial = mustLoad(kConfigA);
  ConfigStore store(initial, fourCpus());
  EXPECT_EQ(store.current(), initial);
  EXPECT_EQ(store.generation(), 0u);

  std::vector<Notification> seen;
  store.subscribe([&](const std::shared_ptr<const Config>& previous,
                      const std::shared_ptr<const Config>& next) {
    seen.push_back({previous, next});
  });

  writeConfig(kConfigB);
  const ReloadOutcome outcome = store.reload(path_);
  EXPECT_TRUE(outcome.applied);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(outcome.previous_hash, contentHash(kConfigA));
  EXPECT_EQ(outcome.current_hash, contentHash(kConfigB));

  const std::shared_ptr<const Config> now = store.current();
  ASSERT_NE(now, initial);
  EXPECT_EQ(now->source_name, path_);
  EXPECT_EQ(now->listeners[0].name, "b");
  EXPECT_EQ(now->runtime.workers, 2);
  EXPECT_EQ(store.currentHash(), contentHash(kConfigB));
  EXPECT_EQ(store.generation(), 1u);
  EXPECT_EQ(store.reloadsSucceeded(), 1u);
  EXPECT_EQ(store.reloadsFailed(), 0u);

  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].previous, initial);
  EXPECT_EQ(seen[0].next, now);
  // The old snapshot is still whole for whoever holds it (in-flight requests).
  EXPECT_EQ(initial->listeners[0].name, "a");
}

TEST_F(ConfigStoreTest, InvalidReloadKeepsTheSameSnapshot) {
  const std::shared_ptr<const Config> initial = mustLoad(kConfigA);
  ConfigStore store(initial, fourCpus());
  int notifications = 0;
  store.subscribe([&](const auto&, const auto&) { ++notifications; });

  writeConfig(kInvalid);
  const ReloadOutcome outcome = store.reload(path_);
  EXPECT_FALSE(outcome.applied);
  ASSERT_EQ(outcome.errors.size(), 2u);
  EXPECT_EQ(outcome.errors[0].file, path_);
  EXPECT_EQ(outcome.errors[0].key_path, "runtime.workers");
  EXPECT_EQ(outcome.errors[1].key_path, "listener[0].address");
  EXPECT_EQ(outcome.previous_hash, contentHash(kConfigA));
  EXPECT_EQ(outcome.current_hash, contentHash(kConfigA));

  EXPECT_EQ(store.current(), initial);  // the very same pointer
  EXPECT_EQ(store.generation(), 0u);
  EXPECT_EQ(store.reloadsSucceeded(), 0u);
  EXPECT_EQ(store.reloadsFailed(), 1u);
  EXPECT_EQ(notifications, 0);

  const ReloadOutcome missing = store.reload((directory_ / "missing.toml").string());
  EXPECT_FALSE(missing.applied);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].line, 0);
  EXPECT_EQ(store.current(), initial);
  EXPECT_EQ(store.reloadsFailed(), 2u);

  // A later valid file is still accepted: failures leave no residue.
  writeConfig(kConfigB);
  EXPECT_TRUE(store.reload(path_).applied);
  EXPECT_EQ(store.reloadsSucceeded(), 1u);
  EXPECT_EQ(store.reloadsFailed(), 2u);
  EXPECT_EQ(notifications, 1);
}

// Reloading an unchanged file still swaps and notifies: the TLS layer re-reads
// certificate files on every reload even when the config text is the same.
TEST_F(ConfigStoreTest, UnchangedFileIsStillAnnounced) {
  writeConfig(kConfigA);
  ConfigStore store(mustLoad(kConfigA), fourCpus());
  int notifications = 0;
  store.subscribe([&](const auto& previous, const auto& next) {
    ++notifications;
    EXPECT_NE(previous, next);
    EXPECT_EQ(previous->hash, next->hash);
  });
  const ReloadOutcome outcome = store.reload(path_);
  EXPECT_TRUE(outcome.applied);
  EXPECT_EQ(outcome.previous_hash, outcome.current_hash);
  EXPECT_EQ(notifications, 1);
  EXPECT_EQ(store.generation(), 1u);
}

TEST_F(ConfigStoreTest, SubscribersRunInOrderAndCanUnsubscribe) {
  ConfigStore store(mustLoad(kConfigA), fourCpus());
  std::vector<std::string> calls;
  const auto first = store.subscribe([&](const auto&, const auto&) { calls.push_back("first"); });
  store.subscribe([&](const auto&, const auto&) { calls.push_back("second"); });

  writeConfig(kConfigB);
  ASSERT_TRUE(store.reload(path_).applied);
  EXPECT_EQ(calls, (std::vector<std::string>{"first", "second"}));

  EXPECT_TRUE(store.unsubscribe(first));
  EXPECT_FALSE(store.unsubscribe(first));
  EXPECT_FALSE(store.unsubscribe(12345));
  calls.clear();
  ASSERT_TRUE(store.reload(path_).applied);
  EXPECT_EQ(calls, (std::vector<std::string>{"second"}));
}

// A subscriber may (un)subscribe from inside its callback without deadlocking; the new
// subscriber is called from the next reload on.
TEST_F(ConfigStoreTest, SubscriberMaySubscribeDuringNotification) {
  ConfigStore store(mustLoad(kConfigA), fourCpus());
  int late_calls = 0;
  bool subscribed_late = false;
  ConfigStore::SubscriptionId self = 0;
  self = store.subscribe([&](const auto&, const auto&) {
    if (!subscribed_late) {
      store.subscribe([&](const auto&, const auto&) { ++late_calls; });
      subscribed_late = true;
    }
    store.unsubscribe(self);
  });
  writeConfig(kConfigB);
  ASSERT_TRUE(store.reload(path_).applied);
  EXPECT_EQ(late_calls, 0);
  ASSERT_TRUE(store.reload(path_).applied);
  EXPECT_EQ(late_calls, 1);
}

// Readers on other threads always see a whole snapshot: one of those that were published,
// never a torn or freed one (meaningful under --config=tsan and --config=asan).
TEST_F(ConfigStoreTest, ConcurrentReadersSeeWholeSnapshots) {
  ConfigStore store(mustLoad(kConfigA), fourCpus());
  const std::set<std::string> valid_hashes = {contentHash(kConfigA), contentHash(kConfigB)};
  constexpr int kReloads = 50;
  constexpr int kReaders = 4;
  std::atomic<bool> done{false};
  std::atomic<int> bad_snapshots{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      // Bounded by the writer: it sets `done` after kReloads reloads.
      while (!done.load(std::memory_order_acquire)) {
        const std::shared_ptr<const Config> snapshot = store.current();
        if (valid_hashes.count(snapshot->hash) == 0 || snapshot->listeners.size() != 1) {
          bad_snapshots.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; i < kReloads; ++i) {
    writeConfig(i % 2 == 0 ? kConfigB : kConfigA);
    ASSERT_TRUE(store.reload(path_).applied);
  }
  done.store(true, std::memory_order_release);
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(bad_snapshots.load(), 0);
  EXPECT_EQ(store.generation(), static_cast<uint64_t>(kReloads));
  EXPECT_EQ(store.reloadsSucceeded(), static_cast<uint64_t>(kReloads));
}

}  // namespace
}  // namespace switchyard::config
