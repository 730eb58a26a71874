// A shared library that is not a FastGPU plugin: it has no FASTGPU_PLUGIN entry.
extern "C" int fastgpu_test_not_a_plugin() { return 42; }
