void fastgpu_device_placeholder() {}
