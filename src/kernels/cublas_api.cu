#include "kernels/cublas_api.hpp"

#include <dlfcn.h>

#include <string>

#include "fastgpu/error.hpp"

namespace fastgpu::kernels {
namespace {

template <typename F>
void resolve(void* library, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(library, name));
  if (out == nullptr) throw DeviceError(std::string("cuBLAS has no ") + name + " (an older cuBLAS than the build's?)");
}

CublasApi load() {
  const std::string soname = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  const std::string fallback = std::string(FASTGPU_CUDA_LIBRARY_DIR) + "/" + soname;
  std::string why;
  void* library = nullptr;
  for (const std::string& name : {soname, fallback}) {
    // Never closed: handles made from it live in thread-local caches until their threads end.
    library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library != nullptr) break;
    const char* error = dlerror();
    why += "\n  " + name + ": " + (error ? error : "not loadable");
  }
  if (library == nullptr) throw DeviceError("cannot load cuBLAS for gemm on the GPU:" + why);
  CublasApi api;
  resolve(library, "cublasCreate_v2", api.create);
  resolve(library, "cublasDestroy_v2", api.destroy);
  resolve(library, "cublasSetStream_v2", api.set_stream);
  resolve(library, "cublasDgemm_v2", api.dgemm);
  resolve(library, "cublasSgemm_v2", api.sgemm);
  resolve(library, "cublasGetStatusString", api.status_string);
  return api;
}

}  // namespace

const CublasApi& cublas() {
  static const CublasApi api = load();  // a throwing initialisation is retried by the next call
  return api;
}

}  // namespace fastgpu::kernels
