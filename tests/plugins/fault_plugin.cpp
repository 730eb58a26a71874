// A test plugin: kernel `test_lose_device` stands for a CUDA fault that poisons the GPU context
// (an illegal address), which a CPU-only machine cannot produce. Every attempt adds 1 to the
// reduction "count"; the first attempt of the subtask whose `index` equals `lose_at` throws
// fastgpu::DeviceLostError instead, as the CUDA backend does for such an error.
#include <fastgpu/error.hpp>
#include <fastgpu/kernel.hpp>

namespace {

class LoseDevice final : public fastgpu::Kernel {
 public:
  void run(fastgpu::Context& context) override {
    const fastgpu::KernelArgs& args = context.args();
    if (context.attempt() == 0 && args.integer("index") == args.integer("lose_at", -1)) {
      throw fastgpu::DeviceLostError("cudaStreamSynchronize: an illegal memory access was encountered (test)");
    }
    const double one = 1;
    context.reduce("count", {&one, 1});
  }
};

fastgpu::KernelArgSpec integer_arg(const char* name, bool required, const char* help) {
  fastgpu::KernelArgSpec spec;
  spec.name = name;
  spec.type = fastgpu::KernelArgType::integer;
  spec.required = required;
  spec.help = help;
  spec.example = "3";
  return spec;
}

}  // namespace

FASTGPU_PLUGIN(registry) {
  fastgpu::add_kernel<LoseDevice>(registry, "test_lose_device",
                                  "adds 1 to the reduction count; loses the device on one subtask (a test plugin)",
                                  {integer_arg("index", true, "this subtask's number"),
                                   integer_arg("lose_at", false, "the subtask whose first attempt loses the device")});
}
