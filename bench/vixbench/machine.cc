#include "machine.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace vix::bench {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The value of the first "key : value" line of /proc/cpuinfo.
std::string CpuinfoField(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (absl::StripAsciiWhitespace(kv.first) == key) {
      return std::string(absl::StripAsciiWhitespace(kv.second));
    }
  }
  return "";
}

bool HasCpuFlag(const std::string& flags, absl::string_view flag) {
  for (absl::string_view f : absl::StrSplit(flags, ' ')) {
    if (f == flag) return true;
  }
  return false;
}

}  // namespace

MachineInfo DescribeMachine() {
  MachineInfo m;
  m.cpu_model = CpuinfoField("model name");
  m.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  utsname u;
  if (uname(&u) == 0) {
    m.kernel = absl::StrCat(u.sysname, " ", u.release, " ", u.machine);
    m.hostname = u.nodename;
  }
  m.clocksource = FirstLine(
      "/sys/devices/system/clocksource/clocksource0/current_clocksource");
  const std::string flags = CpuinfoField("flags");
  m.hypervisor = HasCpuFlag(flags, "hypervisor");
  m.invariant_tsc =
      HasCpuFlag(flags, "constant_tsc") && HasCpuFlag(flags, "nonstop_tsc");
  double load[1];
  if (getloadavg(load, 1) == 1) m.load_average_1m = load[0];
  return m;
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

bool PinThisThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

bool UnpinThisThread(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

}  // namespace vix::bench
