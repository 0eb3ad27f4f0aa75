// WaitQueue: an intrusive FIFO of parked Tasks, guarded by its owner's lock.
//
// A Waiter lives on the waiting Task's stack; it is valid until that Task
// is woken, so wakers copy what they need (task, ticket) while still holding
// the owner's lock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/task.h"

namespace rt::internal {

struct Waiter {
  Task* task = nullptr;
  uint64_t ticket = 0;   // from armWake(); 0 when the wait cannot time out
  int64_t since_ns = 0;  // when it started waiting (mutex starvation mode)
  bool granted = false;  // the waker handed over what was waited for
  void* slot = nullptr;  // channel element exchange
  Waiter* next = nullptr;
  Waiter* prev = nullptr;
};

class WaitQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  void pushBack(Waiter* w) {
    w->next = nullptr;
    w->prev = tail_;
    if (tail_ != nullptr) tail_->next = w; else head_ = w;
    tail_ = w;
    size_++;
  }
  void pushFront(Waiter* w) {
    w->prev = nullptr;
    w->next = head_;
    if (head_ != nullptr) head_->prev = w; else tail_ = w;
    head_ = w;
    size_++;
  }
  Waiter* popFront() {
    Waiter* w = head_;
    if (w != nullptr) remove(w);
    return w;
  }
  // w must be in this queue.
  void remove(Waiter* w) {
    if (w->prev != nullptr) w->prev->next = w->next; else head_ = w->next;
    if (w->next != nullptr) w->next->prev = w->prev; else tail_ = w->prev;
    w->next = w->prev = nullptr;
    size_--;
  }
  bool contains(const Waiter* w) const {
    for (Waiter* it = head_; it != nullptr; it = it->next) {
      if (it == w) return true;
    }
    return false;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace rt::internal
