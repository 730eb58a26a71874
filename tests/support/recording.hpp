// Test doubles: a MessageSink that records what the scheduler sends, and a ResultsSink that keeps
// rows in memory.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "comm/transport.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::testing {

class RecordingSink final : public comm::MessageSink {
 public:
  void send(int to, const comm::Message& message) override { sent.emplace_back(to, message); }
  /// The launches sent to `worker` so far, in order; clears them when `take` is true.
  std::vector<comm::TaskLaunch> launches_to(int worker, bool take = true) {
    std::vector<comm::TaskLaunch> out;
    for (auto it = sent.begin(); it != sent.end();) {
      const auto* assign = std::get_if<comm::AssignTasks>(&it->second);
      if (it->first == worker && assign) {
        out.insert(out.end(), assign->tasks.begin(), assign->tasks.end());
        if (take) {
          it = sent.erase(it);
          continue;
        }
      }
      ++it;
    }
    return out;
  }
  std::vector<std::pair<int, comm::Message>> sent;
};

class MemoryResults final : public ResultsSink {
 public:
  void add_worker(const WorkerRecord& worker) override { workers.push_back(worker); }
  void update_task(std::size_t index, const TaskRecord& task) override { tasks[index] = task; }
  void add_attempt(const AttemptRecord& attempt) override { attempts.push_back(attempt); }
  void add_event(const EventRecord& event) override { events.push_back(event); }
  std::vector<WorkerRecord> workers;
  std::map<std::size_t, TaskRecord> tasks;
  std::vector<AttemptRecord> attempts;
  std::vector<EventRecord> events;
};

}  // namespace fastgpu::testing
