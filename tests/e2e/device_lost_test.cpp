// End-to-end: a kernel attempt whose device becomes unusable (DeviceLostError, as the CUDA backend
// raises for an illegal address; here from tests/plugins/fault_plugin.cpp) retires its worker: the
// attempt is recorded failed with the cause, retried on another worker, the retired worker runs no
// more subtasks, and the job goes on. The reductions keep every done attempt's contribution, the
// retired worker's too (it sends its own totals; the others combine without it).
#include <algorithm>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

std::string job_text(int lose_at) {
  return std::string(R"(
[job]
name = "device-lost"
plugin = ")") + FASTGPU_FAULT_PLUGIN + R"("
[task]
kernel = "test_lose_device"
retries = 2
[task.args]
index = "{i}"
lose_at = ")" + std::to_string(lose_at) + R"("
[[reduce]]
name = "count"
op = "sum"
[sweep]
i = { range = [0, 12] }
)";
}

class DeviceLostTest : public CliTest {
 protected:
  static const EventRecord* find_event(const Results& results, const std::string& kind) {
    auto it = std::ranges::find_if(results.events, [&](const EventRecord& e) { return e.kind == kind; });
    return it == results.events.end() ? nullptr : &*it;
  }

  // The job went on without the retired worker, and lost nothing.
  void expect_retired_and_recovered(const std::string& file) {
    const Results results = io::read_results(path(file));
    for (const TaskRecord& task : results.tasks) EXPECT_EQ(task.status, TaskStatus::done) << task.id;
    const EventRecord* retired = find_event(results, "worker_retired");
    ASSERT_NE(retired, nullptr) << "no worker_retired event";
    const int lost_worker = retired->from;
    EXPECT_NE(retired->detail.find("illegal memory access"), std::string::npos) << retired->detail;

    std::vector<const AttemptRecord*> of_lost_task;
    for (const AttemptRecord& a : results.attempts) {
      if (a.task == 5) of_lost_task.push_back(&a);
      // Nothing started on the retired worker after its device was lost.
      if (a.worker == lost_worker) EXPECT_LE(a.start, retired->time) << "task " << a.task;
    }
    ASSERT_EQ(of_lost_task.size(), 2u);
    EXPECT_EQ(of_lost_task[0]->status, AttemptStatus::failed);
    EXPECT_EQ(of_lost_task[0]->worker, lost_worker);
    EXPECT_NE(of_lost_task[0]->error.find("the device is unusable"), std::string::npos) << of_lost_task[0]->error;
    EXPECT_EQ(of_lost_task[1]->status, AttemptStatus::done);
    EXPECT_NE(of_lost_task[1]->worker, lost_worker);

    ASSERT_EQ(results.reductions.size(), 1u);
    EXPECT_EQ(results.reductions[0].contributions, 12) << "one per done attempt, the retired worker's too";
    EXPECT_EQ(results.reductions[0].values, std::vector<double>{12});
  }
};

TEST_F(DeviceLostTest, TheWorkerRetiresAndTheJobGoesOnWithThreads) {
  auto run = fastgpu({"run", write("job.toml", job_text(5)), "--workers", "3", "--policy", "greedy", "-o", "out.h5",
                      "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_retired_and_recovered("out.h5");
}

TEST_F(DeviceLostTest, TheWorkerRetiresAndTheJobGoesOnUnderMpi) {
  auto run = mpi_fastgpu(4, {"run", write("job.toml", job_text(5)), "--policy", "greedy", "-o", "out.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_retired_and_recovered("out.h5");
}

TEST_F(DeviceLostTest, WithNoWorkerLeftWhatIsLeftFailsWithTheCause) {
  auto run = fastgpu({"run", write("job.toml", job_text(5)), "--workers", "1", "--policy", "greedy", "-o", "out.h5",
                      "--quiet"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const Results results = io::read_results(path("out.h5"));
  ASSERT_NE(find_event(results, "worker_retired"), nullptr);
  int done = 0, failed = 0;
  for (const TaskRecord& task : results.tasks) {
    done += task.status == TaskStatus::done;
    failed += task.status == TaskStatus::failed;
  }
  EXPECT_EQ(done + failed, 12) << "every subtask settled: none left pending forever";
  EXPECT_GE(failed, 1);
  ASSERT_EQ(results.reductions.size(), 1u);
  EXPECT_EQ(results.reductions[0].contributions, done) << "the done attempts before the loss still count";

  auto inspect = fastgpu({"inspect", "out.h5"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("no worker left"), std::string::npos) << inspect.out;
}

}  // namespace
}  // namespace fastgpu::e2e
