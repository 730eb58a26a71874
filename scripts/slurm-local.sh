#!/usr/bin/env bash
# A single-node Slurm on this machine, for testing slurm/fastgpu.sbatch on a real Slurm.
#
#   bash scripts/slurm-local.sh up       # install (apt, idempotent), configure, start; wait for the node
#   bash scripts/slurm-local.sh status   # daemons, sinfo, the queue
#   bash scripts/slurm-local.sh down     # stop the daemons this script started, remove its files
#
# Needs root (it runs slurmctld and slurmd as root, creates /dev/fakegpuN and links
# /etc/slurm/slurm.conf to its own configuration so that plain `sbatch`, `squeue`, ... find it).
# Debian 12's slurm-wlm 22.05 and munge. `up` is re-runnable: when the cluster is already up it
# says so and returns 0; `down` is safe to run when nothing is up.
#
# What it sets up (all state, spool and logs under $FASTGPU_SLURM_DIR, default /tmp/fastgpu-slurm):
#   - munged, with /etc/munge/munge.key (created when missing), unless one already answers;
#   - slurm.conf: one node named `hostname -s` with FASTGPU_SLURM_CPUS CPUs (default: nproc, at
#     least 32 -- SlurmdParameters=config_overrides lets a 2-core machine accept the template's
#     5 tasks x 4 CPUs; nothing is bound, TaskPlugin=task/none), RealMemory from /proc/meminfo,
#     FASTGPU_SLURM_GPUS fake GPUs (default 4) as gres, one partition `debug`;
#     select/cons_tres, proctrack/linuxproc (no cgroups needed in a container), MpiDefault=none
#     (srun --mpi=pmix works too), KillWait=10, MinJobAge=300, a jobcomp text log of every job end,
#     AuthInfo=cred_expire=10 (a requeued job starts again after ~11 s instead of ~2 min);
#   - gres.conf: Name=gpu File=/dev/fakegpu[0-N] -- character devices made with mknod 1:3 (the
#     same device as /dev/null): Slurm only needs them to exist; it then sets CUDA_VISIBLE_DEVICES
#     from the gres it allocates, as on a real GPU node.
set -euo pipefail

dir=${FASTGPU_SLURM_DIR:-/tmp/fastgpu-slurm}
gpus=${FASTGPU_SLURM_GPUS:-4}
cpus=${FASTGPU_SLURM_CPUS:-$(( $(nproc) > 32 ? $(nproc) : 32 ))}
partition=debug
marker="# written by fastgpu scripts/slurm-local.sh"
etc_conf=/etc/slurm/slurm.conf

log() { echo "slurm-local: $*"; }
die() { echo "slurm-local: error: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (slurmctld/slurmd run as root here, /dev/fakegpuN need mknod)"; }

install_packages() {
  local packages=(slurmctld slurmd slurm-client munge) missing=() package
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local out
  out=$(mktemp)
  # policy-rc.d in containers stops the packages' services from starting; we start our own.
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${missing[@]}"; } >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    die "apt-get could not install ${missing[*]}"
  fi
  rm -f "$out"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_ok; then return 0; fi
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null; then mungekey --create --force; else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  # As the munge user, as the package's service would (the key belongs to it).
  runuser -u munge -- /usr/sbin/munged
  touch "$dir/munged.ours"
  local i
  for i in $(seq 50); do munge_ok && return 0; sleep 0.1; done
  die "munged does not answer (see /var/log/munge/munged.log)"
}

write_config() {
  local host mem_mb
  host=$(hostname -s)
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p "$dir/etc" "$dir/state" "$dir/spool" "$dir/log"
  local last=$((gpus - 1)) i
  for i in $(seq 0 "$last"); do
    [ -c "/dev/fakegpu$i" ] || mknod -m 0666 "/dev/fakegpu$i" c 1 3
  done
  cat >"$dir/etc/slurm.conf" <<EOF
$marker ($dir)
ClusterName=fastgpu-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job may start again only when the credentials of its killed run have expired
# (default 120 s): 10 s keeps the requeue tests short.
AuthInfo=cred_expire=10
# Look at pending jobs every 2 s (defaults 60 s and 30 s): a requeued job starts once eligible.
SchedulerParameters=sched_interval=2,bf_interval=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in a container: track processes by their parent chain, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
JobRequeue=1
KillWait=10
MinJobAge=300
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
NodeName=$host CPUs=$cpus RealMemory=$mem_mb Gres=gpu:$gpus State=UNKNOWN
PartitionName=$partition Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$dir/etc/gres.conf" <<EOF
$marker
NodeName=$host Name=gpu File=/dev/fakegpu[0-$last]
EOF
  # Plain `sbatch` reads /etc/slurm/slurm.conf; point it at ours, never over a site's own file.
  mkdir -p /etc/slurm
  if [ -e "$etc_conf" ] || [ -L "$etc_conf" ]; then
    grep -q "^$marker" "$etc_conf" 2>/dev/null ||
      die "$etc_conf exists and is not ours; refusing to replace it (move it away first)"
  fi
  ln -sfn "$dir/etc/slurm.conf" "$etc_conf"
}

node_state() { sinfo -h -N -o %T 2>/dev/null | head -n1; }

cmd_up() {
  need_root
  case $(pid_alive "$dir/slurmctld.pid" && pid_alive "$dir/slurmd.pid" && node_state) in
    idle | mixed | allocated | completing)
      log "already up ($dir): node $(hostname -s) $(node_state)"
      return 0 ;;
  esac
  install_packages
  mkdir -p "$dir"
  start_munge
  write_config
  export SLURM_CONF="$dir/etc/slurm.conf"
  if ! pid_alive "$dir/slurmctld.pid"; then
    slurmctld -i   # -i: ignore state it cannot recover (a killed earlier run)
  fi
  if ! pid_alive "$dir/slurmd.pid"; then
    slurmd
  fi
  local i state=""
  for i in $(seq 120); do
    state=$(node_state)
    case $state in
      idle) break ;;
      down*|drain*|fail*) scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  if [ "$state" != idle ]; then
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    die "node $(hostname -s) is '${state:-unknown}' after 60 s, not idle (logs above)"
  fi
  log "up: node $(hostname -s), $cpus CPUs, $gpus fake GPUs (gres gpu), partition $partition; state in $dir"
  sinfo -N -o '%N %T %c %m %G %P'
}

stop_pidfile() {  # name pidfile
  local pid i
  [ -f "$2" ] || return 0
  pid=$(cat "$2")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$1 ($pid) still running after 10 s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$2"
}

cmd_down() {
  need_root
  if [ -f "$dir/etc/slurm.conf" ]; then
    export SLURM_CONF="$dir/etc/slurm.conf"
    # Jobs first, so that no subtask outlives the cluster (slurmd kills their processes).
    if pid_alive "$dir/slurmctld.pid"; then
      scancel --full --quiet --user=root 2>/dev/null || true
      local i
      for i in $(seq 40); do [ -z "$(squeue -h -t running,completing 2>/dev/null)" ] && break; sleep 0.5; done
    fi
  fi
  stop_pidfile slurmd "$dir/slurmd.pid"
  stop_pidfile slurmctld "$dir/slurmctld.pid"
  if [ -f "$dir/munged.ours" ]; then
    stop_pidfile munged /run/munge/munged.pid
    rm -f "$dir/munged.ours"
  fi
  if [ -L "$etc_conf" ] && [ "$(readlink "$etc_conf")" = "$dir/etc/slurm.conf" ]; then rm -f "$etc_conf"; fi
  local dev
  for dev in /dev/fakegpu*; do
    [ -c "$dev" ] && [ "$(stat -c %t:%T "$dev")" = 1:3 ] && rm -f "$dev"
  done
  rm -rf "$dir"
  log "down"
}

cmd_status() {
  local up=0
  if pid_alive "$dir/slurmctld.pid"; then echo "slurmctld: running (pid $(cat "$dir/slurmctld.pid"))"; else echo "slurmctld: not running"; up=1; fi
  if pid_alive "$dir/slurmd.pid"; then echo "slurmd:    running (pid $(cat "$dir/slurmd.pid"))"; else echo "slurmd:    not running"; up=1; fi
  if munge_ok; then echo "munge:     ok"; else echo "munge:     not answering"; up=1; fi
  if [ $up -eq 0 ]; then
    export SLURM_CONF="$dir/etc/slurm.conf"
    sinfo -N -o '%N %T %c %m %G %P'
    squeue
  fi
  return $up
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
