void fastgpu_job_placeholder() {}
