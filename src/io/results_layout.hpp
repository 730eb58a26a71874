// Names and file-level settings of the results file, shared by the writer and the reader.
#pragma once

#include <cstdint>
#include <filesystem>

#include "io/hdf5_handle.hpp"

namespace fastgpu::io {

/** @brief Root attribute `format` and `format_version`. */
inline constexpr const char* kFormatName = "fastgpu-results";
inline constexpr std::int32_t kFormatVersion = 1;

inline constexpr const char* kJob = "job";
inline constexpr const char* kTasks = "tasks";
inline constexpr const char* kAttempts = "attempts";
inline constexpr const char* kOutputs = "outputs";
inline constexpr const char* kStdout = "outputs/stdout";
inline constexpr const char* kStderr = "outputs/stderr";
inline constexpr const char* kMetrics = "outputs/metrics";
inline constexpr const char* kArrays = "outputs/arrays";
inline constexpr const char* kCheckpoints = "outputs/checkpoints";
inline constexpr const char* kWorkers = "workers";
inline constexpr const char* kEvents = "events";
inline constexpr const char* kTelemetry = "telemetry";

/**
 * @brief File access properties for both writer and reader: HDF5 1.8-compatible format (so no
 * superblock "open for writing" flag: the file can be read while the writer has it open) and no
 * file locking (readers may open it meanwhile; locking also fails on some parallel filesystems).
 */
h5::PropList file_access_properties(const std::filesystem::path& file);

}  // namespace fastgpu::io
