// Counts heap allocations made through operator new while a scope is armed.
//
// Linking :alloc_counter replaces the global operator new/delete family of the test
// binary (alwayslink) with versions that call malloc/free and bump a counter; under
// ASan the malloc/free underneath are still checked. Tests using it set
// `linkstatic = True`: the replacement must be in the executable itself, or a sanitizer
// runtime loaded ahead of it keeps its own operator new (AllocationScope's self-test,
// CounterSeesAllocations, catches that). Only the thread that armed the
// scope is counted, so gtest's or the runtime's other threads cannot disturb a test.
#pragma once

#include <cstddef>

namespace switchyard::testing {

class AllocationScope {
 public:
  AllocationScope();
  ~AllocationScope();
  AllocationScope(const AllocationScope&) = delete;
  AllocationScope& operator=(const AllocationScope&) = delete;

  // operator new calls on this thread since the scope began.
  size_t allocations() const;
};

}  // namespace switchyard::testing
