// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator, so sample i of a stream is a pure function of (key, i). That makes a
// kernel's random numbers independent of which thread, block, worker or device draws them, and
// the host and CUDA code below share this one definition (it compiles as both).
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define FASTGPU_HOST_DEVICE __host__ __device__
#else
#define FASTGPU_HOST_DEVICE
#endif

namespace fastgpu::kernels {

struct PhiloxCounter {
  std::uint32_t v[4];
};
struct PhiloxKey {
  std::uint32_t v[2];
};

/// The 4x32-bit block for `counter` under `key` (10 rounds, the Random123 reference constants).
FASTGPU_HOST_DEVICE inline PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key.v[0] += kW0;
      key.v[1] += kW1;
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * counter.v[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * counter.v[2];
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    counter = PhiloxCounter{{hi1 ^ counter.v[1] ^ key.v[0], lo1, hi0 ^ counter.v[3] ^ key.v[1], lo0}};
  }
  return counter;
}

/// The block for element `index` of stream `stream` under a 64-bit seed: the seed is the key, and
/// (index, stream) fill the 128-bit counter, so different streams never share a block.
FASTGPU_HOST_DEVICE inline PhiloxCounter philox_block(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  return philox4x32_10(PhiloxCounter{{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32),
                                      static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}},
                       PhiloxKey{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}});
}

/// A 32-bit word as a double in the open interval (0, 1); exact, so host and device agree.
FASTGPU_HOST_DEVICE inline double unit_open(std::uint32_t word) { return (word + 0.5) * (1.0 / 4294967296.0); }

}  // namespace fastgpu::kernels
