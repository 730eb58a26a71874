#include "comm/messages.hpp"

#include "fastgpu/error.hpp"
#include "support/byte_codec.hpp"

namespace fastgpu::comm {
namespace {

constexpr std::uint8_t kWireVersion = 1;

class Encoder : public support::ByteEncoder<Encoder> {
 public:
  using ByteEncoder::put;
  void put(const LaunchSpec& l) { put(l.kernel), put(l.args), put(l.argv), put(l.env), put(l.cwd); }
  void put(const TaskLaunch& t) {
    put(t.task), put(t.attempt), put(t.launch), put(t.timeout_s), put(t.tail_bytes), put(t.gang), put(t.gang_host), put(t.restore);
    put(t.ahead_of_gang), put(t.restore_from), put(t.restore_bytes);
  }
  void put(const TaskStarted& s) { put(s.task), put(s.attempt), put(s.start); }
  void put(const TaskResult& r) {
    put(r.task), put(r.attempt), put(r.start), put(r.end), put(r.status), put(r.exit_code), put(r.signal);
    put(r.error), put(r.stdout_tail), put(r.stderr_tail), put(r.metrics), put(r.arrays), put(r.checkpoint);
    put(r.state_sent_to), put(r.state_bytes);
  }
  void put(const WorkerHello& m) { put(m.worker); }
  void put(const AssignTasks& m) { put(m.tasks); }
  void put(const WorkerReport& m) { put(m.started), put(m.finished); }
  void put(const AttemptRef& a) { put(a.task), put(a.attempt); }
  void put(const RetractTasks& m) { put(m.attempts); }
  void put(const RetractAck& m) { put(m.retracted), put(m.already_started); }
  void put(const CancelAttempt& m) { put(m.attempt); }
  void put(const Shutdown& m) { put(m.retired); }
  void put(const WorkerBye&) {}
  void put(const WorkerTelemetry& m) { put(m.samples); }
  void put(const ReductionValue& r) { put(r.name), put(r.op), put(r.values), put(r.weight), put(r.contributions); }
  void put(const ReductionResult& m) { put(m.values); }
  void put(const MigrateAttempt& m) { put(m.attempt), put(m.to); }
  void put(const WorkerRetired& m) { put(m.reason), put(m.returned); }
};

class Decoder : public support::ByteDecoder<Decoder> {
 public:
  explicit Decoder(std::string_view in) : ByteDecoder(in, "message") {}
  using ByteDecoder::get;
  void get(LaunchSpec& l) { get(l.kernel), get(l.args), get(l.argv), get(l.env), get(l.cwd); }
  void get(TaskLaunch& t) {
    get(t.task), get(t.attempt), get(t.launch), get(t.timeout_s), get(t.tail_bytes), get(t.gang), get(t.gang_host), get(t.restore);
    get(t.ahead_of_gang), get(t.restore_from), get(t.restore_bytes);
  }
  void get(TaskStarted& s) { get(s.task), get(s.attempt), get(s.start); }
  void get(TaskResult& r) {
    get(r.task), get(r.attempt), get(r.start), get(r.end), get(r.status), get(r.exit_code), get(r.signal);
    get(r.error), get(r.stdout_tail), get(r.stderr_tail), get(r.metrics), get(r.arrays), get(r.checkpoint);
    get(r.state_sent_to), get(r.state_bytes);
  }
  void get(WorkerHello& m) { get(m.worker); }
  void get(AssignTasks& m) { get(m.tasks); }
  void get(WorkerReport& m) { get(m.started), get(m.finished); }
  void get(AttemptRef& a) { get(a.task), get(a.attempt); }
  void get(RetractTasks& m) { get(m.attempts); }
  void get(RetractAck& m) { get(m.retracted), get(m.already_started); }
  void get(CancelAttempt& m) { get(m.attempt); }
  void get(Shutdown& m) { get(m.retired); }
  void get(WorkerBye&) {}
  void get(WorkerTelemetry& m) { get(m.samples); }
  void get(ReductionValue& r) { get(r.name), get(r.op), get(r.values), get(r.weight), get(r.contributions); }
  void get(ReductionResult& m) { get(m.values); }
  void get(MigrateAttempt& m) { get(m.attempt), get(m.to); }
  void get(WorkerRetired& m) { get(m.reason), get(m.returned); }
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
