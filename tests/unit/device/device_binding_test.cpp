// Which GPU a worker binds to (device::bind_worker), rule by rule, with Slurm's environment faked:
// each test sets the variables it needs and unsets the others, and the old values come back after.
#include "device/device_binding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fastgpu/error.hpp"
#include "support/scoped_env.hpp"

namespace fastgpu::device {
namespace {

using fastgpu::testing::ScopedEnv;

/// The Slurm variables bind_worker reads, set to the given values (nullptr: unset).
struct SlurmStep {
  ScopedEnv step_gpus;
  ScopedEnv gpus_on_node;
  SlurmStep(const char* step, const char* on_node)
      : step_gpus("SLURM_STEP_GPUS", step), gpus_on_node("SLURM_GPUS_ON_NODE", on_node) {}
};

std::string bound_gpu(int local_index, const std::vector<std::string>& gpus, bool share = false) {
  const DeviceBinding binding = bind_worker(local_index, gpus, "node1", share);
  EXPECT_EQ(binding.device, "cuda:" + binding.gpu.value_or("?"));
  return binding.gpu.value_or("none");
}

TEST(DeviceBinding, NoGpuMakesACpuSlot) {
  const SlurmStep slurm(nullptr, nullptr);
  for (int index : {0, 3}) {
    const DeviceBinding binding = bind_worker(index, {}, "node1");
    EXPECT_EQ(binding.device, "cpu");
    EXPECT_FALSE(binding.gpu);
  }
}

TEST(DeviceBinding, WorkerIndexPicksAmongTheVisibleGpus) {
  const SlurmStep slurm(nullptr, nullptr);
  const std::vector<std::string> gpus = {"4", "5", "6", "7"};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bound_gpu(i, gpus), gpus[static_cast<std::size_t>(i)]);
}

TEST(DeviceBinding, MoreWorkersThanGpusIsRefusedNamingTheWayOut) {
  const SlurmStep slurm(nullptr, nullptr);
  try {
    bind_worker(2, {"0", "1"}, "node1");
    FAIL() << "a third worker on two GPUs was accepted";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("host node1 runs 3+ workers but has only 2 GPU(s) visible"), std::string::npos) << message;
    EXPECT_NE(message.find("--share-gpus"), std::string::npos) << message;
    EXPECT_NE(message.find("--gpu-bind=single:1"), std::string::npos) << message;
  }
}

TEST(DeviceBinding, ShareGpusTakesThemInTurn) {
  const SlurmStep slurm(nullptr, nullptr);
  const std::vector<std::string> gpus = {"0", "1"};
  std::vector<std::string> bound;
  for (int i = 0; i < 5; ++i) bound.push_back(bound_gpu(i, gpus, true));
  EXPECT_EQ(bound, (std::vector<std::string>{"0", "1", "0", "1", "0"}));
}

// srun --gpus-per-task=1 / --gpu-bind=single:1 as Slurm 22.05 does it (seen on the local test
// cluster): the task sees only its GPU, SLURM_STEP_GPUS is narrowed alike, SLURM_GPUS_ON_NODE
// still counts the step's four.
TEST(DeviceBinding, TaskSlurmBoundToOneGpuUsesIt) {
  {
    const SlurmStep slurm("2", "4");
    EXPECT_EQ(bound_gpu(0, {"2"}), "2");
  }
  const SlurmStep slurm("3", "4");
  EXPECT_EQ(bound_gpu(3, {"3"}), "3");
  // With devices constrained by cgroups the task's one GPU is renumbered 0.
  EXPECT_EQ(bound_gpu(1, {"0"}), "0");
}

// map_gpu:0,0,1,1 puts two tasks on each GPU: Slurm's sharing, not refused without --share-gpus.
TEST(DeviceBinding, SlurmMayPutSeveralTasksOnOneGpu) {
  const SlurmStep slurm("0", "4");
  EXPECT_EQ(bound_gpu(0, {"0"}), "0");
  EXPECT_EQ(bound_gpu(1, {"0"}), "0");
}

// Where SLURM_STEP_GPUS lists the whole step's GPUs (its documented meaning), it shows the
// binding as well; it may be written with ranges.
TEST(DeviceBinding, StepGpusListingTheStepShowTheBindingToo) {
  const SlurmStep slurm("0-3,6", nullptr);
  EXPECT_EQ(slurm_step_gpus_on_node(), 5u);
  EXPECT_EQ(bound_gpu(4, {"6"}), "6");
}

TEST(DeviceBinding, TheStepCountIsTheLargerOfTheTwo) {
  const SlurmStep narrowed("1", "4");
  EXPECT_EQ(slurm_step_gpus_on_node(), 4u);
  const SlurmStep listed("0,1,2,3", "1");
  EXPECT_EQ(slurm_step_gpus_on_node(), 4u);
}

// The template's srun (no --gpu-bind) and mpirun show every task all the step's GPUs: the worker
// index decides, and too many workers are still refused.
TEST(DeviceBinding, TaskSeeingAllTheStepsGpusIndexesThem) {
  const SlurmStep slurm("0,1,2,3", "4");
  const std::vector<std::string> gpus = {"0", "1", "2", "3"};
  EXPECT_EQ(bound_gpu(0, gpus), "0");
  EXPECT_EQ(bound_gpu(3, gpus), "3");
  EXPECT_THROW(bind_worker(4, gpus, "node1"), UsageError);
  EXPECT_EQ(bound_gpu(5, gpus, true), "1");
}

TEST(DeviceBinding, OutsideAnSrunStepThereIsNoStepCount) {
  const SlurmStep slurm(nullptr, nullptr);
  EXPECT_FALSE(slurm_step_gpus_on_node());
  const SlurmStep empty("", "4");
  EXPECT_FALSE(slurm_step_gpus_on_node());
}

// In the batch script (SLURM_GPUS_ON_NODE=4, no SLURM_STEP_GPUS) a user who cut
// CUDA_VISIBLE_DEVICES down to two GPUs before mpirun gets the worker index rule, not sharing.
TEST(DeviceBinding, AListCutDownByHandInTheBatchScriptIsNoBinding) {
  const SlurmStep batch(nullptr, "4");
  EXPECT_EQ(bound_gpu(1, {"0", "1"}), "1");
  EXPECT_THROW(bind_worker(2, {"0", "1"}, "node1"), UsageError);
}

}  // namespace
}  // namespace fastgpu::device
