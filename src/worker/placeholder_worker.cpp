void fastgpu_worker_placeholder() {}
