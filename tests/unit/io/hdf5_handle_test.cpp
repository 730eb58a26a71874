#include "io/hdf5_handle.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "fastgpu/error.hpp"

namespace fastgpu::io::h5 {
namespace {

static_assert(!std::is_copy_constructible_v<Dataspace>);
static_assert(!std::is_copy_assignable_v<Dataspace>);
static_assert(std::is_nothrow_move_constructible_v<Dataspace>);

bool is_valid(hid_t id) { return H5Iis_valid(id) > 0; }

TEST(Hdf5Handle, ClosesOnDestructionAndMovesOwnership) {
  hid_t raw = H5Screate(H5S_SCALAR);
  ASSERT_GE(raw, 0);
  {
    Dataspace a(raw);
    EXPECT_TRUE(a);
    Dataspace b(std::move(a));
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_EQ(b.get(), raw);
    Dataspace c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_TRUE(is_valid(raw));
  }
  EXPECT_FALSE(is_valid(raw));
}

TEST(Hdf5Handle, MoveAssignmentClosesThePreviousId) {
  Datatype a(H5Tcopy(H5T_NATIVE_INT));
  const hid_t first = a.get();
  a = Datatype(H5Tcopy(H5T_NATIVE_DOUBLE));
  EXPECT_FALSE(is_valid(first));
  EXPECT_TRUE(is_valid(a.get()));
  EXPECT_GE(a.close(), 0);
  EXPECT_FALSE(a);
}

TEST(Hdf5Handle, FailuresBecomeIoErrorsWithCallPathAndReason) {
  ErrorSilencer silencer;
  const std::filesystem::path path = "/nonexistent-dir/x.h5";
  try {
    File file(check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "H5Fopen"));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("results file '/nonexistent-dir/x.h5': H5Fopen failed: ", 0), 0u) << what;
    EXPECT_NE(what.find("unable to open file"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace fastgpu::io::h5
