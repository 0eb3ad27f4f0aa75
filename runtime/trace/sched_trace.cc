// Go's schedtrace/scheddetail text, from a SchedSnapshot. Field names and
// order follow Go's proc.go schedtrace (development tree): SCHED line, then
// with detail one line per P, M and live Task. GC fields Go prints
// (gcwaiting, stopwait) have no counterpart here and are printed as Go
// prints them on an idle GC: false / 0.
#include <string>

#include "runtime/sched_snapshot.h"

namespace rt {
namespace {
void appendId(std::string& out, int64_t id) {
  if (id < 0) {
    out += "nil";
  } else {
    out += std::to_string(id);
  }
}
const char* boolText(bool b) { return b ? "true" : "false"; }
}  // namespace

std::string formatSchedTrace(const SchedSnapshot& s, bool detailed) {
  std::string out;
  out.reserve(256 + s.processors.size() * 96 + s.machines.size() * 160);
  out += "SCHED " + std::to_string(s.uptime_ms) + "ms: gomaxprocs=" +
         std::to_string(s.gomaxprocs) + " idleprocs=" + std::to_string(s.idleprocs) +
         " threads=" + std::to_string(s.threads) +
         " spinningthreads=" + std::to_string(s.spinningthreads) +
         " needspinning=" + std::to_string(s.needspinning) +
         " idlethreads=" + std::to_string(s.idlethreads) +
         " runqueue=" + std::to_string(s.runqueue);
  if (!detailed) {
    out += " [";
    for (size_t i = 0; i < s.processors.size(); i++) {
      if (i > 0) out += ' ';
      out += std::to_string(s.processors[i].runqsize);
    }
    out += "]\n";
    return out;
  }
  out += " gcwaiting=false nmidlelocked=" + std::to_string(s.nmidlelocked) +
         " stopwait=0 sysmonwait=" + boolText(s.sysmonwait) + "\n";
  for (const auto& p : s.processors) {
    out += "  P" + std::to_string(p.id) + ": status=" + std::to_string(p.status) +
           " schedtick=" + std::to_string(p.schedtick) +
           " syscalltick=" + std::to_string(p.syscalltick) + " m=";
    appendId(out, p.m);
    out += " runqsize=" + std::to_string(p.runqsize) + " gfreecnt=" +
           std::to_string(p.gfreecnt) + " timerslen=" + std::to_string(p.timerslen) + "\n";
  }
  for (const auto& m : s.machines) {
    out += "  M" + std::to_string(m.id) + ": p=";
    appendId(out, m.p);
    out += " curg=";
    appendId(out, m.curg);
    out += " mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=";
    out += boolText(m.spinning);
    out += " blocked=";
    out += boolText(m.blocked);
    out += " lockedg=";
    appendId(out, m.lockedg);
    out += "\n";
  }
  for (const auto& t : s.tasks) {
    out += "  G" + std::to_string(t.id) + ": status=" + std::to_string(t.status) + "(" +
           t.wait_reason + ") m=";
    appendId(out, t.m);
    out += " lockedm=";
    appendId(out, t.lockedm);
    out += "\n";
  }
  return out;
}

}  // namespace rt
