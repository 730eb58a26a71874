#include "io/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <system_error>

#include "fastgpu/error.hpp"
#include "io/results_writer.hpp"
#include "support/byte_codec.hpp"

namespace fastgpu::io {

namespace {

// A journal is this header, then records: u32 payload size, u32 CRC-32 of the payload, payload.
// A payload is one kind byte and the record's fields (support/byte_codec.hpp).
constexpr char kMagic[] = "fastgpu-journal 4\n";  // 3: WorkerRecord has pci_bus_id, numa_node, cpu_set
constexpr std::size_t kMagicSize = sizeof(kMagic) - 1;

// New kinds go at the end: a kind's number is its meaning in journals already on disk.
enum class Kind : std::uint8_t { begin = 1, worker, task, attempt, event, model, finish, telemetry };

class Encoder : public support::ByteEncoder<Encoder> {
 public:
  using ByteEncoder::put;
  void put(const JobInfo& j) {
    put(j.name), put(j.spec), put(j.source_path), put(j.output_dir), put(j.fastgpu_version), put(j.started);
    put(j.started_unix), put(j.finished), put(j.status), put(j.transport);
  }
  void put(const TaskRecord& t) {
    put(t.id), put(t.name), put(t.params), put(t.cost), put(t.gpus), put(t.status), put(t.attempts);
    put(t.worker), put(t.start), put(t.end), put(t.exit_code);
  }
  void put(const AttemptRecord& a) {
    put(a.task), put(a.attempt), put(a.worker), put(a.host), put(a.device), put(a.start), put(a.end);
    put(a.status), put(a.exit_code), put(a.signal), put(a.predicted_s), put(a.migrated), put(a.error);
    put(a.stdout_tail), put(a.stderr_tail), put(a.metrics), put(a.arrays), put(a.checkpoint);
  }
  void put(const EventRecord& e) { put(e.time), put(e.kind), put(e.task), put(e.from), put(e.to), put(e.detail); }
  void put(const CostClassParams& c) { put(c.task_class), put(c.intercept_s), put(c.seconds_per_cost), put(c.samples); }
  void put(const CostWorkerParams& w) {
    put(w.rank), put(w.host), put(w.device), put(w.speed_factor), put(w.sigma_log), put(w.samples);
  }
  void put(const CostModelSnapshot& m) { put(m.classes), put(m.workers); }
};

class Decoder : public support::ByteDecoder<Decoder> {
 public:
  explicit Decoder(std::string_view in) : ByteDecoder(in, "journal record") {}
  using ByteDecoder::get;
  void get(JobInfo& j) {
    get(j.name), get(j.spec), get(j.source_path), get(j.output_dir), get(j.fastgpu_version), get(j.started);
    get(j.started_unix), get(j.finished), get(j.status), get(j.transport);
  }
  void get(TaskRecord& t) {
    get(t.id), get(t.name), get(t.params), get(t.cost), get(t.gpus), get(t.status), get(t.attempts);
    get(t.worker), get(t.start), get(t.end), get(t.exit_code);
  }
  void get(AttemptRecord& a) {
    get(a.task), get(a.attempt), get(a.worker), get(a.host), get(a.device), get(a.start), get(a.end);
    get(a.status), get(a.exit_code), get(a.signal), get(a.predicted_s), get(a.migrated), get(a.error);
    get(a.stdout_tail), get(a.stderr_tail), get(a.metrics), get(a.arrays), get(a.checkpoint);
  }
  void get(EventRecord& e) { get(e.time), get(e.kind), get(e.task), get(e.from), get(e.to), get(e.detail); }
  void get(CostClassParams& c) { get(c.task_class), get(c.intercept_s), get(c.seconds_per_cost), get(c.samples); }
  void get(CostWorkerParams& w) {
    get(w.rank), get(w.host), get(w.device), get(w.speed_factor), get(w.sigma_log), get(w.samples);
  }
  void get(CostModelSnapshot& m) { get(m.classes), get(m.workers); }
};

template <typename... Fields>
std::string encode(Kind kind, const Fields&... fields) {
  Encoder encoder;
  encoder.put(static_cast<std::uint8_t>(kind));
  (encoder.put(fields), ...);
  return encoder.take();
}

std::uint32_t crc_of(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

[[noreturn]] void fail_errno(const std::filesystem::path& path, const char* what) {
  throw IoError("results journal '" + path.string() + "': " + what + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "write");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

/** @brief Opens @p path and tries to lock it: false if another process holds the lock. */
bool try_lock(const std::filesystem::path& path, int& fd, int mode) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    fail_errno(path, "open");
  }
  if (::flock(fd, mode | LOCK_NB) == 0) return true;
  const int error = errno;
  ::close(fd);
  fd = -1;
  if (error == EWOULDBLOCK) return false;
  errno = error;
  fail_errno(path, "flock");
}

/** @brief Reads records one at a time; stops at the first one cut short or damaged by a crash. */
class JournalReader {
 public:
  explicit JournalReader(const std::filesystem::path& path) : in_(path, std::ios::binary) {
    if (!in_) throw IoError("results journal '" + path.string() + "': cannot open it");
    std::string magic(kMagicSize, '\0');
    in_.read(magic.data(), static_cast<std::streamsize>(kMagicSize));
    if (in_.gcount() == 0) {
      empty_ = true;  // killed before its first write: nothing was recorded
      return;
    }
    if (magic != std::string_view(kMagic, kMagicSize)) {
      throw IoError("results journal '" + path.string() + "' is not a FastGPU journal (bad header)");
    }
  }

  bool torn() const { return torn_; }

  /** @brief The next record's payload, or nullopt at the end (or at a torn tail). */
  std::optional<std::string> next() {
    if (empty_ || torn_) return std::nullopt;
    std::uint32_t header[2];
    in_.read(reinterpret_cast<char*>(header), sizeof(header));
    if (in_.gcount() == 0) return std::nullopt;
    std::string payload;
    if (in_.gcount() == sizeof(header)) {
      payload.resize(header[0]);
      in_.read(payload.data(), header[0]);
      if (static_cast<std::uint32_t>(in_.gcount()) == header[0] && crc_of(payload) == header[1]) return payload;
    }
    torn_ = true;
    return std::nullopt;
  }

 private:
  std::ifstream in_;
  bool empty_ = false;
  bool torn_ = false;
};

/** @brief Replays @p journal into a new results file at @p target. */
Recovery replay(const std::filesystem::path& journal, const std::filesystem::path& target) {
  JournalReader reader(journal);
  Recovery recovery;
  auto first = reader.next();
  if (!first) {
    throw IoError("results journal '" + journal.string() +
                  "' holds no complete record: the run was killed while it created its results file");
  }
  Decoder begin(*first);
  std::uint8_t kind = 0;
  JobInfo job;
  std::vector<TaskRecord> tasks;
  begin.get(kind);
  if (static_cast<Kind>(kind) != Kind::begin) {
    throw IoError("results journal '" + journal.string() + "' does not start with the job");
  }
  begin.get(job);
  begin.get(tasks);
  recovery.records = 1;
  auto writer = ResultsWriter::create(target, job, tasks, /*overwrite=*/true, Journaling::off);
  std::optional<std::pair<std::string, std::string>> finish;
  double last_time = 0;  // of anything recorded: when the recovered note is dated
  while (auto payload = reader.next()) {
    Decoder in(*payload);
    in.get(kind);
    switch (static_cast<Kind>(kind)) {
      case Kind::worker: {
        WorkerRecord worker;
        in.get(worker);
        writer->add_worker(worker);
        break;
      }
      case Kind::task: {
        std::uint64_t index = 0;
        TaskRecord task;
        in.get(index), in.get(task);
        writer->update_task(index, task);
        break;
      }
      case Kind::attempt: {
        AttemptRecord attempt;
        in.get(attempt);
        if (std::isfinite(attempt.end)) last_time = std::max(last_time, attempt.end);
        writer->add_attempt(attempt);
        break;
      }
      case Kind::event: {
        EventRecord event;
        in.get(event);
        last_time = std::max(last_time, event.time);
        writer->add_event(event);
        break;
      }
      case Kind::telemetry: {
        std::vector<TelemetrySample> samples;
        in.get(samples);
        for (const auto& sample : samples) {
          if (std::isfinite(sample.time)) last_time = std::max(last_time, sample.time);
        }
        writer->add_telemetry(samples);
        break;
      }
      case Kind::model: {
        CostModelSnapshot model;
        in.get(model);
        writer->flush();
        writer->write_model(model);
        break;
      }
      case Kind::finish: {
        std::pair<std::string, std::string> status;
        in.get(status);
        finish = status;
        break;
      }
      default:
        throw IoError("results journal '" + journal.string() + "': unknown record kind " + std::to_string(kind));
    }
    ++recovery.records;
  }
  recovery.torn_tail = reader.torn();
  recovery.finished = finish.has_value();
  if (!finish) {
    EventRecord note;
    note.time = last_time;
    note.kind = "recovered";
    note.detail = "the run was killed; this file was rebuilt from its journal (" +
                  std::to_string(recovery.records) + " records" +
                  (recovery.torn_tail ? ", the last one cut short and dropped" : "") + ")";
    writer->add_event(note);
  }
  writer->finish(finish ? finish->first : "killed", finish ? finish->second : "");
  return recovery;
}

}  // namespace

std::filesystem::path journal_path(const std::filesystem::path& results) {
  auto path = results;
  path += ".journal";
  return path;
}

JournalWriter::JournalWriter(std::filesystem::path path) : path_(std::move(path)) {
  // Lock before truncating: a live run's journal must not be wiped by a second run.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_errno(path_, "open");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw UsageError("results file '" + std::filesystem::path(path_).replace_extension().string() +
                       "' is being written by another running fastgpu");
    }
    errno = error;
    fail_errno(path_, "flock");
  }
  if (::ftruncate(fd_, 0) != 0) fail_errno(path_, "ftruncate");
  buffer_.assign(kMagic, kMagicSize);
}

JournalWriter::~JournalWriter() {
  if (fd_ < 0) return;
  try {
    commit();
  } catch (const std::exception&) {  // the destructor of a failing run: its error is reported elsewhere
  }
  ::close(fd_);
}

void JournalWriter::append(std::string payload) {
  const std::uint32_t header[2] = {static_cast<std::uint32_t>(payload.size()), crc_of(payload)};
  buffer_.append(reinterpret_cast<const char*>(header), sizeof(header));
  buffer_.append(payload);
}

void JournalWriter::begin(const JobInfo& job, const std::vector<TaskRecord>& tasks) {
  append(encode(Kind::begin, job, tasks));
}
void JournalWriter::worker(const WorkerRecord& worker) { append(encode(Kind::worker, worker)); }
void JournalWriter::task(std::size_t index, const TaskRecord& task) {
  append(encode(Kind::task, static_cast<std::uint64_t>(index), task));
}
void JournalWriter::attempt(const AttemptRecord& attempt) { append(encode(Kind::attempt, attempt)); }
void JournalWriter::event(const EventRecord& event) { append(encode(Kind::event, event)); }
void JournalWriter::telemetry(const std::vector<TelemetrySample>& samples) {
  append(encode(Kind::telemetry, samples));
}
void JournalWriter::model(const CostModelSnapshot& model) { append(encode(Kind::model, model)); }
void JournalWriter::finish(const std::string& status, const std::string& finished_iso) {
  append(encode(Kind::finish, std::pair{status, finished_iso}));
}

void JournalWriter::commit() {
  if (buffer_.empty() || fd_ < 0) return;
  write_all(fd_, buffer_, path_);
  buffer_.clear();
}

void JournalWriter::sync() {
  commit();
  if (fd_ >= 0 && ::fdatasync(fd_) != 0) fail_errno(path_, "fdatasync");
}

void JournalWriter::rename(const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::rename(path_, to, ec);
  if (ec) throw IoError("results journal '" + path_.string() + "': cannot rename it: " + ec.message());
  path_ = to;
}

void JournalWriter::remove() {
  if (fd_ < 0) return;
  commit();
  std::error_code ec;
  std::filesystem::remove(path_, ec);  // unlink first: the lock goes with the close
  ::close(fd_);
  fd_ = -1;
}

JournalState journal_state(const std::filesystem::path& results) {
  int fd = -1;
  const bool free = try_lock(journal_path(results), fd, LOCK_SH);
  if (!free) return JournalState::live;
  if (fd < 0) return JournalState::none;
  ::close(fd);
  return JournalState::abandoned;
}

std::optional<Recovery> recover_results(const std::filesystem::path& results) {
  const auto journal = journal_path(results);
  int fd = -1;
  // Locked exclusively while rebuilding: a second reader (which then reads the file as it is)
  // does not rebuild too, and a new writer cannot start on the file meanwhile.
  if (!try_lock(journal, fd, LOCK_EX) || fd < 0) return std::nullopt;
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{fd};
  std::filesystem::path temp = results;
  temp += ".recover-tmp";
  Recovery recovery = replay(journal, temp);
  std::error_code ec;
  std::filesystem::rename(temp, results, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw IoError("results file '" + results.string() + "': cannot replace it with the recovered file: " +
                  ec.message());
  }
  std::filesystem::remove(journal, ec);
  return recovery;
}

}  // namespace fastgpu::io
