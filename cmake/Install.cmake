# `cmake --install BUILD --prefix P`: the fastgpu binary (bin/), the public headers
# (include/fastgpu/*.hpp and the generated config.hpp), the static libraries, the Slurm template
# (share/fastgpu/), and a CMake package so that a downstream project can write
#
#   find_package(FastGPU REQUIRED)
#   target_link_libraries(my_tool PRIVATE FastGPU::core)              # the whole library
#   target_link_libraries(my_kernels PRIVATE FastGPU::kernel_api)     # a plugin: headers only
#
# Included from the top-level CMakeLists.txt after add_subdirectory(src). Internal headers (src/)
# are not installed: the public ones (include/fastgpu) are all a plugin or a library user needs.
include(CMakePackageConfigHelpers)

set(FASTGPU_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/FastGPU CACHE STRING
    "Where FastGPUConfig.cmake is installed, relative to the prefix")

# The kernel-task API alone (include/fastgpu/kernel.hpp and what it includes): headers and C++20,
# no library. What a plugin links: the plugin runs inside the fastgpu process, which already has
# every FastGPU symbol and library, so it must not carry a second copy of them.
add_library(fastgpu_kernel_api INTERFACE)
target_include_directories(fastgpu_kernel_api INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(fastgpu_kernel_api INTERFACE cxx_std_20)
set_target_properties(fastgpu_kernel_api PROPERTIES EXPORT_NAME kernel_api)
add_library(fastgpu::kernel_api ALIAS fastgpu_kernel_api)
target_compile_features(fastgpu_core INTERFACE cxx_std_20)

# Every target of this project that FastGPU::core reaches through its link interface (the area
# libraries, fastgpu_nccl, ...), found by walking it, so a new area is exported without a change
# here. `_fastgpu_imported` collects the imported targets they use, for find_dependency below.
set(_fastgpu_exported "")
set(_fastgpu_imported "")
function(_fastgpu_walk target)
  if(target IN_LIST _fastgpu_exported)
    return()
  endif()
  set(_exported ${_fastgpu_exported} ${target})
  set(_imported ${_fastgpu_imported})
  get_target_property(_links ${target} INTERFACE_LINK_LIBRARIES)
  set(_next "")
  foreach(_item IN LISTS _links)
    if(_item MATCHES "^\\$<BUILD_INTERFACE:")
      continue()  # not part of the installed interface
    endif()
    if(_item MATCHES "^\\$<LINK_ONLY:(.+)>$")
      set(_item "${CMAKE_MATCH_1}")
    endif()
    if(_item MATCHES "^\\$<")
      # Another generator expression: take the imported target names in it.
      string(REGEX MATCHALL "[A-Za-z0-9_]+::[A-Za-z0-9_.+-]+" _names "${_item}")
      list(APPEND _imported ${_names})
      continue()
    endif()
    if(NOT TARGET ${_item})
      continue()  # a plain library name or path (dl, /usr/local/cuda/lib64/libnccl.so)
    endif()
    get_target_property(_aliased ${_item} ALIASED_TARGET)
    if(_aliased)
      set(_item ${_aliased})
    endif()
    get_target_property(_is_imported ${_item} IMPORTED)
    if(_is_imported)
      list(APPEND _imported ${_item})
    else()
      list(APPEND _next ${_item})
    endif()
  endforeach()
  set(_fastgpu_exported ${_exported} PARENT_SCOPE)
  set(_fastgpu_imported ${_imported} PARENT_SCOPE)
  set(_fastgpu_exported ${_exported})
  set(_fastgpu_imported ${_imported})
  foreach(_child IN LISTS _next)
    _fastgpu_walk(${_child})
  endforeach()
  set(_fastgpu_exported ${_fastgpu_exported} PARENT_SCOPE)
  set(_fastgpu_imported ${_fastgpu_imported} PARENT_SCOPE)
endfunction()
_fastgpu_walk(fastgpu_core)
_fastgpu_walk(fastgpu_kernel_api)
list(REMOVE_DUPLICATES _fastgpu_imported)

# FastGPU::job, FastGPU::io, ... (fastgpu_job, fastgpu_io, ...), FastGPU::core, FastGPU::kernel_api.
foreach(_target IN LISTS _fastgpu_exported)
  get_target_property(_export_name ${_target} EXPORT_NAME)
  if(NOT _export_name)
    string(REGEX REPLACE "^fastgpu_" "" _export_name ${_target})
    set_target_properties(${_target} PROPERTIES EXPORT_NAME ${_export_name})
  endif()
endforeach()
set_target_properties(fastgpu PROPERTIES EXPORT_NAME fastgpu)  # FastGPU::fastgpu: the installed binary

install(TARGETS fastgpu ${_fastgpu_exported} EXPORT FastGPUTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/fastgpu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/fastgpu/config.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fastgpu)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/slurm/fastgpu.sbatch DESTINATION ${CMAKE_INSTALL_DATADIR}/fastgpu)
install(EXPORT FastGPUTargets NAMESPACE FastGPU:: DESTINATION ${FASTGPU_INSTALL_CMAKEDIR})

# The find_dependency calls FastGPUConfig.cmake makes: one per package the exported targets use.
set(_deps "")
set(_mpi_components "")
set(_unknown "")
foreach(_imported IN LISTS _fastgpu_imported)
  if(_imported MATCHES "^MPI::MPI_(.+)$")
    list(APPEND _mpi_components ${CMAKE_MATCH_1})
  elseif(_imported MATCHES "^HDF5::")
    list(APPEND _deps "find_dependency(HDF5 COMPONENTS C)")
  elseif(_imported MATCHES "^ZLIB::")
    list(APPEND _deps "find_dependency(ZLIB)")
  elseif(_imported MATCHES "^Threads::")
    list(APPEND _deps "find_dependency(Threads)")
  elseif(_imported MATCHES "^nlohmann_json::")
    list(APPEND _deps "find_dependency(nlohmann_json 3)")
  elseif(_imported MATCHES "^CUDA::")
    list(APPEND _deps "fastgpu_find_cuda()")
  elseif(_imported MATCHES "^BLAS::")
    list(APPEND _deps "find_dependency(BLAS)")
  elseif(_imported MATCHES "^LAPACK::")
    list(APPEND _deps "find_dependency(LAPACK)")
  elseif(_imported MATCHES "^OpenMP::OpenMP_(.+)$")
    list(APPEND _deps "find_dependency(OpenMP COMPONENTS ${CMAKE_MATCH_1})")
  elseif(_imported MATCHES "^Boost::(.+)$")
    list(APPEND _deps "find_dependency(Boost COMPONENTS ${CMAKE_MATCH_1})")
  elseif(_imported MATCHES "^PkgConfig::(.+)$")
    # pkg_check_modules(PREFIX ... module) made it: make it again, with the same module.
    set(_prefix ${CMAKE_MATCH_1})
    set(_module "")
    foreach(_arg IN LISTS __pkg_config_arguments_${_prefix})
      if(NOT _arg MATCHES "^(REQUIRED|QUIET|IMPORTED_TARGET|GLOBAL|NO_CMAKE_PATH|NO_CMAKE_ENVIRONMENT_PATH)$")
        list(APPEND _module ${_arg})
      endif()
    endforeach()
    if(NOT _module)
      string(TOLOWER ${_prefix} _module)
    endif()
    list(APPEND _deps "fastgpu_pkg_config(${_prefix} ${_module})")
  else()
    list(APPEND _unknown ${_imported})
  endif()
endforeach()
if(_mpi_components)
  list(REMOVE_DUPLICATES _mpi_components)
  list(JOIN _mpi_components " " _mpi_components)
  list(PREPEND _deps "find_dependency(MPI COMPONENTS ${_mpi_components})")
endif()
if(_unknown)
  message(WARNING "FastGPU: find_package(FastGPU) does not know which package provides ${_unknown}: "
                  "add it to cmake/Install.cmake")
endif()
list(REMOVE_DUPLICATES _deps)
list(JOIN _deps "\n" FASTGPU_CONFIG_DEPENDENCIES)
set(FASTGPU_CONFIG_CUDA_ROOT "")
if(CUDAToolkit_LIBRARY_ROOT)
  set(FASTGPU_CONFIG_CUDA_ROOT "${CUDAToolkit_LIBRARY_ROOT}")
elseif(CUDAToolkit_BIN_DIR)
  get_filename_component(FASTGPU_CONFIG_CUDA_ROOT "${CUDAToolkit_BIN_DIR}" DIRECTORY)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/FastGPUConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/FastGPUConfig.cmake
  INSTALL_DESTINATION ${FASTGPU_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/FastGPUConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/FastGPUConfig.cmake ${PROJECT_BINARY_DIR}/cmake/FastGPUConfigVersion.cmake
  DESTINATION ${FASTGPU_INSTALL_CMAKEDIR})
