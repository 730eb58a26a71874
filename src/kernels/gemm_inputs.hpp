// The gemm kernel's inputs: element i of matrix A (0) or B (1) is a Philox uniform in (0, 1) for
// (seed, matrix, i), computed where it is stored, so host and GPU start from the same matrices.
// Positive entries keep the checksum (the sum of C) far from cancellation, so it compares well.
#pragma once

#include <cstdint>

#include "kernels/philox.hpp"

namespace fastgpu::kernels {

enum class GemmMatrix : std::uint64_t { a = 0, b = 1 };

FASTGPU_HOST_DEVICE inline double gemm_input(std::uint64_t seed, GemmMatrix matrix, std::uint64_t index) {
  return unit_open(philox_block(seed, static_cast<std::uint64_t>(matrix), index).v[0]);
}

/// C (m x n) = A (m x k) * B (k x n), all column-major without padding (BLAS's native layout).
struct GemmShape {
  int m = 1;
  int n = 1;
  int k = 1;
};

}  // namespace fastgpu::kernels
