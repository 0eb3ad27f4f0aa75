// switchyard: the reverse proxy's command line. Not linked into tests.
//
//   switchyard                    run on the embedded default config
//   switchyard -c FILE            run on FILE
//   switchyard --check -c FILE    validate FILE and exit 0/1 (like nginx -t)
//   switchyard --version
//
// Signals are ordinary runtime events here (a Task reads a signalfd):
// SIGHUP reloads the file (an invalid one keeps the running config) and
// reopens the access log, SIGUSR1 only reopens it (logrotate), SIGUSR2
// starts a new copy of the binary that inherits the listening sockets
// (binary upgrade: README "Binary upgrade"), SIGTERM and SIGINT drain:
// stop accepting, close idle connections, let in-flight requests finish
// for up to [process] drain_timeout.
//
// Under systemd (Type=notify) each state change is reported over
// $NOTIFY_SOCKET; sockets passed with LISTEN_FDS (socket activation, or
// the previous process of a binary upgrade) are adopted instead of bound.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

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
#include "proxy/systemd/handoff.h"
#include "proxy/systemd/listen_fds.h"
#include "proxy/systemd/notify.h"
#include "proxy/version.h"
#include "runtime/net/net.h"
#include "runtime/runtime.h"
#include "runtime/sync/sync.h"

namespace {

using namespace switchyard;

// The name an inherited admin socket carries in LISTEN_FDNAMES.
constexpr const char* kAdminSocketName = "admin";
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

// "serving 2 listeners with 4 workers, config hash 85944171f73967e8": the
// STATUS= line `systemctl status` shows.
std::string statusText(const server::Server& proxy, const config::Config& cfg) {
  return "serving " + std::to_string(proxy.boundListeners().size()) + " listeners with " +
         std::to_string(rt::workers()) + " workers, config hash " + cfg.hash;
}

// Binary upgrade: starts the executable found at our path now, with our
// arguments and every listening socket (listeners and admin). Returns the
// new process's pid, or -1 (logged).
pid_t startUpgrade(const std::string& executable, const std::vector<std::string>& args,
                   const server::Server& proxy, const admin::AdminServer& admin_server) {
  std::vector<systemd::HandoffSocket> sockets;
  for (const auto& [name, fd] : proxy.listenerFds()) sockets.push_back({name, fd});
  sockets.push_back({kAdminSocketName, admin_server.fd()});
  std::error_code ec;
  const pid_t pid = systemd::spawnWithSockets(executable, args, sockets, ec);
  if (pid < 0) {
    logLine("SIGUSR2: cannot start " + executable + ": " + ec.message());
  } else {
    logLine("SIGUSR2: started " + executable + " as pid " + std::to_string(pid) + " with " +
            std::to_string(sockets.size()) + " listening sockets; drain this process (pid " +
            std::to_string(::getpid()) + ") with SIGTERM once it is ready");
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else can start a process: these name sockets that are
  // ours alone (listen_fds.h).
  std::string inherit_error;
  systemd::InheritedSockets inherited = systemd::InheritedSockets::fromEnvironment(inherit_error);
  const char* upgrade_from_env = std::getenv("SWITCHYARD_UPGRADE_FROM");
  const std::string upgrade_from = upgrade_from_env != nullptr ? upgrade_from_env : "";
  ::unsetenv("SWITCHYARD_UPGRADE_FROM");
  const std::string self_executable = systemd::selfExecutable();
  const std::vector<std::string> self_args(argv + 1, argv + argc);

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

  if (!inherit_error.empty()) logLine("ignoring inherited sockets: " + inherit_error);
  const systemd::Notifier notifier = systemd::Notifier::fromEnvironment();
  rt::Options opts = config::toRuntimeOptions(cfg->runtime);
  opts.notify_signals = {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
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
    proxy.setSocketSource([&inherited](const std::string& name, const std::string& address) {
      return inherited.take(name, address);
    });
    if (proxy.start(error)) {
      logLine("cannot start: " + error);
      exit_code = 1;
      access_log.stop();
      return;
    }
    admin::AdminServer admin_server(proxy, store, [&registry] { return registry.renderMetrics(); });
    const std::string admin_address = cfg->admin.address.toString();
    if (admin_server.start(admin_address, error,
                           inherited.take(kAdminSocketName, admin_address))) {
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
    if (inherited.size() > 0) {
      const std::vector<std::string> unclaimed = inherited.closeUnclaimed();
      logLine("adopted " + std::to_string(inherited.size() - unclaimed.size()) + " of " +
              std::to_string(inherited.size()) + " inherited sockets");
      for (const auto& line : unclaimed) logLine("closed an inherited socket no listener uses: " + line);
    }
    for (const auto& [name, addr] : proxy.boundListeners()) {
      logLine("listener \"" + name + "\" on " + addr.toString());
    }
    logLine("admin on " + admin_server.address().toString() + " (/metrics /healthz /readyz)");
    logLine(std::string("running ") + (config_path.empty() ? "the embedded default config"
                                                           : "config " + config_path) +
            " with " + std::to_string(rt::workers()) + " workers (pid " +
            std::to_string(::getpid()) + ")");

    std::error_code ec;
    rt::net::SignalReader signals({SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2}, ec);
    if (ec) {
      logLine("cannot read signals: " + ec.message());
      exit_code = 1;
      proxy.drain(std::chrono::seconds(0));
      admin_server.stop();
      access_log.stop();
      return;
    }
    // Ready: listeners bound, admin up, signals handled. The new process of
    // a binary upgrade also tells systemd it is now the main process.
    if (!upgrade_from.empty()) {
      notifier.readyAsMainPid(::getpid(), statusText(proxy, *cfg) + " (upgraded from pid " +
                                              upgrade_from + ")");
    } else {
      notifier.ready(statusText(proxy, *cfg));
    }
    logLine("ready");
    // The process a SIGUSR2 started: reaped here when it exits early (a
    // broken new binary), so the operator sees why in this log.
    std::atomic<pid_t> upgrade_child{-1};
    rt::WaitGroup upgrade_watch;
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
        notifier.reloading("reloading " + config_path);
        config::ReloadOutcome outcome = reloadOffTask(store, config_path);
        if (!outcome.applied) {
          for (const auto& e : outcome.errors) logLine("reload failed: " + e.toString());
          logLine("reload failed: keeping the running configuration (hash " +
                  outcome.previous_hash + ")");
          notifier.ready(statusText(proxy, *store.current()) + "; last reload failed (" +
                         std::to_string(outcome.errors.size()) + " errors, see the log)");
          continue;
        }
        for (const auto& line : proxy.apply(store.current())) logLine(line);
        logLine("reloaded " + config_path + " (hash " + outcome.current_hash + ")");
        notifier.ready(statusText(proxy, *store.current()));
        continue;
      }
      if (*sig == SIGUSR2) {
        if (upgrade_child.load() > 0) {
          logLine("SIGUSR2: an upgrade (pid " + std::to_string(upgrade_child.load()) +
                  ") is already running");
          continue;
        }
        const pid_t child = startUpgrade(self_executable, self_args, proxy, admin_server);
        if (child > 0) {
          upgrade_child.store(child);
          upgrade_watch.add(1);
          rt::go([&upgrade_child, &upgrade_watch, &proxy, child] {
            // Bounded by this process's life: the drain ends the loop.
            while (!proxy.draining()) {
              int status = 0;
              if (::waitpid(child, &status, WNOHANG) == child) {
                logLine("upgrade: pid " + std::to_string(child) + " exited with " +
                        (WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                           : std::string("a signal")) +
                        "; this process keeps serving");
                upgrade_child.store(-1);
                break;
              }
              rt::sleep_for(std::chrono::milliseconds(100));
            }
            upgrade_watch.done();
          });
        }
        continue;
      }
      const auto drain_timeout = store.current()->process.drain_timeout;
      const std::string drain_text =
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(drain_timeout).count()) +
          " ms";
      logLine(std::string("received ") + strsignal(*sig) + ": draining (up to " + drain_text +
              ")");
      notifier.stopping("draining (up to " + drain_text + ")");
      proxy.drain(drain_timeout);
      upgrade_watch.wait();
      admin_server.stop();
      access_log.stop();
      break;
    }
  });
  return exit_code;
}
