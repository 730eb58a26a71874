/** @file Exception types. Every error FastGPU reports carries enough context to act on. */
#pragma once

#include <stdexcept>
#include <string>

namespace fastgpu {

/** @brief Base of every FastGPU error. */
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** @brief Invalid usage: bad options, an output file that exists, ... (exit code 2). */
class UsageError : public Error {
 public:
  using Error::Error;
};

/** @brief A place in a job file, 1-based line and column (0 when unknown). */
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

/** @brief A mistake in a job file; what() reads "file:line:column: message" (exit code 2). */
class JobFileError : public UsageError {
 public:
  JobFileError(SourceLocation where, const std::string& message)
      : UsageError(format(where, message)), where_(std::move(where)), message_(message) {}
  const SourceLocation& where() const { return where_; }
  const std::string& message() const { return message_; }

 private:
  static std::string format(const SourceLocation& where, const std::string& message) {
    std::string out = where.file;
    if (where.line > 0) out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
    return out + ": " + message;
  }
  SourceLocation where_;
  std::string message_;
};

/** @brief A failure reading or writing the results file. */
class IoError : public Error {
 public:
  using Error::Error;
};

/** @brief A CUDA, cuBLAS or device error; what() names the call, file:line and the library's text. */
class DeviceError : public Error {
 public:
  using Error::Error;
};

/**
 * @brief The device can no longer be used by this process: a CUDA error that poisons the context
 * (an illegal address, a kernel fault, an uncorrectable ECC error) or a lost GPU. The attempt fails
 * and is retried elsewhere, and the worker is retired: it runs no more subtasks. A plugin kernel
 * that detects such a state itself may throw it too.
 */
class DeviceLostError : public DeviceError {
 public:
  using DeviceError::DeviceError;
};

/** @brief An MPI or NCCL collective failed; what() names the call and the library's text. */
class CommError : public Error {
 public:
  using Error::Error;
};

/** @brief A kernel task failed: the attempt is recorded failed with this text and retried. */
class KernelError : public Error {
 public:
  using Error::Error;
};

}  // namespace fastgpu
