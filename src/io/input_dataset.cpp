#include "io/input_dataset.hpp"

#include <hdf5.h>

#include "fastgpu/error.hpp"
#include "io/hdf5_handle.hpp"
#include "io/hdf5_table.hpp"

namespace fastgpu::io {
namespace {

using h5::Dataset;
using h5::Dataspace;
using h5::Datatype;
using h5::File;

[[noreturn]] void refuse(const InputSpec& input, const std::string& why) {
  throw UsageError("input '" + input.name + "' (" + input.file + ", dataset " + input.dataset + "): " + why);
}

struct OpenInput {
  File file;
  Dataset dataset;
  InputShape shape;
};

OpenInput open_input(const InputSpec& input) {
  h5::ErrorSilencer silencer;
  OpenInput open;
  if (H5Fis_hdf5(input.file.c_str()) <= 0) refuse(input, "not an HDF5 file, or it cannot be read");
  open.file = File(H5Fopen(input.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!open.file) refuse(input, "cannot open the file");
  if (H5Lexists(open.file.get(), input.dataset.c_str(), H5P_DEFAULT) <= 0) refuse(input, "no such dataset in the file");
  open.dataset = Dataset(H5Dopen2(open.file.get(), input.dataset.c_str(), H5P_DEFAULT));
  if (!open.dataset) refuse(input, "not a dataset");
  Datatype type(H5Dget_type(open.dataset.get()));
  const H5T_class_t kind = H5Tget_class(type.get());
  if (kind != H5T_INTEGER && kind != H5T_FLOAT) refuse(input, "not numeric (integers or floats are)");
  Dataspace space(H5Dget_space(open.dataset.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) refuse(input, "cannot read its shape");
  open.shape.dims.resize(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), reinterpret_cast<hsize_t*>(open.shape.dims.data()), nullptr);
  if (open.shape.values() == 0) refuse(input, "it is empty");
  return open;
}

}  // namespace

std::uint64_t InputShape::values() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) n *= d;
  return n;
}

InputShape check_input(const InputSpec& input) { return open_input(input).shape; }

std::vector<double> read_input(const InputSpec& input) {
  OpenInput open = open_input(input);
  std::vector<double> values(open.shape.values());
  h5::ErrorSilencer silencer;
  if (H5Dread(open.dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    refuse(input, "reading it failed");
  }
  return values;
}

}  // namespace fastgpu::io
