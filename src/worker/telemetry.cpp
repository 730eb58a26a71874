#include "worker/telemetry.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "worker/worker_loop.hpp"

namespace fastgpu::worker {
namespace {

double monotonic_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const double kTicksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
const double kPageBytes = static_cast<double>(sysconf(_SC_PAGESIZE));

/** @brief Every process on the node (a scan of /proc): the only portable way to find descendants. */
std::vector<ProcStat> all_processes() {
  std::vector<ProcStat> processes;
  DIR* proc = opendir("/proc");
  if (!proc) return processes;
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (auto stat = read_proc_stat(static_cast<pid_t>(pid))) processes.push_back(*stat);
  }
  closedir(proc);
  return processes;
}

}  // namespace

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so fields count from the last ')'.
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state) of proc(5)
  for (std::string field; fields >> field && f.size() < 22;) f.push_back(field);
  if (f.size() < 22) return std::nullopt;
  ProcStat stat;
  stat.pid = pid;
  stat.ppid = static_cast<pid_t>(std::atol(f[1].c_str()));
  // utime, stime, cutime, cstime (fields 14-17), in clock ticks.
  const double ticks = std::atof(f[11].c_str()) + std::atof(f[12].c_str()) + std::atof(f[13].c_str()) +
                       std::atof(f[14].c_str());
  stat.cpu_s = ticks / kTicksPerSecond;
  stat.rss_bytes = std::atof(f[21].c_str()) * kPageBytes;  // field 24, in pages
  return stat;
}

ProcessTreeSampler::ProcessTreeSampler() = default;

void ProcessTreeSampler::sample(TelemetrySample& out, double now_s) {
  const pid_t self = getpid();
  std::multimap<pid_t, const ProcStat*> children;
  const ProcStat* root = nullptr;
  const std::vector<ProcStat> processes = all_processes();
  for (const auto& p : processes) {
    if (p.pid == self) root = &p;
    children.emplace(p.ppid, &p);
  }
  if (!root) return;  // no /proc: leave NaN
  double cpu_s = 0, rss = 0;
  std::vector<const ProcStat*> todo{root};
  while (!todo.empty()) {
    const ProcStat* p = todo.back();
    todo.pop_back();
    cpu_s += p->cpu_s;
    rss += p->rss_bytes;
    auto [first, last] = children.equal_range(p->pid);
    for (auto it = first; it != last; ++it) todo.push_back(it->second);
  }
  out.rss_bytes = rss;
  // A descendant reaped by a process outside the tree takes its time with it: never below 0.
  if (last_cpu_s_ >= 0 && now_s > last_time_s_) {
    out.cpu_util = std::max(0.0, 100 * (cpu_s - last_cpu_s_) / (now_s - last_time_s_));
  }
  last_cpu_s_ = cpu_s;
  last_time_s_ = now_s;
}

std::string nvml_id(const WorkerRecord& worker) {
  if (worker.device.rfind("cuda:", 0) != 0) return "";
  if (!worker.gpu_uuid.empty()) return worker.gpu_uuid;
  // A build without CUDA knows only the CUDA_VISIBLE_DEVICES entry: a UUID, or an index (NVML
  // numbers GPUs in PCI order, CUDA by default too when every GPU is the same model).
  return worker.device.substr(5);
}

TelemetrySampler::TelemetrySampler(const WorkerRecord& self, double interval_s, double job_start_unix)
    : rank_(self.rank), interval_s_(interval_s), job_start_unix_(job_start_unix) {
  if (const std::string id = nvml_id(self); !id.empty()) {
    std::string why_not;
    gpu_ = NvmlDevice::open(id, why_not);
    if (!gpu_) {
      std::fprintf(stderr, "fastgpu: warning: rank %d (%s): no GPU telemetry, %s; recording CPU use only\n",
                   static_cast<int>(rank_), self.device.c_str(), why_not.c_str());
    }
  }
  TelemetrySample baseline;  // CPU use is a difference: the first sample needs a reading before it
  last_sample_s_ = monotonic_s();
  cpu_.sample(baseline, last_sample_s_);
  thread_ = std::thread([this] { run(); });
}

TelemetrySampler::~TelemetrySampler() { stop(); }

void TelemetrySampler::run() {
  std::unique_lock lock(mutex_);
  const auto interval = std::chrono::duration<double>(interval_s_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    sample_now();
    lock.lock();
  }
}

void TelemetrySampler::sample_now() {
  TelemetrySample sample;
  sample.worker = rank_;
  sample.time = seconds_since(job_start_unix_);
  last_sample_s_ = monotonic_s();
  cpu_.sample(sample, last_sample_s_);
  if (gpu_) gpu_->sample(sample);
  std::lock_guard lock(mutex_);
  samples_.push_back(sample);
}

std::vector<TelemetrySample> TelemetrySampler::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(samples_, {});
}

void TelemetrySampler::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // The end of the run gets a sample too, unless one was just taken (a CPU share over a few
  // milliseconds is mostly noise).
  if (monotonic_s() - last_sample_s_ >= interval_s_ / 2) sample_now();
}

}  // namespace fastgpu::worker
