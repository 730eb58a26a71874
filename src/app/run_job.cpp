// `fastgpu run`: picks the transport (MPI under a launcher, threads otherwise), does every check
// before any rank starts work, then runs the scheduler on rank 0 and workers everywhere else.
#include <mpi.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <optional>
#include <filesystem>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/job_reductions.hpp"
#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/prepared_job.hpp"
#include "app/progress_line.hpp"
#include "app/run_report.hpp"
#include "app/resume.hpp"
#include "app/scheduler_loop.hpp"
#include "app/stop_signals.hpp"
#include "comm/in_process_transport.hpp"
#include "comm/mpi_transport.hpp"
#include "comm/collectives.hpp"
#include "device/device_binding.hpp"
#include "device/device_factory.hpp"
#include "device/topology.hpp"
#include "fastgpu/config.hpp"
#include "io/input_dataset.hpp"
#include "job/plugin_loader.hpp"
#include "worker/child_guard.hpp"
#include "worker/kernel_attempt.hpp"
#include "worker/synthetic_kernels.hpp"
#include "worker/worker_loop.hpp"

namespace fastgpu::app {
namespace {

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name)) return true;
  }
  return false;
}

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

worker::WorkerConfig worker_config(int rank, int local_rank, const device::DeviceBinding& binding,
                                   const RunOptions& options) {
  worker::WorkerConfig config;
  // Workers on this node, to share its cores out (device/topology.hpp): --workers threads here; under
  // MPI every rank on the node (the launcher's count, the scheduler's rank included); 0 = unknown.
  int on_node = 0;
  if (!launched_by_mpi()) {
    on_node = options.workers > 0 ? options.workers : std::max<int>(1, static_cast<int>(device::visible_gpus().size()));
  } else {
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}) {
      if (const char* value = std::getenv(name); value && on_node == 0) on_node = std::atoi(value);
    }
  }
  const device::Placement placement = device::plan_placement(binding, local_rank, on_node);
  config.self = {rank, host_name(), local_rank, binding.device, binding.gpu_name, binding.gpu_uuid,
                 placement.pci_bus_id, placement.numa_node, placement.cpu_set};
  // The binding is per thread: done by the worker's own thread when it starts (FASTGPU_PIN=0: never).
  config.on_start = [placement] {
    std::string why_not;
    if (placement.pinned && !device::pin_current_thread(placement, why_not)) {
      std::cerr << "fastgpu: warning: worker not pinned to CPUs " << placement.cpu_set << ": " << why_not << std::endl;
    }
  };
  if (binding.gpu) config.env.emplace_back("CUDA_VISIBLE_DEVICES", *binding.gpu);
  config.env.emplace_back("FASTGPU_WORKER", std::to_string(rank));
  config.kill_grace_s = options.kill_grace_s;
  config.stop_grace_s = options.stop_grace_s;
  config.telemetry_interval_s = options.telemetry_interval_s;
  config.kernels.slowdown = worker::slowdown_for_rank(std::getenv("FASTGPU_SLOWDOWN"), rank);
  config.make_device = [binding] { return std::shared_ptr<fastgpu::Device>(device::make_device(binding)); };
  config.read_input = io::read_input;
  return config;
}

// The most GPUs one subtask of the job asks for (`gpus`).
int widest_subtask(const std::vector<Subtask>& subtasks) {
  int widest = 1;
  for (const Subtask& subtask : subtasks) widest = std::max(widest, subtask.gpus);
  return widest;
}

// Workers talk among themselves (collectives) for reductions, shared inputs, multi-GPU subtasks,
// and the states of kernel subtasks that move while they run (in-flight migration).
bool needs_collectives(const PreparedJob& prepared) {
  const JobSpec& job = prepared.job;
  return !job.reductions.empty() || !job.inputs.empty() || widest_subtask(prepared.subtasks) > 1 ||
         !job.task.kernel.empty();
}

// A subtask wider than the whole run would wait forever: refused before anything starts.
void check_gang_width(const PreparedJob& prepared, int workers) {
  const int widest = widest_subtask(prepared.subtasks);
  if (widest > workers) {
    throw UsageError(prepared.job.source_path + ": a subtask asks for gpus = " + std::to_string(widest) +
                     ", but this run has " + std::to_string(workers) + " worker" + (workers == 1 ? "" : "s") +
                     " (one per GPU): start more (--workers, mpirun -np, Slurm --gpus) or lower gpus");
  }
}

// What MPI workers need of the job file, which only rank 0 reads: its plugins, its reductions,
// and whether they need collectives.
std::string job_setup_text(const PreparedJob& prepared) {
  const JobSpec& job = prepared.job;
  nlohmann::json setup{{"plugins", job.plugins},
                       {"reductions", nlohmann::json::array()},
                       {"inputs", nlohmann::json::array()},
                       {"collectives", needs_collectives(prepared)}};
  for (const InputSpec& i : job.inputs) setup["inputs"].push_back({{"name", i.name}, {"file", i.file}, {"dataset", i.dataset}});
  for (const ReductionSpec& r : job.reductions) {
    setup["reductions"].push_back({{"name", r.name}, {"op", r.op}, {"size", r.size}});
  }
  return setup.dump();
}

// On a worker rank: loads the job's plugins (so their kernels can run here) and takes its
// reductions; true when the workers need collectives.
bool apply_job_setup(const std::string& text, worker::WorkerConfig& config) {
  const nlohmann::json setup = nlohmann::json::parse(text);
  for (const auto& plugin : setup.at("plugins")) job::load_plugin(plugin.get<std::string>());
  for (const auto& r : setup.at("reductions")) {
    config.reductions.push_back(
        {r.at("name").get<std::string>(), r.at("op").get<std::string>(), r.at("size").get<std::size_t>()});
  }
  for (const auto& i : setup.at("inputs")) {
    config.inputs.push_back(
        {i.at("name").get<std::string>(), i.at("file").get<std::string>(), i.at("dataset").get<std::string>()});
  }
  return setup.at("collectives").get<bool>();
}

void broadcast_text(std::string& text, int rank) {
  unsigned long long size = text.size();
  comm::check_mpi(MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  if (rank != 0) text.assign(size, '\0');
  comm::check_mpi(MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
}

// The workers' communicator for reductions: NCCL when every worker has a CUDA GPU (and the build
// has NCCL), else MPI. Collective over the worker ranks.
std::shared_ptr<comm::Collectives> worker_collectives(MPI_Comm workers, fastgpu::Device& device) {
  int all_cuda = device.kind() == fastgpu::DeviceKind::cuda ? 1 : 0;
  comm::check_mpi(MPI_Allreduce(MPI_IN_PLACE, &all_cuda, 1, MPI_INT, MPI_MIN, workers), "MPI_Allreduce");
  if (FASTGPU_HAVE_NCCL && all_cuda == 1) {
    return comm::make_nccl_collectives(workers, device.ordinal(), device.stream());
  }
  return comm::make_mpi_collectives(workers);
}

// Between the scheduler and the writer on a resumed run: a worker already listed in /workers
// with the same host and device is not listed twice.
class ResumeSink final : public ResultsSink {
 public:
  ResumeSink(ResultsSink& writer, const std::vector<WorkerRecord>& known) : writer_(writer), known_(known) {}
  void add_worker(const WorkerRecord& worker) override {
    for (const auto& k : known_) {
      if (k.rank == worker.rank && k.host == worker.host && k.device == worker.device) return;
    }
    writer_.add_worker(worker);
  }
  void update_task(std::size_t index, const TaskRecord& task) override { writer_.update_task(index, task); }
  void add_attempt(const AttemptRecord& attempt) override { writer_.add_attempt(attempt); }
  void add_event(const EventRecord& event) override { writer_.add_event(event); }

 private:
  ResultsSink& writer_;
  std::vector<WorkerRecord> known_;
};

// Creates the results file, runs the scheduler over `transport` and prints the summary.
// `abandon` runs after the file is finished when a second stop signal cut the run short.
int run_scheduler(comm::Transport& transport, PreparedJob& prepared, io::ResultsWriter& writer,
                  const RunOptions& options, double started_unix, const ResumePlan* resume,
                  const std::function<void()>& abandon) {
  const double run_began = unix_now();
  std::filesystem::create_directories(prepared.job.output_dir);
  scheduler::SchedulerConfig config;
  config.policy = scheduler::parse_policy(options.policy);
  config.prefetch = options.prefetch;
  config.expected_workers = transport.size() - 1;
  config.rebalance_interval_s = options.rebalance_interval_s;
  config.speculation = options.speculation == "on" || (options.speculation == "auto" && !prepared.job.task.kernel.empty());
  // Two copies of a subtask could both end done and both add into a reduction.
  if (!prepared.job.reductions.empty()) config.speculation = false;
  const auto kernel = worker::make_compute_kernel(prepared.job.task.kernel);  // none: a synthetic one
  config.running_migration = kernel && kernel->checkpointable();
  std::optional<ResumeSink> resume_sink;
  if (resume) resume_sink.emplace(writer, resume->workers);
  ResultsSink& sink = resume_sink ? static_cast<ResultsSink&>(*resume_sink) : writer;
  scheduler::Scheduler scheduler(prepared.job, prepared.subtasks, config, transport, sink,
                                 prepared.history ? &*prepared.history : nullptr);
  if (resume) {
    scheduler.resume_from(resume->records, resume->next_attempts);
    scheduler.resume_checkpoints(resume->checkpoints);
  }
  std::optional<RunProgress> progress;
  if (!options.quiet) {
    progress.emplace(std::cerr, isatty(STDERR_FILENO) == 1, options.progress_interval_s, run_began - started_unix);
  }
  auto on_step = [&](double now) {
    if (progress) progress->tick(scheduler, now);
  };
  const auto& deadline = prepared.deadline;
  std::optional<double> stop_at;
  if (deadline) {
    stop_at = stop_time(*deadline, options.stop_grace_s) - started_unix;
    sink.add_event({unix_now() - started_unix, "deadline", -1, -1, -1,
                    "deadline " + iso_time(deadline->unix_time) + " from " + deadline->source +
                        "; no subtask starts unless predicted to end before " + iso_time(*stop_at + started_unix) +
                        " (less --grace " + format_short_duration(options.stop_grace_s) + " and 1s to shut down)"});
    scheduler.set_deadline(*stop_at);
  }
  std::vector<ReductionValue> combined;
  const DriveOutcome outcome =
      drive_scheduler(transport, scheduler, writer, started_unix, stop_requests, on_step, stop_at, &combined);
  if (progress) progress->finish(scheduler, unix_now() - started_unix);
  writer.write_model(scheduler.model_snapshot());
  if (!prepared.job.reductions.empty()) {
    // --force may rerun subtasks whose earlier contributions are already in: start over then.
    const bool keep_earlier = resume && !options.force;
    writer.write_reductions(
        merge_reductions(prepared.job.reductions, keep_earlier ? resume->reductions : std::vector<ReductionValue>{},
                         combined));
  }
  const double finished_unix = unix_now();
  int code = print_summary(std::cout, std::cerr, prepared, scheduler, finished_unix - run_began, options.quiet);
  if (outcome != DriveOutcome::finished) {
    code = kExitStopped;
    std::cerr << "fastgpu: "
              << (outcome == DriveOutcome::deadline ? "stopped before the deadline (" + deadline->source + ")"
                  : outcome == DriveOutcome::abandoned ? std::string("stopped by a signal (at once)")
                                                       : std::string("stopped by a signal"))
              << "; continue with: fastgpu run " << options.job_file << " -o " << prepared.output.string()
              << " --resume" << std::endl;
  }
  writer.finish(code == kExitOk ? "done" : code == kExitStopped ? "stopped" : "failed", iso_time(finished_unix));
  if (outcome == DriveOutcome::abandoned && abandon) abandon();
  return code;
}

// --resume: builds the new file under a temporary name from the old one's records, then renames
// it over the old one (atomic: OUT.h5 is always one complete file, old or new).
std::unique_ptr<io::ResultsWriter> create_resumed_writer(const PreparedJob& prepared, const ResumePlan& plan,
                                                         const std::string& transport) {
  JobInfo info = make_job_info(prepared, plan.old_job.started_unix, transport);
  info.started = plan.old_job.started;
  const auto temp = resume_temp_path(prepared.output);
  auto writer = io::ResultsWriter::create(temp, info, plan.records, /*overwrite=*/true);
  replay(plan, *writer);
  writer->add_event({unix_now() - plan.old_job.started_unix, "resume", -1, -1, -1,
                     std::to_string(plan.done) + " of " + std::to_string(plan.records.size()) +
                         " subtasks already done" +
                         (plan.dropped ? "; " + std::to_string(plan.dropped) + " earlier subtasks dropped" : "")});
  writer->rename(prepared.output);
  return writer;
}

std::unique_ptr<io::ResultsWriter> create_writer(const PreparedJob& prepared, double started_unix,
                                                 const std::string& transport, bool force,
                                                 std::optional<ResumePlan>& resume) {
  if (prepared.previous) {
    resume = plan_resume(*prepared.previous, scheduler::Scheduler::initial_records(prepared.subtasks));
    return create_resumed_writer(prepared, *resume, transport);
  }
  return io::ResultsWriter::create(prepared.output, make_job_info(prepared, started_unix, transport),
                                   scheduler::Scheduler::initial_records(prepared.subtasks), force);
}

int run_in_process(const RunOptions& options) {
  PreparedJob prepared = prepare_job(options);
  const auto gpus = device::visible_gpus();
  const int workers = options.workers > 0 ? options.workers : std::max<int>(1, static_cast<int>(gpus.size()));
  check_gang_width(prepared, workers);
  std::vector<worker::WorkerConfig> configs;
  for (int i = 0; i < workers; ++i) {
    configs.push_back(
        worker_config(i + 1, i, device::bind_worker(i, gpus, host_name(), options.share_gpus), options));
  }
  std::optional<ResumePlan> resume;
  auto writer = create_writer(prepared, unix_now(), "threads", options.force, resume);
  // A resumed run keeps the first run's clock, so all times in the file share one origin.
  const double started_unix = resume ? resume->old_job.started_unix : unix_now();
  for (auto& config : configs) config.stop_grace_s = options.stop_grace_s;
  if (!options.child_guard_exe.empty()) worker::start_child_guard(options.child_guard_exe);
  if (!options.quiet) print_start_line(std::cout, prepared, workers, "threads");

  if (needs_collectives(prepared)) {
    auto collectives = comm::make_thread_collectives(workers);
    for (int i = 0; i < workers; ++i) {
      configs[i].reductions = prepared.job.reductions;
      configs[i].inputs = prepared.job.inputs;
      configs[i].collectives = std::move(collectives[i]);
    }
  }
  comm::InProcessHub hub(workers + 1);
  std::vector<std::jthread> threads;
  for (auto& config : configs) {
    config.job_start_unix = started_unix;
    threads.emplace_back([&hub, &config] {
      try {
        worker::run_worker(hub.endpoint(config.self.rank), config);
      } catch (const std::exception& e) {
        std::cerr << "fastgpu: worker " << config.self.rank << " failed: " << e.what() << std::endl;
        std::quick_exit(kExitInternal);
      }
    });
  }
  // A second signal: the file is finished; kill the subtasks and leave without the workers.
  auto abandon = [] {
    worker::signal_guarded_children(SIGKILL);
    std::cout.flush();
    std::_Exit(kExitStopped);
  };
  try {
    return run_scheduler(hub.endpoint(0), prepared, *writer, options, started_unix, resume ? &*resume : nullptr,
                         abandon);
  } catch (...) {
    // The worker threads wait for rank 0's word: without a Shutdown, joining them would hang.
    for (int rank = 1; rank <= workers; ++rank) hub.endpoint(0).send(rank, comm::Shutdown{});
    throw;
  }
}

// Every rank reports whether its part of the start-up went well; all go on only if all did.
int agree_on_status(int status) {
  int worst = 0;
  comm::check_mpi(MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return worst;
}

// The worker ranks (rank 0, the scheduler, is not one): MPI_COMM_NULL on rank 0. The caller frees it.
MPI_Comm split_workers(int rank) {
  MPI_Comm workers = MPI_COMM_NULL;
  comm::check_mpi(MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? MPI_UNDEFINED : 1, rank, &workers), "MPI_Comm_split");
  return workers;
}

// Index of this worker among the worker ranks on its node; -1 on rank 0.
int local_worker_index(MPI_Comm workers, int rank) {
  if (workers == MPI_COMM_NULL) return -1;
  MPI_Comm node = MPI_COMM_NULL;
  comm::check_mpi(MPI_Comm_split_type(workers, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node),
                  "MPI_Comm_split_type");
  int local = 0;
  MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  return local;
}

int status_of(const std::exception& e) {
  std::cerr << "fastgpu: error: " << e.what() << std::endl;
  return dynamic_cast<const UsageError*>(&e) ? kExitUsage : kExitInternal;
}

int run_mpi_rank(const RunOptions& options, int rank, int size) {
  MPI_Comm workers = split_workers(rank);
  const int local = local_worker_index(workers, rank);
  double started_unix = unix_now();
  int status = kExitOk;
  PreparedJob prepared;
  std::unique_ptr<io::ResultsWriter> writer;
  std::optional<ResumePlan> resume;
  worker::WorkerConfig config;
  try {
    if (rank == 0) {
      prepared = prepare_job(options);
      check_gang_width(prepared, size - 1);
      writer = create_writer(prepared, started_unix, "mpi", options.force, resume);
      if (resume) started_unix = resume->old_job.started_unix;
    } else {
      const auto binding = device::bind_worker(local, device::visible_gpus(), host_name(), options.share_gpus);
      config = worker_config(rank, local, binding, options);
    }
  } catch (const std::exception& e) {
    status = status_of(e);
  }
  status = agree_on_status(status);
  std::string setup = rank == 0 && status == kExitOk ? job_setup_text(prepared) : std::string();
  if (status == kExitOk) {
    broadcast_text(setup, rank);
    try {
      if (rank != 0 && apply_job_setup(setup, config)) {
        config.device = config.make_device();  // the collectives' backend follows the device
        config.collectives = worker_collectives(workers, *config.device);
      }
    } catch (const std::exception& e) {
      status = status_of(e);
    }
    status = agree_on_status(status);
  }
  if (workers != MPI_COMM_NULL) MPI_Comm_free(&workers);  // the collectives keep their own duplicate
  if (status != kExitOk) {
    if (writer && !resume) {  // a start-up that failed elsewhere leaves no file behind to block a rerun
      writer.reset();
      std::filesystem::remove(prepared.output);
    }
    return status;
  }
  comm::check_mpi(MPI_Bcast(&started_unix, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast");

  int code = kExitOk;
  {
    comm::MpiTransport transport(MPI_COMM_WORLD);
    if (rank == 0) {
      if (!options.quiet) print_start_line(std::cout, prepared, size - 1, "mpi, " + std::to_string(size) + " ranks");
      auto abandon = [] { MPI_Abort(MPI_COMM_WORLD, kExitStopped); };
      code = run_scheduler(transport, prepared, *writer, options, started_unix, resume ? &*resume : nullptr, abandon);
    } else {
      config.job_start_unix = started_unix;
      config.stop_requests = stop_requests;
      if (!options.child_guard_exe.empty()) worker::start_child_guard(options.child_guard_exe);
      if (!worker::run_worker(transport, config)) {
        // A stop signal and no word from rank 0 long after: it is gone. Do not wait on it.
        std::cerr << "fastgpu: rank " << rank << ": no shutdown from rank 0 after a stop signal; exiting" << std::endl;
        std::_Exit(kExitStopped);
      }
    }
  }
  // Every rank exits with the job's code, so mpirun and srun report it whichever rank they read.
  comm::check_mpi(MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return code;
}

int run_under_mpi(const RunOptions& options) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = kExitOk;
  if (size == 1) {  // `mpirun -np 1`: nobody to schedule onto, so run worker threads here
    try {
      code = run_in_process(options);
    } catch (const std::exception& e) {
      code = status_of(e);
    }
    MPI_Finalize();
    return code;
  }
  try {
    code = run_mpi_rank(options, rank, size);
  } catch (const std::exception& e) {
    // A rank that fails mid-run cannot be recovered here: stop the whole job, loudly.
    std::cerr << "fastgpu: rank " << rank << ": internal error: " << e.what() << std::endl;
    MPI_Abort(MPI_COMM_WORLD, kExitInternal);
  }
  MPI_Finalize();
  return code;
}

}  // namespace

int run_job(const RunOptions& options) {
  install_stop_handlers();
  if (launched_by_mpi()) return run_under_mpi(options);
  try {
    return run_in_process(options);
  } catch (const std::exception& e) {
    return status_of(e);
  }
}

}  // namespace fastgpu::app
