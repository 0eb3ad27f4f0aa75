#include "proxy/upstream/idle_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace switchyard::upstream {

IdlePool::IdlePool(size_t max_idle, std::chrono::nanoseconds idle_timeout)
    : max_idle_(max_idle), idle_timeout_ns_(idle_timeout.count()) {
  entries_.reserve(max_idle_);
}

bool IdlePool::peerClosed(const transport::Stream& conn) {
  char byte;
  const ssize_t n = ::recv(conn.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;   // FIN: the upstream closed it while idle
  if (n > 0) return true;    // bytes nobody asked for: the stream is out of step
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

transport::Stream IdlePool::take(int64_t now_ns) {
  while (!entries_.empty()) {
    Entry e = std::move(entries_.back());
    entries_.pop_back();
    const int64_t idle = now_ns - e.idle_since_ns;
    if (idle > idle_timeout_ns_ || (idle >= kPeekAfterIdleNs && peerClosed(e.conn))) {
      e.conn.close();
      continue;
    }
    return std::move(e.conn);
  }
  return {};
}

void IdlePool::put(transport::Stream&& conn, int64_t now_ns) {
  if (max_idle_ == 0) {
    conn.close();
    return;
  }
  if (entries_.size() == max_idle_) {
    entries_.front().conn.close();
    entries_.erase(entries_.begin());
  }
  entries_.push_back(Entry{std::move(conn), now_ns});
}

size_t IdlePool::expire(int64_t now_ns) {
  size_t closed = 0;
  size_t keep = 0;
  for (size_t i = 0; i < entries_.size(); i++) {
    if (now_ns - entries_[i].idle_since_ns > idle_timeout_ns_) {
      entries_[i].conn.close();
      closed++;
    } else {
      if (keep != i) entries_[keep] = std::move(entries_[i]);
      keep++;
    }
  }
  entries_.resize(keep);
  return closed;
}

void IdlePool::closeAll() {
  for (auto& e : entries_) e.conn.close();
  entries_.clear();
}

}  // namespace switchyard::upstream
