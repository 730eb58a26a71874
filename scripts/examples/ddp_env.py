#!/usr/bin/env python3
"""A stand-in for a PyTorch DDP script (jobs/ddp_command.toml): prints the variables torchrun sets,
which FastGPU sets for each process of a multi-GPU command subtask. A real script would call
torch.distributed.init_process_group("nccl") here, which reads exactly these."""
import os

keys = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "CUDA_VISIBLE_DEVICES")
print(" ".join(f"{k}={os.environ.get(k, '')}" for k in keys), flush=True)
print(f"FASTGPU_METRIC rank={os.environ['RANK']}")
print(f"FASTGPU_METRIC world_size={os.environ['WORLD_SIZE']}")
