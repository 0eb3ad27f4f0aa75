#include "proxy/dns/endpoint_addresses.h"

#include <utility>

#include "runtime/runtime.h"

namespace switchyard::proxy::dns {
namespace {

std::mutex& defaultResolverMu() {
  static std::mutex mu;
  return mu;
}
Resolver& defaultResolver() {
  static Resolver resolver;
  return resolver;
}

}  // namespace

void EndpointAddresses::setDefaultResolverForTesting(Resolver resolver) {
  std::lock_guard lock(defaultResolverMu());
  defaultResolver() = std::move(resolver);
}

EndpointAddresses::EndpointAddresses(const std::vector<config::HostPort>& endpoints,
                                     std::chrono::nanoseconds refresh, Resolver resolver)
    : refresh_(refresh), resolver_(std::move(resolver)) {
  if (!resolver_) {
    std::lock_guard lock(defaultResolverMu());
    resolver_ = defaultResolver();
  }
  if (!resolver_) {
    resolver_ = [](const std::string& host_port, std::vector<rt::net::Address>& out) {
      return rt::net::resolve(host_port, out);
    };
  }
  entries_.reserve(endpoints.size());
  for (const config::HostPort& hp : endpoints) {
    auto entry = std::make_unique<Entry>();
    entry->host_port = hp.toString();
    entry->is_name = hp.kind == config::HostKind::kName;
    entries_.push_back(std::move(entry));
  }
}

EndpointAddresses::~EndpointAddresses() = default;

void EndpointAddresses::inherit(const EndpointAddresses& previous) {
  for (auto& entry : entries_) {
    if (!entry->is_name) continue;
    for (const auto& old : previous.entries_) {
      if (old->host_port != entry->host_port) continue;
      std::shared_ptr<const std::vector<rt::net::Address>> list;
      {
        std::lock_guard lock(old->mu);
        list = old->list;
      }
      std::lock_guard lock(entry->mu);
      entry->list = std::move(list);
    }
  }
}

void EndpointAddresses::start(rt::WaitGroup* tasks) {
  if (started_.exchange(true, std::memory_order_acq_rel)) return;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i]->is_name) continue;
    if (tasks != nullptr) tasks->add(1);
    rt::go([self = shared_from_this(), i, tasks]() mutable {
      self->refreshLoop(i);
      self.reset();  // let go of this object before saying done
      if (tasks != nullptr) tasks->done();
    });
  }
}

void EndpointAddresses::stop() {
  stop_mu_.lock();
  stopped_.store(true, std::memory_order_release);
  stop_cv_.notify_all();
  stop_mu_.unlock();
}

std::shared_ptr<const std::vector<rt::net::Address>> EndpointAddresses::current(size_t i) const {
  std::lock_guard lock(entries_[i]->mu);
  return entries_[i]->list;
}

std::vector<rt::net::Address> EndpointAddresses::addresses(size_t i) const {
  if (i >= entries_.size()) return {};
  auto list = current(i);
  return list != nullptr ? *list : std::vector<rt::net::Address>{};
}

std::error_code EndpointAddresses::refresh(size_t i) {
  Entry& entry = *entries_[i];
  auto fresh = std::make_shared<std::vector<rt::net::Address>>();
  const std::error_code ec = resolver_(entry.host_port, *fresh);
  if (ec || fresh->empty()) return ec ? ec : make_error_code(rt::net::errc::host_not_found);
  resolutions_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(entry.mu);
  entry.list = std::move(fresh);
  return {};
}

void EndpointAddresses::refreshLoop(size_t i) {
  // The first resolution at once; then every refresh_, woken early only by stop().
  for (uint64_t round = 0; !stopped_.load(std::memory_order_acquire); ++round) {
    refresh(i);
    const auto until = std::chrono::steady_clock::now() + refresh_;
    stop_mu_.lock();
    for (int spurious = 0; spurious < 1000 && !stopped_.load(std::memory_order_acquire);
         ++spurious) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) break;
      stop_cv_.wait_for(stop_mu_, until - now);
    }
    stop_mu_.unlock();
  }
}

rt::net::TcpConn EndpointAddresses::connect(size_t i, rt::net::Deadline deadline,
                                            std::error_code& ec) {
  Entry& entry = *entries_[i];
  if (!entry.is_name) return rt::net::connect(entry.host_port, deadline, ec);
  auto list = current(i);
  if (list == nullptr) {
    // Not resolved yet (the refresher has not run, or every try failed): now, here.
    if ((ec = refresh(i))) return {};
    list = current(i);
  }
  const size_t n = list->size();
  const size_t start = entry.next.fetch_add(1, std::memory_order_relaxed) % n;
  for (size_t k = 0; k < n; ++k) {
    rt::net::TcpConn conn = rt::net::connect((*list)[(start + k) % n], deadline, ec);
    if (!ec) return conn;
    if (rt::net::Clock::now() >= deadline) break;
  }
  return {};
}

}  // namespace switchyard::proxy::dns
