// C = A * B on a Device, `repeat` times: OpenBLAS on the CPU, cuBLAS on the device's stream; the
// inputs are generated where they are stored and the checksum is added where C is (no copy of C).
#pragma once

#include <cstdint>

#include "fastgpu/device.hpp"
#include "kernels/gemm_inputs.hpp"

namespace fastgpu::kernels {

/// Fills `count` elements of device memory with gemm_input(seed, matrix, i) (on the CPU: on every
/// core this thread may run on, vectorised; the values do not depend on either).
void fill_gemm_input(fastgpu::Device& device, double* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix);
void fill_gemm_input(fastgpu::Device& device, float* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix);

/// Runs C = A * B `repeat` times (device memory) and returns the seconds the multiplies took.
double multiply(fastgpu::Device& device, GemmShape shape, const double* a, const double* b, double* c, int repeat);
double multiply(fastgpu::Device& device, GemmShape shape, const float* a, const float* b, float* c, int repeat);

/// The sum of `count` values of device memory in the order of gemm_checksum.hpp.
double gemm_checksum(fastgpu::Device& device, const double* values, std::uint64_t count);
double gemm_checksum(fastgpu::Device& device, const float* values, std::uint64_t count);

struct GemmRun {
  double seconds = 0;   ///< the multiplies only
  double checksum = 0;  ///< gemm_checksum of C
};

/// multiply() then gemm_checksum() of C, queued together on a GPU (one wait for both).
GemmRun multiply_and_checksum(fastgpu::Device& device, GemmShape shape, const double* a, const double* b, double* c,
                              int repeat);
GemmRun multiply_and_checksum(fastgpu::Device& device, GemmShape shape, const float* a, const float* b, float* c,
                              int repeat);

}  // namespace fastgpu::kernels
