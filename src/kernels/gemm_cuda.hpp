// The CUDA half of gemm_multiply.hpp (gemm.cu), in a CUDA build only.
#pragma once

#include <cstdint>

#include "fastgpu/device.hpp"
#include "kernels/gemm_inputs.hpp"
#include "kernels/gemm_multiply.hpp"

namespace fastgpu::kernels {

void fill_gemm_input_on_cuda(fastgpu::Device& device, double* data, std::uint64_t count, std::uint64_t seed,
                             GemmMatrix matrix);
void fill_gemm_input_on_cuda(fastgpu::Device& device, float* data, std::uint64_t count, std::uint64_t seed,
                             GemmMatrix matrix);
double multiply_on_cuda(fastgpu::Device& device, GemmShape shape, const double* a, const double* b, double* c,
                        int repeat);
double multiply_on_cuda(fastgpu::Device& device, GemmShape shape, const float* a, const float* b, float* c, int repeat);
double checksum_on_cuda(fastgpu::Device& device, const double* values, std::uint64_t count);
double checksum_on_cuda(fastgpu::Device& device, const float* values, std::uint64_t count);
GemmRun multiply_and_checksum_on_cuda(fastgpu::Device& device, GemmShape shape, const double* a, const double* b,
                                      double* c, int repeat);
GemmRun multiply_and_checksum_on_cuda(fastgpu::Device& device, GemmShape shape, const float* a, const float* b,
                                      float* c, int repeat);

}  // namespace fastgpu::kernels
