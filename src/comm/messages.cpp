#include "comm/messages.hpp"

#include <cstring>
#include <type_traits>

#include "fastgpu/error.hpp"

namespace fastgpu::comm {
namespace {

constexpr std::uint8_t kWireVersion = 1;

class Encoder {
 public:
  template <typename T>
    requires std::is_arithmetic_v<T> || std::is_enum_v<T>
  void put(T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    out_.append(raw, sizeof(T));
  }
  void put(const std::string& text) {
    put(static_cast<std::uint64_t>(text.size()));
    out_.append(text);
  }
  template <typename T>
  void put(const std::vector<T>& items) {
    put(static_cast<std::uint64_t>(items.size()));
    for (const auto& item : items) put(item);
  }
  template <typename A, typename B>
  void put(const std::pair<A, B>& pair) {
    put(pair.first);
    put(pair.second);
  }
  void put(const Metric& m) { put(m.name), put(m.value); }
  void put(const LaunchSpec& l) { put(l.kernel), put(l.args), put(l.argv), put(l.env), put(l.cwd); }
  void put(const TaskLaunch& t) { put(t.task), put(t.attempt), put(t.launch), put(t.timeout_s), put(t.tail_bytes); }
  void put(const WorkerRecord& w) {
    put(w.rank), put(w.host), put(w.local_rank), put(w.device), put(w.gpu_name), put(w.gpu_uuid);
  }
  void put(const TaskStarted& s) { put(s.task), put(s.attempt), put(s.start); }
  void put(const TaskResult& r) {
    put(r.task), put(r.attempt), put(r.start), put(r.end), put(r.status), put(r.exit_code), put(r.signal);
    put(r.error), put(r.stdout_tail), put(r.stderr_tail), put(r.metrics);
  }
  void put(const WorkerHello& m) { put(m.worker); }
  void put(const AssignTasks& m) { put(m.tasks); }
  void put(const WorkerReport& m) { put(m.started), put(m.finished); }
  void put(const AttemptRef& a) { put(a.task), put(a.attempt); }
  void put(const RetractTasks& m) { put(m.attempts); }
  void put(const RetractAck& m) { put(m.retracted), put(m.already_started); }
  void put(const CancelAttempt& m) { put(m.attempt); }
  void put(const Shutdown&) {}
  void put(const WorkerBye&) {}

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  template <typename T>
    requires std::is_arithmetic_v<T> || std::is_enum_v<T>
  void get(T& value) {
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
  }
  void get(std::string& text) {
    std::uint64_t size = 0;
    get(size);
    text.assign(take(size), size);
  }
  template <typename T>
  void get(std::vector<T>& items) {
    std::uint64_t size = 0;
    get(size);
    if (size > in_.size()) fail();  // every item takes at least one byte, except empty structs
    items.resize(size);
    for (auto& item : items) get(item);
  }
  template <typename A, typename B>
  void get(std::pair<A, B>& pair) {
    get(pair.first);
    get(pair.second);
  }
  void get(Metric& m) { get(m.name), get(m.value); }
  void get(LaunchSpec& l) { get(l.kernel), get(l.args), get(l.argv), get(l.env), get(l.cwd); }
  void get(TaskLaunch& t) { get(t.task), get(t.attempt), get(t.launch), get(t.timeout_s), get(t.tail_bytes); }
  void get(WorkerRecord& w) {
    get(w.rank), get(w.host), get(w.local_rank), get(w.device), get(w.gpu_name), get(w.gpu_uuid);
  }
  void get(TaskStarted& s) { get(s.task), get(s.attempt), get(s.start); }
  void get(TaskResult& r) {
    get(r.task), get(r.attempt), get(r.start), get(r.end), get(r.status), get(r.exit_code), get(r.signal);
    get(r.error), get(r.stdout_tail), get(r.stderr_tail), get(r.metrics);
  }
  void get(WorkerHello& m) { get(m.worker); }
  void get(AssignTasks& m) { get(m.tasks); }
  void get(WorkerReport& m) { get(m.started), get(m.finished); }
  void get(AttemptRef& a) { get(a.task), get(a.attempt); }
  void get(RetractTasks& m) { get(m.attempts); }
  void get(RetractAck& m) { get(m.retracted), get(m.already_started); }
  void get(CancelAttempt& m) { get(m.attempt); }
  void get(Shutdown&) {}
  void get(WorkerBye&) {}

  bool at_end() const { return in_.empty(); }

 private:
  [[noreturn]] static void fail() { throw Error("malformed message: truncated or corrupt bytes"); }
  const char* take(std::uint64_t size) {
    if (size > in_.size()) fail();
    const char* at = in_.data();
    in_.remove_prefix(size);
    return at;
  }
  std::string_view in_;
};

template <std::size_t I = 0>
Message decode_alternative(std::size_t index, Decoder& decoder) {
  if constexpr (I < std::variant_size_v<Message>) {
    if (index == I) {
      std::variant_alternative_t<I, Message> message;
      decoder.get(message);
      return message;
    }
    return decode_alternative<I + 1>(index, decoder);
  } else {
    throw Error("malformed message: unknown message type " + std::to_string(index));
  }
}

}  // namespace

std::string encode(const Message& message) {
  Encoder encoder;
  encoder.put(kWireVersion);
  encoder.put(static_cast<std::uint8_t>(message.index()));
  std::visit([&](const auto& alternative) { encoder.put(alternative); }, message);
  return encoder.take();
}

Message decode(std::string_view bytes) {
  Decoder decoder(bytes);
  std::uint8_t version = 0, index = 0;
  decoder.get(version);
  if (version != kWireVersion) {
    throw Error("message from an incompatible FastGPU (wire version " + std::to_string(version) + ")");
  }
  decoder.get(index);
  Message message = decode_alternative(index, decoder);
  if (!decoder.at_end()) throw Error("malformed message: trailing bytes");
  return message;
}

}  // namespace fastgpu::comm
