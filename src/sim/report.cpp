#include "sim/report.hpp"

#include <cstdio>
#include <sstream>

#include "fastgpu/error.hpp"
#include "io/hdf5_attributes.hpp"
#include "io/hdf5_handle.hpp"

namespace fastgpu::sim {
namespace {

nlohmann::json dist_json(const Distribution& d) {
  return {{"count", d.count}, {"avg", d.avg}, {"p50", d.p50}, {"p99", d.p99}, {"max", d.max}};
}

nlohmann::json cost_json(const CallCost& c) {
  return {{"calls", c.calls}, {"wall_s", c.wall_s}, {"cpu_s", c.cpu_s},     {"mean_s", c.mean_s()},
          {"p50_s", c.p50_s}, {"p99_s", c.p99_s},   {"max_s", c.max_s}};
}

std::string seconds(double s) {
  char buf[64];
  if (s >= 86400 * 2) {
    std::snprintf(buf, sizeof buf, "%.1f d", s / 86400);
  } else if (s >= 7200) {
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  } else if (s >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g s", s);
  }
  return buf;
}

std::string micro(double s) {
  char buf[64];
  if (s < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.2f us", s * 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  }
  return buf;
}

}  // namespace

nlohmann::json to_json(const SimResult& r, const SimConfig& config, const std::string& source,
                       const std::vector<std::string>& notes) {
  nlohmann::json speeds = nlohmann::json::object();
  double slowest = 1e300, fastest = 0;
  for (double s : config.speeds) {
    slowest = std::min(slowest, s);
    fastest = std::max(fastest, s);
  }
  if (config.speeds.empty()) slowest = fastest = 1;
  const double per_decision = r.decisions.mean_s();
  return {
      {"source", source},
      {"notes", notes},
      {"workers", config.workers},
      {"gpus_per_node", config.gpus_per_node},
      {"policy", scheduler::to_string(config.scheduler.policy)},
      {"speed_sum", r.speed_sum},
      {"speed_min", slowest},
      {"speed_max", fastest},
      {"latency_s", config.latency_s},
      {"fail_rate", config.fail_rate},
      {"seed", config.seed},
      {"subtasks", r.subtasks},
      {"done", r.done},
      {"failed", r.failed},
      {"too_wide", r.too_wide},
      {"stalled", r.stalled},
      {"makespan_s", r.makespan_s},
      {"lower_bound_s", r.lower_bound_s},
      {"efficiency", r.efficiency},
      {"total_work_s", r.total_work_s},
      {"wait_s", dist_json(r.wait_s)},
      {"completion_s", dist_json(r.completion_s)},
      {"attempts", r.attempts},
      {"failed_attempts", r.failed_attempts},
      {"injected_failures", r.injected_failures},
      {"missed_failures", r.missed_failures},
      {"retries", r.retries},
      {"assigns", r.assigns},
      {"migrations", r.migrations},
      {"retract_failed", r.retract_failed},
      {"rebalance_rounds_with_moves", r.rebalances},
      {"speculations", r.speculations},
      {"speculation_won", r.speculation_won},
      {"superseded", r.superseded},
      {"cancelled", r.cancelled},
      {"events", r.events},
      {"scheduler",
       {{"decision", cost_json(r.decisions)},
        {"rebalance_round", cost_json(r.rebalance)},
        {"wall_s", r.scheduler_wall_s},
        {"decisions_per_s", per_decision > 0 ? 1 / per_decision : 0},
        {"placements_per_s", r.scheduler_wall_s > 0 ? static_cast<double>(r.assigns) / r.scheduler_wall_s : 0}}},
      {"simulation", {{"wall_s", r.wall_s}, {"cpu_s", r.cpu_s}, {"peak_rss_bytes", r.peak_rss_bytes}}},
  };
}

std::string summary_text(const SimResult& r, const SimConfig& config, const std::string& source,
                         const std::vector<std::string>& notes) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "simulated %s on %d virtual workers (%d per node), policy %s\n", source.c_str(),
                config.workers, config.gpus_per_node, scheduler::to_string(config.scheduler.policy));
  out << line;
  for (const auto& note : notes) out << "  note: " << note << "\n";
  std::snprintf(line, sizeof line, "subtasks: %zu done, %zu failed of %zu%s\n", r.done, r.failed, r.subtasks,
                r.stalled ? " (STALLED: the simulation ran out of events)" : "");
  out << line;
  if (r.too_wide > 0) {
    std::snprintf(line, sizeof line, "  %zu of them need more GPUs than the %d workers (fastgpu inspect: failures by cause)\n",
                  r.too_wide, config.workers);
    out << line;
  }
  std::snprintf(line, sizeof line, "makespan %s (virtual), lower bound %s, efficiency %.1f %%\n",
                seconds(r.makespan_s).c_str(), seconds(r.lower_bound_s).c_str(), 100 * r.efficiency);
  out << line;
  auto dist = [&](const char* what, const Distribution& d) {
    std::snprintf(line, sizeof line, "%-16s avg %s, p50 %s, p99 %s, max %s\n", what, seconds(d.avg).c_str(),
                  seconds(d.p50).c_str(), seconds(d.p99).c_str(), seconds(d.max).c_str());
    out << line;
  };
  dist("waiting time:", r.wait_s);
  dist("completion time:", r.completion_s);
  std::snprintf(line, sizeof line,
                "attempts %llu (failed %llu, injected failures %llu), retries %llu, migrations %llu, "
                "speculative copies %llu (won %llu)\n",
                static_cast<unsigned long long>(r.attempts), static_cast<unsigned long long>(r.failed_attempts),
                static_cast<unsigned long long>(r.injected_failures), static_cast<unsigned long long>(r.retries),
                static_cast<unsigned long long>(r.migrations), static_cast<unsigned long long>(r.speculations),
                static_cast<unsigned long long>(r.speculation_won));
  out << line;
  const double per = r.decisions.mean_s();
  std::snprintf(line, sizeof line,
                "scheduler: %llu decisions, %s each (p50 %s, p99 %s, max %s): %.0f decisions/s\n",
                static_cast<unsigned long long>(r.decisions.calls), micro(per).c_str(),
                micro(r.decisions.p50_s).c_str(), micro(r.decisions.p99_s).c_str(), micro(r.decisions.max_s).c_str(),
                per > 0 ? 1 / per : 0.0);
  out << line;
  std::snprintf(line, sizeof line, "rebalance rounds: %llu, %s each (p99 %s, max %s; CPU %s each)\n",
                static_cast<unsigned long long>(r.rebalance.calls), micro(r.rebalance.mean_s()).c_str(),
                micro(r.rebalance.p99_s).c_str(), micro(r.rebalance.max_s).c_str(),
                micro(r.rebalance.calls ? r.rebalance.cpu_s / static_cast<double>(r.rebalance.calls) : 0).c_str());
  out << line;
  std::snprintf(line, sizeof line, "simulation: %.2f s wall (scheduler %.2f s), %.2f s CPU, peak RSS %.0f MiB\n",
                r.wall_s, r.scheduler_wall_s, r.cpu_s, r.peak_rss_bytes / (1024.0 * 1024.0));
  out << line;
  return out.str();
}

void write_simulation_group(const std::filesystem::path& file, const nlohmann::json& summary) {
  io::h5::ErrorSilencer quiet;
  io::h5::File f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  if (!f) throw IoError("cannot open " + file.string() + " to add /simulation");
  io::h5::Group g(H5Gcreate2(f.get(), "simulation", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!g) throw IoError("cannot create /simulation in " + file.string());
  io::h5::write_string_attribute(g.get(), "summary", summary.dump(), file);
  for (const char* key : {"makespan_s", "lower_bound_s", "efficiency"}) {
    io::h5::write_double_attribute(g.get(), key, summary.at(key).get<double>(), file);
  }
  io::h5::write_int_attribute(g.get(), "workers", summary.at("workers").get<int>(), file);
  const auto& sched = summary.at("scheduler");
  io::h5::write_double_attribute(g.get(), "decision_mean_s", sched.at("decision").at("mean_s").get<double>(), file);
  io::h5::write_double_attribute(g.get(), "rebalance_round_mean_s",
                                 sched.at("rebalance_round").at("mean_s").get<double>(), file);
  io::h5::write_double_attribute(g.get(), "peak_rss_bytes",
                                 summary.at("simulation").at("peak_rss_bytes").get<double>(), file);
  g.reset();
  if (f.close() < 0) throw IoError("cannot close " + file.string() + " after adding /simulation");
}

}  // namespace fastgpu::sim
