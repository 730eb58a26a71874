#include "io/results_layout.hpp"

namespace fastgpu::io {

h5::PropList file_access_properties(const std::filesystem::path& file) {
  h5::PropList fapl(h5::check(H5Pcreate(H5P_FILE_ACCESS), file, "H5Pcreate"));
#if H5_VERSION_GE(1, 10, 2)
  h5::check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18), file,
                   "H5Pset_libver_bounds");
#endif
#if H5_VERSION_GE(1, 10, 7)
  h5::check_status(H5Pset_file_locking(fapl.get(), 0, 1), file, "H5Pset_file_locking");
#endif
  return fapl;
}

}  // namespace fastgpu::io
