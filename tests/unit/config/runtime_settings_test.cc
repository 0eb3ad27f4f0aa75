// [runtime] reaches the running scheduler: a valid reload changes workers on
// a running runtime; an invalid one leaves both the snapshot and the
// runtime as they were.
#include "config/runtime_settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "config/loader.h"
#include "config/reload.h"
#include "runtime/runtime.h"

namespace switchyard::config {
namespace {

LoadOptions twoCpus() {
  LoadOptions o;
  o.allowed_cpus = std::vector<int>{0, 1};
  return o;
}

TEST(RuntimeSettingsTest, MapsEveryKeyOntoOptions) {
  RuntimeConfig rc;
  rc.workers = 3;
  rc.cpu_affinity = {0, 1};
  rc.affinity_mode = AffinityMode::kPin;
  rc.stack_size = 128 * kKiB;
  rc.schedtrace = std::chrono::milliseconds(250);
  rc.scheddetail = true;
  rc.poller_handoff_interval = std::chrono::microseconds(500);
  rc.netpoll_batch = 64;
  rt::Options o = toRuntimeOptions(rc);
  EXPECT_EQ(o.workers, 3);
  EXPECT_EQ(o.cpu_affinity, (std::vector<int>{0, 1}));
  EXPECT_EQ(o.affinity_mode, rt::AffinityMode::kPin);
  EXPECT_EQ(o.stack_size, 128 * kKiB);
  EXPECT_EQ(o.schedtrace, std::chrono::milliseconds(250));
  EXPECT_TRUE(o.scheddetail);
  EXPECT_EQ(o.poller_handoff_interval, std::chrono::microseconds(500));
  EXPECT_EQ(o.netpoll_batch, 64);
  RuntimeConfig unset;
  EXPECT_EQ(toRuntimeOptions(unset).workers, 0) << "0 lets the runtime pick its default";
}

// The loader recurses per TOML nesting level; reloads run on an ordinary
// thread (as the proxy does), never on a small Task stack.
ReloadOutcome reloadOffTask(ConfigStore& store, const std::string& path) {
  ReloadOutcome outcome;
  rt::blocking([&] {
    std::thread t([&] { outcome = store.reload(path); });
    t.join();
  });
  return outcome;
}

TEST(RuntimeSettingsTest, ReloadAppliesLiveAndInvalidReloadKeepsRuntime) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir =
      std::filesystem::path(tmp != nullptr ? tmp : "/tmp") /
      ("runtime_settings_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "switchyard.toml").string();
  auto write = [&](const std::string& text) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
  };
  const std::string listener = "[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:0\"\n";

  LoadResult initial =
      loadConfigString("[runtime]\nworkers = 1\n" + listener, "initial.toml", twoCpus());
  ASSERT_TRUE(initial.ok()) << initial.errorReport();
  rt::Options opts = toRuntimeOptions(initial.config()->runtime);

  int workers_after_valid = 0, workers_after_invalid = 0, workers_after_shrink = 0;
  bool invalid_applied = true;
  int64_t handoff_after_valid = 0;
  rt::run(opts, [&] {
    ConfigStore store(initial.config(), twoCpus());
    store.subscribe([](const std::shared_ptr<const Config>& prev,
                       const std::shared_ptr<const Config>& next) {
      applyRuntimeChanges(prev->runtime, next->runtime);
    });
    write("[runtime]\nworkers = 2\npoller_handoff_interval = \"2ms\"\n" + listener);
    EXPECT_TRUE(reloadOffTask(store, path).applied);
    workers_after_valid = rt::workers();
    handoff_after_valid = rt::poller_handoff_interval().count();

    write("[runtime]\nworkers = 0\n" + listener);  // out of range
    ReloadOutcome bad = reloadOffTask(store, path);
    invalid_applied = bad.applied;
    EXPECT_FALSE(bad.errors.empty());
    workers_after_invalid = rt::workers();

    write("[runtime]\nworkers = 1\n" + listener);
    EXPECT_TRUE(reloadOffTask(store, path).applied);
    // Give the retired P's M a scheduling round.
    for (int i = 0; i < 10; i++) rt::sleep_for(std::chrono::milliseconds(1));
    workers_after_shrink = rt::workers();
  });
  EXPECT_EQ(workers_after_valid, 2);
  EXPECT_EQ(handoff_after_valid, 2'000'000);
  EXPECT_FALSE(invalid_applied);
  EXPECT_EQ(workers_after_invalid, 2) << "an invalid reload must not touch the runtime";
  EXPECT_EQ(workers_after_shrink, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace switchyard::config
