#include "app/resume.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace fastgpu::app {

ResumePlan plan_resume(const Results& old, const std::vector<TaskRecord>& fresh) {
  ResumePlan plan;
  plan.old_job = old.job;
  plan.workers = old.workers;
  plan.reductions = old.reductions;
  std::map<std::string, std::size_t> old_index;
  for (std::size_t i = 0; i < old.tasks.size(); ++i) old_index.emplace(old.tasks[i].id, i);
  std::vector<std::int64_t> new_index(old.tasks.size(), -1);  // old row -> new row, -1 = dropped
  std::vector<std::int32_t> highest(old.tasks.size(), -1);    // highest attempt number recorded
  for (const auto& attempt : old.attempts) {
    if (attempt.task >= 0 && static_cast<std::size_t>(attempt.task) < old.tasks.size()) {
      highest[attempt.task] = std::max(highest[attempt.task], attempt.attempt);
    }
  }

  plan.records = fresh;
  plan.next_attempts.assign(fresh.size(), 0);
  std::vector<AttemptRecord> lost_in_flight;
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    auto it = old_index.find(fresh[i].id);
    if (it == old_index.end() || old.tasks[it->second].params != fresh[i].params) continue;
    const std::size_t o = it->second;
    const TaskRecord& before = old.tasks[o];
    new_index[o] = static_cast<std::int64_t>(i);
    ++plan.kept;
    std::int32_t next = std::max(before.attempts, highest[o] + 1);
    if (before.status == TaskStatus::done) {
      plan.records[i] = before;
      ++plan.done;
    } else {
      if (before.status == TaskStatus::running && highest[o] < before.attempts) {
        // Started and never reported back: the run ended (was killed) while it ran.
        AttemptRecord attempt;
        attempt.task = static_cast<std::int64_t>(i);
        attempt.attempt = next++;
        attempt.worker = before.worker;
        attempt.start = before.start;
        attempt.status = AttemptStatus::interrupted;
        attempt.error = "in flight when the earlier run ended";
        lost_in_flight.push_back(std::move(attempt));
      }
      plan.records[i].attempts = next;
    }
    plan.next_attempts[i] = next;
  }
  plan.dropped = old.tasks.size() - plan.kept;

  std::vector<std::int32_t> checkpoint_attempt(fresh.size(), -1);
  for (AttemptRecord attempt : old.attempts) {
    if (attempt.task < 0 || static_cast<std::size_t>(attempt.task) >= old.tasks.size()) continue;
    if (new_index[attempt.task] < 0) continue;
    attempt.task = new_index[attempt.task];
    if (attempt.status == AttemptStatus::running) attempt.status = AttemptStatus::interrupted;
    // The latest state a checkpointable kernel left is where the subtask continues.
    const auto task = static_cast<std::uint32_t>(attempt.task);
    if (!attempt.checkpoint.empty() && plan.records[task].status != TaskStatus::done &&
        attempt.attempt >= checkpoint_attempt[task]) {
      checkpoint_attempt[task] = attempt.attempt;
      plan.checkpoints[task] = attempt.checkpoint;
    }
    plan.attempts.push_back(std::move(attempt));
  }
  for (auto& attempt : lost_in_flight) plan.attempts.push_back(std::move(attempt));
  for (EventRecord event : old.events) {
    if (event.task >= 0) {
      if (static_cast<std::size_t>(event.task) >= old.tasks.size() || new_index[event.task] < 0) continue;
      event.task = new_index[event.task];
    }
    plan.events.push_back(std::move(event));
  }
  plan.telemetry = old.telemetry;
  return plan;
}

void replay(const ResumePlan& plan, ResultsSink& sink) {
  for (const auto& worker : plan.workers) sink.add_worker(worker);
  for (const auto& attempt : plan.attempts) sink.add_attempt(attempt);
  for (const auto& event : plan.events) sink.add_event(event);
  sink.add_telemetry(plan.telemetry);
}

std::filesystem::path resume_temp_path(const std::filesystem::path& output) {
  auto temp = output;
  temp += ".resume-tmp";
  return temp;
}

}  // namespace fastgpu::app
