// An owned MPI_Comm (RAII): the collectives' private communicators.
#pragma once

#include <mpi.h>

#include <utility>

#include "comm/mpi_check.hpp"

namespace fastgpu::comm {

/// Owns a communicator: freed on destruction (unless MPI is already finalized); move-only. Errors on
/// it come back as codes, so FASTGPU_CHECK_MPI throws CommError instead of MPI aborting the job.
class MpiComm {
 public:
  /// Takes ownership of `comm` (MPI_COMM_NULL allowed).
  explicit MpiComm(MPI_Comm comm) : comm_(comm) {
    if (comm_ == MPI_COMM_NULL) return;
    const int code = MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    if (code != MPI_SUCCESS) {
      MPI_Comm_free(&comm_);  // the destructor will not run
      detail::throw_mpi_error(code, "MPI_Comm_set_errhandler", __FILE__, __LINE__);
    }
  }
  /// A duplicate of `comm` (collective over `comm`).
  static MpiComm dup(MPI_Comm comm) {
    MPI_Comm copy = MPI_COMM_NULL;
    FASTGPU_CHECK_MPI(MPI_Comm_dup(comm, &copy));
    return MpiComm(copy);
  }
  ~MpiComm() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
  }
  MpiComm(MpiComm&& other) noexcept : comm_(std::exchange(other.comm_, MPI_COMM_NULL)) {}
  MpiComm& operator=(MpiComm&& other) noexcept {
    std::swap(comm_, other.comm_);
    return *this;
  }
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_;
};

}  // namespace fastgpu::comm
