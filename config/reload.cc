#include "config/reload.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace switchyard::config {

ConfigStore::ConfigStore(std::shared_ptr<const Config> initial, LoadOptions options)
    : options_(std::move(options)), current_(std::move(initial)) {
  assert(current_ != nullptr);
}

ReloadOutcome ConfigStore::reload(const std::string& path) {
  std::lock_guard reload_lock(reload_mutex_);
  // Only reload() replaces current_, and it holds reload_mutex_: this is the snapshot the
  // new one replaces.
  const std::shared_ptr<const Config> previous = current();

  ReloadOutcome outcome;
  outcome.previous_hash = previous->hash;
  LoadResult result = loadConfigFile(path, options_);
  if (!result.ok()) {
    outcome.errors = result.errors();
    outcome.current_hash = previous->hash;
    reloads_failure_.fetch_add(1, std::memory_order_relaxed);
    return outcome;
  }

  const std::shared_ptr<const Config> next = result.config();
  {
    std::lock_guard lock(current_mutex_);
    current_ = next;
  }
  // After the swap: a reader that sees the new generation finds the new snapshot.
  generation_.fetch_add(1, std::memory_order_release);
  reloads_success_.fetch_add(1, std::memory_order_relaxed);
  outcome.applied = true;
  outcome.current_hash = next->hash;

  // Copy the list so subscribers run without subscribers_mutex_ held.
  std::vector<std::shared_ptr<const Subscriber>> to_notify;
  {
    std::lock_guard subscribers_lock(subscribers_mutex_);
    to_notify.reserve(subscribers_.size());
    for (const auto& [id, subscriber] : subscribers_) to_notify.push_back(subscriber);
  }
  for (const std::shared_ptr<const Subscriber>& subscriber : to_notify) {
    (*subscriber)(previous, next);
  }
  return outcome;
}

ConfigStore::SubscriptionId ConfigStore::subscribe(Subscriber subscriber) {
  std::lock_guard lock(subscribers_mutex_);
  const SubscriptionId id = next_subscription_id_++;
  subscribers_.emplace_back(id, std::make_shared<const Subscriber>(std::move(subscriber)));
  return id;
}

bool ConfigStore::unsubscribe(SubscriptionId id) {
  std::lock_guard lock(subscribers_mutex_);
  const auto found = std::find_if(subscribers_.begin(), subscribers_.end(),
                                  [&](const auto& entry) { return entry.first == id; });
  if (found == subscribers_.end()) return false;
  subscribers_.erase(found);
  return true;
}

}  // namespace switchyard::config
