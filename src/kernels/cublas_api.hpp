// cuBLAS, loaded with dlopen on the first gemm on a GPU instead of linked. Linking it cost every
// fastgpu process about 80 ms of start-up (cuBLASLt's static constructors fill hundreds of pages),
// paid by `fastgpu inspect`, every MPI rank and the child guard even when no subtask multiplies
// (docs/PERFORMANCE.md, "One benchmark suite", history). CUDA builds only (gemm.cu).
#pragma once

#include <cublas_v2.h>

namespace fastgpu::kernels {

/// The cuBLAS entry points gemm.cu uses (the _v2 names cublas_v2.h maps the plain ones to).
struct CublasApi {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasDgemm_v2) dgemm = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

/**
 * @brief The process's cuBLAS, loaded on the first call: `libcublas.so.MAJOR` of the toolkit
 * built against, found as a linked library would be (LD_LIBRARY_PATH, the binary's RUNPATH, the
 * loader's cache), else in the toolkit's library folder of the build machine. Thread-safe; throws
 * fastgpu::DeviceError saying what was tried when it cannot be loaded (a later call tries again).
 */
const CublasApi& cublas();

}  // namespace fastgpu::kernels
