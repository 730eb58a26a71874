// A test plugin that registers a kernel under a built-in's name ("sleep"): the registry refuses it.
#include <fastgpu/kernel.hpp>

namespace {

class NotSleep final : public fastgpu::Kernel {
 public:
  void run(fastgpu::Context&) override {}
};

}  // namespace

FASTGPU_PLUGIN(registry) { fastgpu::add_kernel<NotSleep>(registry, "sleep", "takes a built-in's name", {}); }
