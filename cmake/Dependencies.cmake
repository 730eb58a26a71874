# Every dependency comes from a Debian package (scripts/install-deps.sh installs them).

# The fuzz build (FASTGPU_FUZZ) has only src/job: TOML and JSON.
if(FASTGPU_FUZZ)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus)
  find_package(nlohmann_json 3 REQUIRED)
  set(FASTGPU_HAVE_CUDA OFF)
  set(FASTGPU_HAVE_NCCL OFF)
  return()
endif()

find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(ZLIB REQUIRED)  # crc32 of the results journal
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(PkgConfig REQUIRED)
pkg_check_modules(TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
# The gemm kernel's CPU path (src/kernels): OpenBLAS's CBLAS, found through its pkg-config file.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
# Worker placement (src/device/topology.cpp): the GPU's NUMA node and nearby cores, thread pinning.
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc)

# CUDA and NCCL are optional: on where found, off otherwise (or when asked).
find_package(CUDAToolkit QUIET)
option(FASTGPU_ENABLE_CUDA "Build the CUDA device backend" ${CUDAToolkit_FOUND})
if(FASTGPU_ENABLE_CUDA AND NOT CUDAToolkit_FOUND)
  message(FATAL_ERROR "FASTGPU_ENABLE_CUDA=ON but no CUDA toolkit was found")
endif()
if(FASTGPU_ENABLE_CUDA)
  # Device code for H100/H200 (sm_90) unless the user picks others; nvcc needs no GPU to compile.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS "${CUDAToolkit_NVCC_EXECUTABLE}")
    set(CMAKE_CUDA_COMPILER "${CUDAToolkit_NVCC_EXECUTABLE}")
  endif()
  enable_language(CUDA)
  # C++17 in .cu files: CMake 3.25 knows no C++20 flag for nvcc, and the CUDA sources need none.
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
endif()

find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
set(_nccl_found OFF)
if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY AND FASTGPU_ENABLE_CUDA)
  set(_nccl_found ON)
endif()
option(FASTGPU_ENABLE_NCCL "Build the NCCL collectives backend" ${_nccl_found})
if(FASTGPU_ENABLE_NCCL)
  if(NOT _nccl_found)
    message(FATAL_ERROR "FASTGPU_ENABLE_NCCL=ON needs CUDA and NCCL (nccl.h, libnccl)")
  endif()
  add_library(fastgpu_nccl INTERFACE)
  target_include_directories(fastgpu_nccl INTERFACE ${NCCL_INCLUDE_DIR})
  target_link_libraries(fastgpu_nccl INTERFACE ${NCCL_LIBRARY})
endif()

set(FASTGPU_HAVE_CUDA ${FASTGPU_ENABLE_CUDA})
set(FASTGPU_HAVE_NCCL ${FASTGPU_ENABLE_NCCL})
message(STATUS "FastGPU: CUDA backend ${FASTGPU_ENABLE_CUDA}, NCCL backend ${FASTGPU_ENABLE_NCCL}")
