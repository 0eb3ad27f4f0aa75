// Chan<T>: Go's channels for Tasks, unbuffered or buffered.
//
// Semantics as Go's hchan, except that misuse returns instead of panicking:
//  - send blocks until a receiver takes the value (unbuffered) or there is
//    buffer room; returns false if the channel is or becomes closed (the
//    value is then dropped);
//  - recv blocks until a value is available; returns std::nullopt once the
//    channel is closed and drained;
//  - close wakes every waiter; closing twice is a no-op returning false.
// A receiver waiting on an unbuffered channel gets the value moved straight
// into its slot and goes to the sender's runnext, so a ping-pong pair runs
// on one P with no run-queue traffic (BM_PingPong).
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/internal/spin_lock.h"
#include "runtime/scheduler.h"
#include "runtime/sync/wait_queue.h"

namespace rt {

template <class T>
class Chan {
 public:
  explicit Chan(size_t capacity = 0) : capacity_(capacity), buf_(capacity) {}
  Chan(const Chan&) = delete;
  Chan& operator=(const Chan&) = delete;

  bool send(T value) {
    internal::checkPreempt();
    lock_.lock();
    if (closed_) {
      lock_.unlock();
      return false;
    }
    if (internal::Waiter* w = recvq_.popFront()) {
      static_cast<std::optional<T>*>(w->slot)->emplace(std::move(value));
      w->granted = true;
      internal::Task* t = w->task;
      lock_.unlock();
      internal::ready(t);
      return true;
    }
    if (count_ < capacity_) {
      buf_[(head_ + count_) % capacity_].emplace(std::move(value));
      count_++;
      lock_.unlock();
      return true;
    }
    internal::Waiter me;
    me.task = internal::currentTask();
    me.slot = &value;
    sendq_.pushBack(&me);
    internal::park(unlockCommit, &lock_, internal::WaitReason::kChanSend);
    return me.granted;
  }

  std::optional<T> recv() {
    internal::checkPreempt();
    lock_.lock();
    if (internal::Waiter* w = sendq_.popFront()) {
      std::optional<T> out;
      T* sent = static_cast<T*>(w->slot);
      if (capacity_ == 0) {
        out.emplace(std::move(*sent));
      } else {
        // Buffer is full: take its head, put the sender's value at the tail.
        out.emplace(std::move(*buf_[head_]));
        buf_[head_].emplace(std::move(*sent));
        head_ = (head_ + 1) % capacity_;
      }
      w->granted = true;
      internal::Task* t = w->task;
      lock_.unlock();
      internal::ready(t);
      return out;
    }
    if (count_ > 0) {
      std::optional<T> out(std::move(*buf_[head_]));
      buf_[head_].reset();
      head_ = (head_ + 1) % capacity_;
      count_--;
      lock_.unlock();
      return out;
    }
    if (closed_) {
      lock_.unlock();
      return std::nullopt;
    }
    std::optional<T> slot;
    internal::Waiter me;
    me.task = internal::currentTask();
    me.slot = &slot;
    recvq_.pushBack(&me);
    internal::park(unlockCommit, &lock_, internal::WaitReason::kChanReceive);
    if (!me.granted) return std::nullopt;
    return slot;
  }

  bool close() {
    lock_.lock();
    if (closed_) {
      lock_.unlock();
      return false;
    }
    closed_ = true;
    internal::WaitQueue woken;
    while (internal::Waiter* w = recvq_.popFront()) woken.pushBack(w);
    while (internal::Waiter* w = sendq_.popFront()) woken.pushBack(w);
    lock_.unlock();
    while (internal::Waiter* w = woken.popFront()) {
      w->granted = false;
      internal::ready(w->task);
    }
    return true;
  }

  size_t size() {
    lock_.lock();
    size_t n = count_;
    lock_.unlock();
    return n;
  }
  size_t capacity() const { return capacity_; }

 private:
  static bool unlockCommit(internal::Task*, void* lock) {
    static_cast<internal::SpinLock*>(lock)->unlock();
    return true;
  }

  const size_t capacity_;
  internal::SpinLock lock_;
  std::vector<std::optional<T>> buf_;
  size_t head_ = 0;
  size_t count_ = 0;
  bool closed_ = false;
  internal::WaitQueue sendq_;
  internal::WaitQueue recvq_;
};

}  // namespace rt
