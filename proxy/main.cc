// switchyard: the reverse proxy's command line. Not linked into tests.
//
//   switchyard                    run on the embedded default config
//   switchyard -c FILE            run on FILE
//   switchyard --check -c FILE    validate FILE and exit 0/1 (like nginx -t)
//   switchyard --version
//
// Signals are ordinary runtime events here (a Task reads a signalfd):
// SIGHUP reloads the file (an invalid one keeps the running config) and
// reopens the access log, SIGUSR1 only reopens it (logrotate), SIGTERM and
// SIGINT drain: stop accepting, close idle connections, let
// in-flight requests finish for up to 30 s.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "config/default_config.h"
#include "config/loader.h"
#include "config/reload.h"
#include "config/runtime_settings.h"
#include "proxy/admin/admin_server.h"
#include "proxy/log/access_log.h"
#include "proxy/metrics/config_collector.h"
#include "proxy/metrics/metrics_registry.h"
#include "proxy/metrics/runtime_collector.h"
#include "proxy/server/server.h"
#include "proxy/version.h"
#include "runtime/net/net.h"
#include "runtime/runtime.h"

namespace {

using namespace switchyard;

constexpr auto kDrainTimeout = std::chrono::seconds(30);

void usage(FILE* out) {
  std::fprintf(out,
               "usage: switchyard [-c FILE] [--check] [--version]\n"
               "  -c, --config FILE  configuration file (default: the embedded default)\n"
               "  -t, --check        validate the configuration and exit\n"
               "  -v, --version      print the version and exit\n");
}

void logLine(const std::string& line) {
  std::fprintf(stderr, "switchyard: %s\n", line.c_str());
  std::fflush(stderr);
}

// The loader recurses once per TOML nesting level: run it on an ordinary
// thread (8 MiB stack), never on a 64 KiB Task stack, and let the runtime
// hand the P to another thread meanwhile.
config::ReloadOutcome reloadOffTask(config::ConfigStore& store, const std::string& path) {
  config::ReloadOutcome outcome;
  rt::blocking([&] {
    std::thread t([&] { outcome = store.reload(path); });
    t.join();
  });
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "-t" || arg == "--check") {
      check_only = true;
    } else if (arg == "-v" || arg == "--version") {
      std::printf("switchyard %s\n", switchyard::kVersion);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "switchyard: unknown argument \"%s\"\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }

  std::shared_ptr<const config::Config> cfg;
  if (config_path.empty()) {
    cfg = config::loadDefaultConfig();
  } else {
    config::LoadResult loaded = config::loadConfigFile(config_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s", loaded.errorReport().c_str());
      std::fprintf(stderr, "switchyard: configuration %s is invalid\n", config_path.c_str());
      return 1;
    }
    cfg = loaded.config();
  }
  if (check_only) {
    // Like nginx -t: the files the config points at must load too.
    const std::vector<std::string> tls_errors = server::checkTlsFiles(*cfg);
    for (const std::string& line : tls_errors) std::fprintf(stderr, "switchyard: %s\n", line.c_str());
    if (!tls_errors.empty()) {
      std::fprintf(stderr, "switchyard: configuration %s is invalid\n",
                   config_path.empty() ? "<embedded default>" : config_path.c_str());
      return 1;
    }
    std::printf("switchyard: configuration %s is ok (hash %s)\n",
                config_path.empty() ? "<embedded default>" : config_path.c_str(),
                cfg->hash.c_str());
    return 0;
  }

  rt::Options opts = config::toRuntimeOptions(cfg->runtime);
  opts.notify_signals = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
  int exit_code = 0;
  rt::run(opts, [&] {
    config::ConfigStore store(cfg);
    proxy::metrics::MetricsRegistry registry(switchyard::kVersion);
    registry.add(std::make_shared<proxy::metrics::RuntimeCollector>());
    registry.add(std::make_shared<proxy::metrics::ConfigCollector>(store));
    server::Server proxy(cfg);
    log::AccessLog access_log(cfg->log.access_target, cfg->log.access_path,
                              cfg->log.access_format);
    std::string error;
    if (!access_log.start(error)) {
      logLine("cannot open the access log: " + error);
      exit_code = 1;
      return;
    }
    proxy.setObservers(
        [&registry](const config::Config& c) {
          return registry.proxyStats().publish(c, rt::workers());
        },
        cfg->log.access_target == config::AccessLogTarget::kOff ? nullptr : &access_log);
    if (proxy.start(error)) {
      logLine("cannot start: " + error);
      exit_code = 1;
      access_log.stop();
      return;
    }
    admin::AdminServer admin_server(proxy, store, [&registry] { return registry.renderMetrics(); });
    if (admin_server.start(cfg->admin.address.toString(), error)) {
      logLine("cannot start the admin listener: " + error);
      exit_code = 1;
      proxy.drain(std::chrono::seconds(0));
      access_log.stop();
      return;
    }
    store.subscribe([&](const std::shared_ptr<const config::Config>& previous,
                        const std::shared_ptr<const config::Config>& next) {
      for (const auto& line : config::applyRuntimeChanges(previous->runtime, next->runtime)) {
        logLine("reload: " + line);
      }
    });
    for (const auto& [name, addr] : proxy.boundListeners()) {
      logLine("listener \"" + name + "\" on " + addr.toString());
    }
    logLine("admin on " + admin_server.address().toString() + " (/metrics /healthz /readyz)");
    logLine(std::string("running ") + (config_path.empty() ? "the embedded default config"
                                                           : "config " + config_path) +
            " with " + std::to_string(rt::workers()) + " workers");

    std::error_code ec;
    rt::net::SignalReader signals({SIGHUP, SIGTERM, SIGINT, SIGUSR1}, ec);
    if (ec) {
      logLine("cannot read signals: " + ec.message());
      exit_code = 1;
      proxy.drain(std::chrono::seconds(0));
      admin_server.stop();
      access_log.stop();
      return;
    }
    for (;;) {
      std::optional<int> sig = signals.wait(rt::net::kNoDeadline, ec);
      if (!sig) continue;
      if (*sig == SIGUSR1) {
        access_log.reopen();  // logrotate moved the file
        continue;
      }
      if (*sig == SIGHUP) {
        access_log.reopen();
        if (config_path.empty()) {
          logLine("SIGHUP: running the embedded default, nothing to reload");
          continue;
        }
        config::ReloadOutcome outcome = reloadOffTask(store, config_path);
        if (!outcome.applied) {
          for (const auto& e : outcome.errors) logLine("reload failed: " + e.toString());
          logLine("reload failed: keeping the running configuration (hash " +
                  outcome.previous_hash + ")");
          continue;
        }
        for (const auto& line : proxy.apply(store.current())) logLine(line);
        logLine("reloaded " + config_path + " (hash " + outcome.current_hash + ")");
        continue;
      }
      logLine(std::string("received ") + strsignal(*sig) + ": draining");
      proxy.drain(kDrainTimeout);
      admin_server.stop();
      access_log.stop();
      break;
    }
  });
  return exit_code;
}
