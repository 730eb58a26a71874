#include "kernels/gemm_multiply.hpp"

#include <cblas.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>
#include <vector>

#include "fastgpu/config.hpp"
#include "kernels/gemm_checksum.hpp"

#if FASTGPU_HAVE_CUDA
#include "kernels/gemm_cuda.hpp"
#endif

// The CPU fill is compiled for AVX-512 and AVX2 as well, chosen when the program starts: one Philox
// block per element is most of the work, and it vectorises (integer products, exact conversion, so
// every version gives the same bits).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define FASTGPU_GEMM_FILL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FASTGPU_GEMM_FILL_CLONES
#endif

namespace fastgpu::kernels {
namespace {

/// The CPUs the calling thread may run on (a pinned worker's set, else the machine's).
std::uint64_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Calls piece(begin, end) over [0, count) in contiguous pieces of whole `grain`s, on up to one
/// thread per usable CPU with at least `min_per_thread` items each; the calling thread takes the
/// first piece. Where no thread can be started, the calling thread does the rest.
template <class Piece>
void in_parallel(std::uint64_t count, std::uint64_t grain, std::uint64_t min_per_thread, const Piece& piece) {
  const std::uint64_t grains = (count + grain - 1) / grain;
  const std::uint64_t threads = std::min({usable_cpus(), std::max<std::uint64_t>(1, count / min_per_thread), grains});
  if (threads <= 1) {
    piece(std::uint64_t{0}, count);
    return;
  }
  const std::uint64_t per = (grains + threads - 1) / threads * grain;
  std::vector<std::thread> helpers;
  helpers.reserve(threads);
  std::uint64_t begin = per;
  try {
    for (; begin < count; begin += per) helpers.emplace_back(piece, begin, std::min(count, begin + per));
  } catch (const std::system_error&) {
    // no more threads: the rest runs below
  }
  piece(std::uint64_t{0}, std::min(count, per));
  for (; begin < count; begin += per) piece(begin, std::min(count, begin + per));
  for (std::thread& helper : helpers) helper.join();
}

FASTGPU_GEMM_FILL_CLONES void fill_range(double* data, std::uint64_t begin, std::uint64_t end, std::uint64_t seed,
                                         GemmMatrix matrix) {
  for (std::uint64_t i = begin; i < end; ++i) data[i] = gemm_input(seed, matrix, i);
}
FASTGPU_GEMM_FILL_CLONES void fill_range(float* data, std::uint64_t begin, std::uint64_t end, std::uint64_t seed,
                                         GemmMatrix matrix) {
  for (std::uint64_t i = begin; i < end; ++i) data[i] = static_cast<float>(gemm_input(seed, matrix, i));
}

template <class T>
void fill_on_cpu(T* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix) {
  in_parallel(count, 4096, 1 << 16,
              [=](std::uint64_t begin, std::uint64_t end) { fill_range(data, begin, end, seed, matrix); });
}

/// One chunk of the checksum (gemm_checksum.hpp): kSumLanes lanes, then halving.
template <class T>
double chunk_sum(const T* values, std::uint64_t count) {
  alignas(64) double lane[kSumLanes];
  for (unsigned t = 0; t < kSumLanes; ++t) lane[t] = 0.0;
  if (count == kSumChunk) {
    for (unsigned j = 0; j < kSumPerLane; ++j) {
      const T* row = values + std::uint64_t{j} * kSumLanes;
      for (unsigned t = 0; t < kSumLanes; ++t) lane[t] += static_cast<double>(row[t]);
    }
  } else {
    for (unsigned j = 0; j < kSumPerLane; ++j) {
      for (unsigned t = 0; t < kSumLanes; ++t) {
        const std::uint64_t i = std::uint64_t{j} * kSumLanes + t;
        if (i < count) lane[t] += static_cast<double>(values[i]);
      }
    }
  }
  for (unsigned s = kSumLanes / 2; s > 0; s /= 2) {
    for (unsigned t = 0; t < s; ++t) lane[t] += lane[t + s];
  }
  return lane[0];
}

/// One pass: the sum of each chunk of `values` into sums[chunk].
template <class T>
void sum_chunks(const T* values, std::uint64_t count, double* sums) {
  in_parallel(checksum_pass_size(count), 1, 64, [=](std::uint64_t begin, std::uint64_t end) {
    for (std::uint64_t chunk = begin; chunk < end; ++chunk) {
      const std::uint64_t first = chunk * kSumChunk;
      sums[chunk] = chunk_sum(values + first, std::min(kSumChunk, count - first));
    }
  });
}

template <class T>
double checksum_on_cpu(const T* values, std::uint64_t count) {
  if (count == 0) return 0.0;
  std::vector<double> sums(checksum_pass_size(count));
  sum_chunks(values, count, sums.data());
  while (sums.size() > 1) {
    std::vector<double> next(checksum_pass_size(sums.size()));
    sum_chunks(sums.data(), sums.size(), next.data());
    sums.swap(next);
  }
  return sums[0];
}

void blas_gemm(GemmShape s, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0, a, s.m, b, s.k, 0.0, c, s.m);
}
void blas_gemm(GemmShape s, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, a, s.m, b, s.k, 0.0f, c, s.m);
}

template <class T>
double multiply_on_cpu(GemmShape shape, const T* a, const T* b, T* c, int repeat) {
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < repeat; ++r) blas_gemm(shape, a, b, c);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class T>
void fill_any(fastgpu::Device& device, T* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix) {
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) return fill_gemm_input_on_cuda(device, data, count, seed, matrix);
#endif
  (void)device;
  fill_on_cpu(data, count, seed, matrix);
}

template <class T>
double multiply_any(fastgpu::Device& device, GemmShape shape, const T* a, const T* b, T* c, int repeat) {
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) return multiply_on_cuda(device, shape, a, b, c, repeat);
#endif
  (void)device;
  return multiply_on_cpu(shape, a, b, c, repeat);
}

template <class T>
double checksum_any(fastgpu::Device& device, const T* values, std::uint64_t count) {
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) return checksum_on_cuda(device, values, count);
#endif
  (void)device;
  return checksum_on_cpu(values, count);  // CPU "device memory" is host memory
}

template <class T>
GemmRun multiply_and_checksum_any(fastgpu::Device& device, GemmShape shape, const T* a, const T* b, T* c,
                                  int repeat) {
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) return multiply_and_checksum_on_cuda(device, shape, a, b, c, repeat);
#endif
  (void)device;
  GemmRun run;
  run.seconds = multiply_on_cpu(shape, a, b, c, repeat);
  run.checksum = checksum_on_cpu(c, static_cast<std::uint64_t>(shape.m) * static_cast<std::uint64_t>(shape.n));
  return run;
}

}  // namespace

void fill_gemm_input(fastgpu::Device& device, double* data, std::uint64_t count, std::uint64_t seed,
                     GemmMatrix matrix) {
  fill_any(device, data, count, seed, matrix);
}
void fill_gemm_input(fastgpu::Device& device, float* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix) {
  fill_any(device, data, count, seed, matrix);
}
double multiply(fastgpu::Device& device, GemmShape shape, const double* a, const double* b, double* c, int repeat) {
  return multiply_any(device, shape, a, b, c, repeat);
}
double multiply(fastgpu::Device& device, GemmShape shape, const float* a, const float* b, float* c, int repeat) {
  return multiply_any(device, shape, a, b, c, repeat);
}
double gemm_checksum(fastgpu::Device& device, const double* values, std::uint64_t count) {
  return checksum_any(device, values, count);
}
double gemm_checksum(fastgpu::Device& device, const float* values, std::uint64_t count) {
  return checksum_any(device, values, count);
}
GemmRun multiply_and_checksum(fastgpu::Device& device, GemmShape shape, const double* a, const double* b, double* c,
                              int repeat) {
  return multiply_and_checksum_any(device, shape, a, b, c, repeat);
}
GemmRun multiply_and_checksum(fastgpu::Device& device, GemmShape shape, const float* a, const float* b, float* c,
                              int repeat) {
  return multiply_and_checksum_any(device, shape, a, b, c, repeat);
}

}  // namespace fastgpu::kernels
