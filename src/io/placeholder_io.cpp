void fastgpu_io_placeholder() {}
