#include "kernels/gemm_multiply.hpp"

#include <cblas.h>

#include <chrono>

#include "fastgpu/config.hpp"

#if FASTGPU_HAVE_CUDA
#include "kernels/gemm_cuda.hpp"
#endif

namespace fastgpu::kernels {
namespace {

template <class T>
void fill_on_cpu(T* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix) {
  for (std::uint64_t i = 0; i < count; ++i) data[i] = static_cast<T>(gemm_input(seed, matrix, i));
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

}  // namespace fastgpu::kernels
