// A small binary codec shared by the wire messages (src/comm/messages.cpp) and the results
// journal (src/io/journal.cpp): fixed-size numbers in host byte order (both ends are the same
// build), strings and vectors prefixed with a 64-bit length. Derived classes add overloads for
// their own structs; CRTP lets a vector of those find them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "fastgpu/error.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::support {

template <class Self>
class ByteEncoder {
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
    for (const auto& item : items) self().put(item);
  }
  template <typename A, typename B>
  void put(const std::pair<A, B>& pair) {
    self().put(pair.first);
    self().put(pair.second);
  }
  void put(const Metric& m) { put(m.name), put(m.value); }
  void put(const OutputArray& a) { put(a.name), put(a.values); }
  void put(const WorkerRecord& w) {
    put(w.rank), put(w.host), put(w.local_rank), put(w.device), put(w.gpu_name), put(w.gpu_uuid);
    put(w.pci_bus_id), put(w.numa_node), put(w.cpu_set);
  }
  void put(const TelemetrySample& t) {
    put(t.time), put(t.worker), put(t.gpu_util), put(t.mem_used_bytes), put(t.power_w), put(t.temp_c);
    put(t.sm_clock_mhz), put(t.cpu_util), put(t.rss_bytes);
  }

  std::string take() { return std::move(out_); }

 private:
  Self& self() { return static_cast<Self&>(*this); }
  std::string out_;
};

template <class Self>
class ByteDecoder {
 public:
  /// @p what names the bytes in errors ("message", "journal record").
  ByteDecoder(std::string_view in, const char* what) : in_(in), what_(what) {}

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
    for (auto& item : items) self().get(item);
  }
  template <typename A, typename B>
  void get(std::pair<A, B>& pair) {
    self().get(pair.first);
    self().get(pair.second);
  }
  void get(Metric& m) { get(m.name), get(m.value); }
  void get(OutputArray& a) { get(a.name), get(a.values); }
  void get(WorkerRecord& w) {
    get(w.rank), get(w.host), get(w.local_rank), get(w.device), get(w.gpu_name), get(w.gpu_uuid);
    get(w.pci_bus_id), get(w.numa_node), get(w.cpu_set);
  }
  void get(TelemetrySample& t) {
    get(t.time), get(t.worker), get(t.gpu_util), get(t.mem_used_bytes), get(t.power_w), get(t.temp_c);
    get(t.sm_clock_mhz), get(t.cpu_util), get(t.rss_bytes);
  }

  bool at_end() const { return in_.empty(); }

 private:
  Self& self() { return static_cast<Self&>(*this); }
  [[noreturn]] void fail() const { throw Error(std::string("malformed ") + what_ + ": truncated or corrupt bytes"); }
  const char* take(std::uint64_t size) {
    if (size > in_.size()) fail();
    const char* at = in_.data();
    in_.remove_prefix(size);
    return at;
  }
  std::string_view in_;
  const char* what_;
};

}  // namespace fastgpu::support
