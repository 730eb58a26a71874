// Scalar attributes: variable-length UTF-8 strings and numbers, written (replacing any previous
// value) and read back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "io/hdf5_handle.hpp"

namespace fastgpu::io::h5 {

/** @brief Sets a scalar variable-length UTF-8 string attribute, replacing an existing one. */
void write_string_attribute(hid_t obj, const char* name, const std::string& value,
                            const std::filesystem::path& file);
/** @brief Sets a scalar IEEE 754 double attribute, replacing an existing one. */
void write_double_attribute(hid_t obj, const char* name, double value, const std::filesystem::path& file);
/** @brief Sets a scalar 32-bit integer attribute, replacing an existing one. */
void write_int_attribute(hid_t obj, const char* name, std::int32_t value, const std::filesystem::path& file);

/**
 * @brief A string attribute (variable or fixed length), or nullopt when there is none; an
 * attribute of another class is an error.
 */
std::optional<std::string> read_string_attribute(hid_t obj, const char* name,
                                                 const std::filesystem::path& file);
/** @brief A numeric attribute converted to double, or nullopt when there is none. */
std::optional<double> read_double_attribute(hid_t obj, const char* name, const std::filesystem::path& file);

}  // namespace fastgpu::io::h5
