void fastgpu_placeholder() {}
