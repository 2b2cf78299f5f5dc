// What machine a run measured, and pinning threads to CPUs.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_MACHINE_H_
#define VIXBREAKER_TOOLS_VIXBENCH_MACHINE_H_

#include <string>
#include <vector>

namespace vix::bench {

struct MachineInfo {
  std::string cpu_model;  // /proc/cpuinfo "model name"
  int cores = 0;          // online CPUs
  std::string kernel;     // uname -srm
  std::string hostname;
  std::string clocksource;     // tsc, kvm-clock, ...
  bool hypervisor = false;     // "hypervisor" cpu flag: a virtual machine
  bool invariant_tsc = false;  // constant_tsc and nonstop_tsc
  double load_average_1m = 0;  // other work on the machine at the start
};

MachineInfo DescribeMachine();

// The CPUs this process may run on, in order.
std::vector<int> AllowedCpus();

// Pins the calling thread (not the whole process) to `cpu`; false if the
// kernel refused (a cpuset that excludes it, for example).
bool PinThisThread(int cpu);
// Lets the calling thread run on any of `cpus` again.
bool UnpinThisThread(const std::vector<int>& cpus);

// Unpins the calling thread for a scope (so threads it starts, which
// inherit its affinity, may run anywhere), then pins it to `pin_back`.
class ScopedUnpin {
 public:
  ScopedUnpin(const std::vector<int>& cpus, int pin_back)
      : pin_back_(pin_back) {
    UnpinThisThread(cpus);
  }
  ~ScopedUnpin() {
    if (pin_back_ >= 0) PinThisThread(pin_back_);
  }
  ScopedUnpin(const ScopedUnpin&) = delete;
  ScopedUnpin& operator=(const ScopedUnpin&) = delete;

 private:
  int pin_back_;
};

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_MACHINE_H_
