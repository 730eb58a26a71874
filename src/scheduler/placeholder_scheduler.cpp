void fastgpu_scheduler_placeholder() {}
