// The gemm kernel's checksum: the sum of C, in double, added in one fixed order that depends only
// on the number of elements, so it is the same bits every run on a device, whatever the thread
// count, and the CPU (gemm_multiply.cpp) and CUDA (gemm.cu) code add in exactly the same order
// (given the same C, they give the same bits; CPU and CUDA differ only as far as BLAS and cuBLAS do).
//
// The order: one pass cuts the values into chunks of kSumChunk (the last one shorter); in a chunk,
// lane t (0 <= t < kSumLanes) adds elements t, t + kSumLanes, t + 2 kSumLanes, ... from 0.0 in
// index order, then the lanes are added pairwise by halving (lane t += lane t + s, s = 128, 64, ...
// 1), which is a CUDA block of kSumLanes threads reducing in shared memory. Each chunk leaves its
// lane 0; passes repeat over those sums until one value is left. Float values are widened to
// double before they are added.
#pragma once

#include <cstdint>

namespace fastgpu::kernels {

inline constexpr unsigned kSumLanes = 256;
inline constexpr unsigned kSumPerLane = 16;
inline constexpr std::uint64_t kSumChunk = std::uint64_t{kSumLanes} * kSumPerLane;  // 4096 values

/// How many values a pass over `count` values leaves (one per chunk).
constexpr std::uint64_t checksum_pass_size(std::uint64_t count) { return (count + kSumChunk - 1) / kSumChunk; }

/// Scratch values the passes over `count` values need together (every pass's output, in turn).
constexpr std::uint64_t checksum_scratch_size(std::uint64_t count) {
  std::uint64_t total = 0;
  for (std::uint64_t left = count;;) {
    left = checksum_pass_size(left);
    total += left;
    if (left <= 1) return total;
  }
}

}  // namespace fastgpu::kernels
