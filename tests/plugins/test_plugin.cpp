// A test plugin: kernel `test_scale` records factor * x as the metric "scaled".
#include <fastgpu/kernel.hpp>

namespace {

class TestScale final : public fastgpu::Kernel {
 public:
  void run(fastgpu::Context& context) override {
    const fastgpu::KernelArgs& args = context.args();
    context.metric("scaled", args.number("factor") * args.number("x", 1.0));
  }
};

}  // namespace

FASTGPU_PLUGIN(registry) {
  fastgpu::KernelArgSpec factor;
  factor.name = "factor";
  factor.type = fastgpu::KernelArgType::number;
  factor.required = true;
  factor.help = "what x is multiplied by";
  factor.example = "2";
  fastgpu::KernelArgSpec x;
  x.name = "x";
  x.type = fastgpu::KernelArgType::number;
  x.help = "the value scaled (default 1)";
  x.example = "3";
  fastgpu::add_kernel<TestScale>(registry, "test_scale", "multiplies x by factor (a test plugin)", {factor, x});
}
