#include "io/hdf5_attributes.hpp"

#include <vector>

#include "io/hdf5_types.hpp"

namespace fastgpu::io::h5 {

namespace {

std::string call(const char* api, const char* name) { return std::string(api) + "(attribute " + name + ")"; }

/** @brief Creates attribute @p name (deleting an existing one first) and writes @p value. */
void write_attribute(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* value,
                     const std::filesystem::path& file) {
  htri_t exists = H5Aexists(obj, name);
  if (exists < 0) fail(file, call("H5Aexists", name));
  if (exists > 0) check_status(H5Adelete(obj, name), file, call("H5Adelete", name).c_str());
  Dataspace space(check(H5Screate(H5S_SCALAR), file, "H5Screate"));
  Attribute attr(check(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
                       call("H5Acreate2", name).c_str()));
  check_status(H5Awrite(attr.get(), mem_type, value), file, call("H5Awrite", name).c_str());
}

/** @brief Opens attribute @p name, or returns an empty handle when there is none. */
Attribute open_attribute(hid_t obj, const char* name, const std::filesystem::path& file) {
  htri_t exists = H5Aexists(obj, name);
  if (exists < 0) fail(file, call("H5Aexists", name));
  if (exists == 0) return Attribute();
  return Attribute(check(H5Aopen(obj, name, H5P_DEFAULT), file, call("H5Aopen", name).c_str()));
}

}  // namespace

void write_string_attribute(hid_t obj, const char* name, const std::string& value,
                            const std::filesystem::path& file) {
  Datatype type = vlen_string_type();
  const char* data = value.c_str();
  write_attribute(obj, name, type.get(), type.get(), &data, file);
}

void write_double_attribute(hid_t obj, const char* name, double value, const std::filesystem::path& file) {
  write_attribute(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, file);
}

void write_int_attribute(hid_t obj, const char* name, std::int32_t value, const std::filesystem::path& file) {
  write_attribute(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value, file);
}

std::optional<std::string> read_string_attribute(hid_t obj, const char* name,
                                                 const std::filesystem::path& file) {
  Attribute attr = open_attribute(obj, name, file);
  if (!attr) return std::nullopt;
  Datatype type(check(H5Aget_type(attr.get()), file, call("H5Aget_type", name).c_str()));
  if (H5Tget_class(type.get()) != H5T_STRING) {
    fail(file, "reading attribute " + std::string(name), "not a string attribute");
  }
  Dataspace space(check(H5Aget_space(attr.get()), file, call("H5Aget_space", name).c_str()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    fail(file, "reading attribute " + std::string(name), "not a scalar attribute");
  }
  htri_t variable = H5Tis_variable_str(type.get());
  if (variable < 0) fail(file, call("H5Tis_variable_str", name));
  if (variable > 0) {
    Datatype mem = vlen_string_type();
    char* data = nullptr;
    check_status(H5Aread(attr.get(), mem.get(), &data), file, call("H5Aread", name).c_str());
    std::string value = data != nullptr ? data : "";
    (void)H5free_memory(data);
    return value;
  }
  // Fixed length (written by other tools): read the raw bytes, drop the padding.
  std::size_t size = H5Tget_size(type.get());
  std::vector<char> buffer(size + 1, '\0');
  check_status(H5Aread(attr.get(), type.get(), buffer.data()), file, call("H5Aread", name).c_str());
  std::string value(buffer.data(), size);
  if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) {
    value.erase(value.find_last_not_of(' ') + 1);
  } else {
    value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  }
  return value;
}

std::optional<double> read_double_attribute(hid_t obj, const char* name, const std::filesystem::path& file) {
  Attribute attr = open_attribute(obj, name, file);
  if (!attr) return std::nullopt;
  Datatype type(check(H5Aget_type(attr.get()), file, call("H5Aget_type", name).c_str()));
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    fail(file, "reading attribute " + std::string(name), "not a numeric attribute");
  }
  double value = 0;
  check_status(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value), file, call("H5Aread", name).c_str());
  return value;
}

}  // namespace fastgpu::io::h5
