#include "proxy/metrics/runtime_view.h"

#include <utility>

namespace switchyard::proxy::metrics {

RuntimeView runtimeView(rt::SchedSnapshot snapshot) {
  RuntimeView view;
  view.affinity = AffinityInfo{snapshot.affinity_cpus, snapshot.affinity_mode};
  view.sched = std::move(snapshot);
  return view;
}

}  // namespace switchyard::proxy::metrics
