// Philox4x32-10 against the known-answer vectors of the Random123 distribution (kat_vectors).
#include <gtest/gtest.h>

#include "kernels/philox.hpp"

namespace fastgpu::kernels {
namespace {

void expect_block(PhiloxCounter counter, PhiloxKey key, PhiloxCounter expected) {
  const PhiloxCounter got = philox4x32_10(counter, key);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got.v[i], expected.v[i]) << "word " << i;
}

TEST(Philox, KnownAnswers) {
  expect_block({{0, 0, 0, 0}}, {{0, 0}}, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}});
  expect_block({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, {{0xffffffffu, 0xffffffffu}},
               {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}});
  expect_block({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, {{0xa4093822u, 0x299f31d0u}},
               {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}});
}

TEST(Philox, UnitValuesAreInsideTheOpenInterval) {
  EXPECT_GT(unit_open(0), 0.0);
  EXPECT_LT(unit_open(0xffffffffu), 1.0);
}

}  // namespace
}  // namespace fastgpu::kernels
