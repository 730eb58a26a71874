// FASTGPU_CHECK_MPI(call): runs an MPI call and turns a failure into fastgpu::CommError naming the
// call, where it was made and MPI's own text. Only useful on communicators whose error handler is
// MPI_ERRORS_RETURN; under the default MPI_ERRORS_ARE_FATAL the process aborts inside MPI.
#pragma once

#include <mpi.h>

#include <string>

#include "fastgpu/error.hpp"

namespace fastgpu::comm::detail {

[[noreturn]] inline void throw_mpi_error(int code, const char* call, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  throw CommError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                  (length > 0 ? std::string(text, static_cast<std::size_t>(length)) : "MPI error " + std::to_string(code)));
}

}  // namespace fastgpu::comm::detail

#define FASTGPU_CHECK_MPI(call)                                                            \
  do {                                                                                     \
    const int fastgpu_mpi_code_ = (call);                                                  \
    if (fastgpu_mpi_code_ != MPI_SUCCESS)                                                  \
      ::fastgpu::comm::detail::throw_mpi_error(fastgpu_mpi_code_, #call, __FILE__, __LINE__); \
  } while (false)
