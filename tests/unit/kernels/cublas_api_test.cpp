// cuBLAS is loaded on first use (src/kernels/cublas_api.hpp), not at start-up. CUDA builds only;
// no GPU is needed to load the library.
#include <gtest/gtest.h>

#include "fastgpu/config.hpp"

#if FASTGPU_HAVE_CUDA
#include <dlfcn.h>

#include <string>

#include "kernels/cublas_api.hpp"

namespace fastgpu::kernels {
namespace {

bool cublas_is_loaded() {
  const std::string soname = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle != nullptr) dlclose(handle);  // drops only the reference RTLD_NOLOAD added
  return handle != nullptr;
}

// ctest runs each test in a process of its own, so nothing has multiplied on a GPU before this.
TEST(CublasApi, IsLoadedOnTheFirstCallNotAtStartUp) {
  EXPECT_FALSE(cublas_is_loaded()) << "a binary with the gemm kernel links cuBLAS again";
  const CublasApi& api = cublas();
  EXPECT_TRUE(cublas_is_loaded());
  EXPECT_EQ(&api, &cublas());
}

TEST(CublasApi, ResolvesEveryEntryPointGemmUses) {
  const CublasApi& api = cublas();
  EXPECT_NE(api.create, nullptr);
  EXPECT_NE(api.destroy, nullptr);
  EXPECT_NE(api.set_stream, nullptr);
  EXPECT_NE(api.dgemm, nullptr);
  EXPECT_NE(api.sgemm, nullptr);
  ASSERT_NE(api.status_string, nullptr);
  EXPECT_STRNE(api.status_string(CUBLAS_STATUS_NOT_INITIALIZED), "");
}

}  // namespace
}  // namespace fastgpu::kernels
#endif
