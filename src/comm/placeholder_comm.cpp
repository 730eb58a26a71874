void fastgpu_comm_placeholder() {}
