// C = A * B on a Device, `repeat` times: OpenBLAS on the CPU, cuBLAS on the device's stream.
#pragma once

#include <cstdint>

#include "fastgpu/device.hpp"
#include "kernels/gemm_inputs.hpp"

namespace fastgpu::kernels {

/// Fills `count` elements of device memory with gemm_input(seed, matrix, i).
void fill_gemm_input(fastgpu::Device& device, double* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix);
void fill_gemm_input(fastgpu::Device& device, float* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix);

/// Runs C = A * B `repeat` times (device memory) and returns the seconds the multiplies took.
double multiply(fastgpu::Device& device, GemmShape shape, const double* a, const double* b, double* c, int repeat);
double multiply(fastgpu::Device& device, GemmShape shape, const float* a, const float* b, float* c, int repeat);

}  // namespace fastgpu::kernels
