# Sourced by the scripts: lets Open MPI run as root (CI and containers run as root) and place more
# ranks than cores (a 2-core machine runs a scheduler and several workers).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
