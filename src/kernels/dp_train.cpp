// dp_train: data-parallel logistic regression. Each member of the subtask's communicator holds
// its own shard of a seed-determined data set (dp_train_data.hpp), computes the mean gradient of
// its batch, and the members all-reduce gradients and loss every step, so all of them apply the
// same update and end with the same weights. Checkpointable between steps: the state is the step,
// the weights and the loss curve so far, and a restored run continues bit for bit.
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "kernels/dp_train_steps.hpp"
#include "kernels/kernel_factories.hpp"

namespace fastgpu::kernels {
namespace {

/// A state checkpoint() writes and restore() reads: the step, then two length-prefixed arrays.
class StateWriter {
 public:
  template <class T>
  void put(const T& value) {
    const auto* raw = reinterpret_cast<const std::byte*>(&value);
    bytes_.insert(bytes_.end(), raw, raw + sizeof(T));
  }
  void put_array(const std::vector<double>& values) {
    put(static_cast<std::uint64_t>(values.size()));
    for (const double value : values) put(value);
  }
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

class StateReader {
 public:
  explicit StateReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    if (bytes_.size() < sizeof(T)) throw KernelError("dp_train: the checkpoint is truncated");
    T value;
    std::memcpy(&value, bytes_.data(), sizeof(T));
    bytes_ = bytes_.subspan(sizeof(T));
    return value;
  }
  std::vector<double> get_array() {
    const auto size = get<std::uint64_t>();
    if (size > bytes_.size() / sizeof(double)) throw KernelError("dp_train: the checkpoint is truncated");
    std::vector<double> values(size);
    for (double& value : values) value = get<double>();
    return values;
  }
  bool done() const { return bytes_.empty(); }

 private:
  std::span<const std::byte> bytes_;
};

DpTrainProblem problem_from(const KernelArgs& args, const Communicator& communicator) {
  DpTrainProblem problem;
  const std::int64_t seed = args.integer("seed", 0);
  const std::int64_t features = args.integer("features", 16);
  problem.samples = args.integer("samples", 4096);
  problem.batch = args.integer("batch", 0);
  if (seed < 0) throw KernelError("dp_train: seed must be >= 0");
  if (features < 1 || features > 4096) throw KernelError("dp_train: features must be between 1 and 4096");
  if (problem.samples < 1) throw KernelError("dp_train: samples must be >= 1");
  if (problem.batch < 0) throw KernelError("dp_train: batch must be >= 1 (or left out for the whole shard)");
  problem.seed = static_cast<std::uint64_t>(seed);
  problem.features = static_cast<int>(features);
  problem.rank = communicator.rank();
  problem.size = communicator.size();
  return problem;
}

/// Rows of each member's shard of a shared data set: x holds R rows of `features` values, y R labels.
std::int64_t shard_rows(std::size_t x_values, std::size_t y_values, const DpTrainProblem& problem) {
  const auto features = static_cast<std::size_t>(problem.features);
  if (y_values == 0 || x_values != y_values * features) {
    throw KernelError("dp_train: x_input has " + std::to_string(x_values) + " values, not rows (" +
                      std::to_string(y_values) + ", the labels in y_input) x features (" + std::to_string(features) + ")");
  }
  if (y_values % static_cast<std::size_t>(problem.size) != 0) {
    throw KernelError("dp_train: the " + std::to_string(y_values) + " rows of the data set do not split evenly over " +
                      std::to_string(problem.size) + " GPUs");
  }
  return static_cast<std::int64_t>(y_values / static_cast<std::size_t>(problem.size));
}

class DpTrainKernel final : public fastgpu::Kernel {
 public:
  bool checkpointable() const override { return true; }

  void run(Context& context) override {
    const KernelArgs& args = context.args();
    Communicator& communicator = context.communicator();
    DpTrainProblem problem = problem_from(args, communicator);
    if (args.has("x_input") != args.has("y_input")) throw KernelError("dp_train: give both x_input and y_input, or neither");
    const std::int64_t steps = args.integer("steps", 100);
    const double lr = args.number("lr", 0.5);
    if (steps < 1) throw KernelError("dp_train: steps must be >= 1");
    const auto weights = static_cast<std::size_t>(problem.features) + 1;
    if (!restored_) {
      weights_.assign(weights, 0.0);
    } else if (weights_.size() != weights || curve_.size() != static_cast<std::size_t>(step_)) {
      throw KernelError("dp_train: the checkpoint does not match the args (features = " +
                        std::to_string(problem.features) + ")");
    }

    Device& device = context.device();
    DeviceBuffer<double> x, y;  // the synthetic shard; unused with shared inputs
    const double* shard_x = nullptr;
    const double* shard_y = nullptr;
    if (args.has("x_input")) {
      // A shared data set ([[input]], already in this GPU's memory): member r trains on rows
      // r*R/k .. (r+1)*R/k-1 of it, in place.
      const std::span<const double> all_x = context.input(args.string("x_input"));
      const std::span<const double> all_y = context.input(args.string("y_input"));
      problem.samples = shard_rows(all_x.size(), all_y.size(), problem);
      const auto first = static_cast<std::size_t>(problem.rank) * static_cast<std::size_t>(problem.samples);
      shard_x = all_x.data() + first * static_cast<std::size_t>(problem.features);
      shard_y = all_y.data() + first;
    } else {
      const std::size_t shard = static_cast<std::size_t>(problem.samples);
      x = DeviceBuffer<double>(device, shard * static_cast<std::size_t>(problem.features));
      y = DeviceBuffer<double>(device, shard);
      dp_generate_shard(device, problem, x.data(), y.data());
      shard_x = x.data();
      shard_y = y.data();
    }
    DeviceBuffer<double> w(device, weights), buffer(device, problem.buffer_size());
    DeviceBuffer<double> scratch(device, 2 * static_cast<std::size_t>(problem.rows_per_step()));
    device.copy_to_device(w.data(), weights_.data(), w.bytes());

    const int size = communicator.size();
    while (step_ < steps) {
      dp_local_gradient(device, problem, step_, shard_x, shard_y, w.data(), buffer.data(), scratch.data());
      // The members stop together: any member's stop request travels with the gradients, and a
      // step that sees one is dropped, so the checkpoint is the same on every member.
      const double stop = context.stop_requested() ? 1.0 : 0.0;
      device.copy_to_device(buffer.data() + weights + 1, &stop, sizeof(stop));
      device.synchronize();
      communicator.all_reduce(buffer.data(), buffer.size(), ReduceOp::sum);
      double loss_and_stop[2];
      device.copy_to_host(loss_and_stop, buffer.data() + weights, sizeof(loss_and_stop));
      if (loss_and_stop[1] > 0) break;
      curve_.push_back(loss_and_stop[0] / size);
      dp_apply_update(device, problem, w.data(), buffer.data(), lr / size);
      ++step_;
    }
    device.copy_to_host(weights_.data(), w.data(), w.bytes());
    if (step_ < steps || communicator.rank() != 0) return;  // stopped, or not the member that reports
    context.output("loss", curve_);
    context.output("weights", weights_);
    context.metric("loss_first", curve_.front());
    context.metric("loss_final", curve_.back());
  }

  std::vector<std::byte> checkpoint(Context& context) override {
    (void)context;
    StateWriter state;
    state.put(step_);
    state.put_array(weights_);
    state.put_array(curve_);
    return state.take();
  }

  void restore(Context& context, std::span<const std::byte> bytes) override {
    (void)context;
    StateReader state(bytes);
    step_ = state.get<std::int64_t>();
    weights_ = state.get_array();
    curve_ = state.get_array();
    if (!state.done() || step_ < 0) throw KernelError("dp_train: the checkpoint is malformed");
    restored_ = true;
  }

 private:
  std::int64_t step_ = 0;         ///< steps done
  std::vector<double> weights_;   ///< on the host: after run() returns, or from restore()
  std::vector<double> curve_;     ///< the global mean loss before each step's update
  bool restored_ = false;
};

}  // namespace

std::unique_ptr<fastgpu::Kernel> make_dp_train_kernel() { return std::make_unique<DpTrainKernel>(); }

}  // namespace fastgpu::kernels
