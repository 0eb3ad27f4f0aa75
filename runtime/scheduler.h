// The scheduler's internal interface, for the rest of runtime/ (sync
// primitives, the netpoller, net). Not for users: see runtime.h.
//
// The wait/wake contract, after Go's gopark/goready:
//  - park(commit, arg) switches the current Task out and then, on the
//    scheduler's stack, calls commit(task, arg). Only after commit returns
//    true may another thread see the Task as waiting; commit typically
//    releases the lock that guards the wait queue the Task put itself on.
//    If commit returns false the Task is made runnable again at once.
//  - ready(task) makes a waiting Task runnable on the caller's P (runnext).
//  - When two wakers race (a notify against a timeout), the Task takes a
//    ticket with armWake() before parking; each waker calls tryWake(task,
//    ticket) and only the first succeeds.
#pragma once

#include <cstdint>

#include "runtime/task.h"

namespace rt::internal {

struct Machine;
struct Processor;

Machine* currentMachine();
Task* currentTask();
int64_t nanotime();  // CLOCK_MONOTONIC
// nanotime() read at most once per scheduling round of the calling Task (see
// rt::coarse_now); the real clock outside a Task.
int64_t roundNanotime();

void park(bool (*commit)(Task* t, void* arg), void* arg, WaitReason reason);
void ready(Task* t);
// The state half of ready(): marks a waiting Task runnable and returns true
// if the caller must now queue it; false if the Task is still being parked
// (its parking M will queue it). For wakers that batch (the netpoller).
bool markRunnable(Task* t);
uint64_t armWake(Task* t);
bool tryWake(Task* t, uint64_t ticket);
// The claim half of tryWake: true if the caller won the wake-up and must
// now make the Task runnable (e.g. by collecting it for injectList).
bool claimWake(Task* t, uint64_t ticket);
// Go's injectglist: makes a batch of runnable Tasks run. With a P, one Task
// per idle P goes to the global queue (and an M is started for each), the
// rest to this P's queue; without a P, all go to the global queue.
void injectList(TaskQueue& q);

// park() with a deadline: returns true if woken by tryWake(t, ticket),
// false if the deadline passed first. `ticket` must come from armWake().
// A deadline of INT64_MAX arms no timer.
bool parkUntil(int64_t deadline_ns, uint64_t ticket, bool (*commit)(Task* t, void* arg),
               void* arg, WaitReason reason);

// Honours a pending preemption request (runtime calls check this).
void checkPreempt();

}  // namespace rt::internal
