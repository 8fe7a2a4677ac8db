#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for tests and CI.
#
#   bash .ci/slurm.sh start    install (Debian packages), configure and start munged, slurmctld
#                              and slurmd; wait until the node takes jobs. Safe to run again.
#   bash .ci/slurm.sh stop     stop slurmd, slurmctld and munged (and any job steps left running).
#   bash .ci/slurm.sh status   exit 0 when sinfo answers and the node is usable.
#
# Must run as root on Debian (or Ubuntu). No systemd needed: the daemons are started directly.
# The cluster has one node (this machine's short hostname, reached at 127.0.0.1) with all its
# CPUs and a little less than its memory, in one partition `debug` (default, no time limit).
# Batch jobs can be requeued (`scontrol requeue <id>`); Slurm then holds the job back for about
# two minutes (Reason=BeginTime), and `scontrol update jobid=<id> starttime=now` releases it.
# There is no accounting database, so `sacct` is not available.
# A start of stopped daemons begins with an empty queue; a start of running ones changes nothing
# (or, when slurm.conf would change, restarts the daemons and keeps the jobs).
#
# Settings (environment):
#   SLURM_CI_DIR       state, spool, logs and pid files   (default /var/spool/slurm-inception)
#   SLURM_CI_CLUSTER   ClusterName                        (default inception)
#   SLURM_CI_TIMEOUT   seconds to wait for the node       (default 60)
#   SLURM_CI_KEEP_JOBS 1: keep the saved jobs when starting stopped daemons
set -euo pipefail

BASE=${SLURM_CI_DIR:-/var/spool/slurm-inception}
CLUSTER=${SLURM_CI_CLUSTER:-inception}
TIMEOUT=${SLURM_CI_TIMEOUT:-60}
PARTITION=debug
CONF=/etc/slurm/slurm.conf
MUNGE_KEY=/etc/munge/munge.key
MUNGE_PID=/run/munge/munged.pid
MUNGE_LOG=/var/log/munge/munged.log
CTLD_PID=$BASE/run/slurmctld.pid
SLURMD_PID=$BASE/run/slurmd.pid
CTLD_LOG=$BASE/log/slurmctld.log
SLURMD_LOG=$BASE/log/slurmd.log
PACKAGES=(munge slurmctld slurmd slurm-client)
# node states (sinfo %T) in which the node takes or runs jobs; a trailing '*' (not responding),
# '~' (powered off), '#', '!', '%' or '$' does not count
USABLE='^(idle|mixed|allocated|completing)$'

log() { echo "slurm: $*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() { [[ $(id -u) -eq 0 ]] || die "run as root"; }

# --- install -----------------------------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

has_candidate() {
    local c
    c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ -n $c && $c != "(none)" ]]
}

install_packages() {
    local missing=() p updated=0 added_policy=0
    for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    for p in "${missing[@]}"; do
        if ! has_candidate "$p"; then apt-get update -qq; updated=1; break; fi
    done
    # keep the packages' maintainer scripts from starting daemons with their default configs
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    local rc=0 out
    out=$(mktemp)
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$out" 2>&1 || rc=$?
    if [[ $rc -ne 0 && $updated -eq 0 ]]; then
        # stale package lists (a version no longer on the mirror): refresh once and retry
        apt-get update -qq
        rc=0
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$out" 2>&1 || rc=$?
    fi
    [[ $added_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
    [[ $rc -eq 0 ]] || { tail -n 30 "$out" >&2; rm -f "$out"; die "apt-get install ${missing[*]} failed"; }
    rm -f "$out"
}

# --- munge -------------------------------------------------------------------------------------

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    id munge >/dev/null 2>&1 || die "no 'munge' user (the munge package creates it)"
    install -d -m 0700 -o munge -g munge /etc/munge /var/lib/munge /var/log/munge
    install -d -m 0755 -o munge -g munge /run/munge
    if [[ ! -s $MUNGE_KEY ]]; then
        log "creating $MUNGE_KEY"
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$MUNGE_KEY" --force
        else
            dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
        fi
    fi
    chown munge:munge "$MUNGE_KEY"
    chmod 0400 "$MUNGE_KEY"
    if running munged && munge_ok; then return 0; fi
    kill_daemon munged "$MUNGE_PID"
    rm -f /run/munge/munge.socket.2*
    touch "$MUNGE_LOG"
    chown munge:munge "$MUNGE_LOG"
    # munged refuses to start when a directory above its files is group- or world-writable
    # (some containers have such a /var or /run); --force turns that into a warning
    runuser -u munge -- /usr/sbin/munged --force --log-file="$MUNGE_LOG" --pid-file="$MUNGE_PID" \
        2>>"$MUNGE_LOG" ||
        die "munged did not start; $(tail -n 5 "$MUNGE_LOG" 2>/dev/null)"
    for _ in $(seq 1 50); do munge_ok && return 0; sleep 0.1; done
    tail -n 20 "$MUNGE_LOG" >&2 || true
    die "munge does not answer"
}

# --- slurm.conf --------------------------------------------------------------------------------

node_name() { hostname -s; }

# this machine's CPUs and memory (MB), as slurmd sees them
hardware() {
    local line cpus mem memtotal
    line=$(slurmd -C 2>/dev/null | head -n 1 || true)
    cpus=$(sed -n 's/.*[[:space:]]CPUs=\([0-9]*\).*/\1/p' <<<"$line")
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$line")
    # no more than this process may use (a container can be given fewer CPUs than it sees)
    [[ -n $cpus && $cpus -le $(nproc) ]] || cpus=$(nproc)
    memtotal=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    [[ -n $mem && $mem -le $memtotal ]] || mem=$memtotal
    echo "$cpus $mem"
}

write_conf() {
    local node cpus mem real defmem user
    node=$(node_name)
    read -r cpus mem < <(hardware)
    # a little under the real memory: slurmd drains a node that reports less than configured
    real=$((mem - (mem / 20 > 256 ? mem / 20 : 256)))
    ((real > 0)) || real=$mem
    defmem=$((real / cpus))
    user=slurm
    id slurm >/dev/null 2>&1 || user=root
    cat <<EOF
# Written by .ci/slurm.sh for this machine ($node): one node, one partition. Regenerated on start.
ClusterName=$CLUSTER
SlurmctldHost=$node(127.0.0.1)
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
SwitchType=switch/none
# no cgroups here: plain process tracking, no task binding or confinement
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# schedule a batch job when it is submitted (the default waits up to 3 s to batch them)
SchedulerParameters=batch_sched_delay=0
# every logical CPU is a slot; memory is tracked (DefMemPerCPU) but not enforced
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$defmem
# requeue: batch jobs are requeueable by default (sbatch --no-requeue opts out);
# a higher-priority partition, if one is ever added, preempts by requeueing
JobRequeue=1
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
ReturnToService=2
MinJobAge=30
KillWait=5
InactiveLimit=0
Waittime=0
SlurmctldTimeout=30
SlurmdTimeout=60
MailProg=/bin/true
StateSaveLocation=$BASE/ctld
SlurmdSpoolDir=$BASE/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$CTLD_LOG
SlurmdLogFile=$SLURMD_LOG
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$node NodeHostname=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real State=UNKNOWN
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

# --- daemons -----------------------------------------------------------------------------------

# a live process named $1 (zombies do not count: where PID 1 is not an init, a daemon's exited
# parent or a killed daemon can stay a zombie for a while, and pgrep still lists it)
# shellcheck disable=SC2009 # pgrep cannot leave zombies out
running() { ps -C "$1" -o stat= 2>/dev/null | grep -qv '^Z'; }

# stop the daemon named $1: SIGTERM to the pid in its pid file $2 (or, without one, to every
# process of that name), up to 10 s to exit, then SIGKILL to whatever of that name is left
kill_daemon() {
    local name=$1 pidfile=${2:-} pid=""
    [[ -n $pidfile && -s $pidfile ]] && pid=$(cat "$pidfile")
    if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]; then
        kill "$pid" 2>/dev/null || true
    else
        pkill -x "$name" 2>/dev/null || true
    fi
    for _ in $(seq 1 100); do
        running "$name" || break
        sleep 0.1
    done
    if running "$name"; then pkill -9 -x "$name" 2>/dev/null || true; fi
    [[ -n $pidfile ]] && rm -f "$pidfile"
    return 0
}

ctld_up() { running slurmctld && timeout 15 scontrol ping 2>/dev/null | grep -q 'is UP'; }

node_state() { timeout 15 sinfo -h -N -n "$(node_name)" -o '%T' 2>/dev/null | head -n 1; }

dump_logs() {
    local f
    for f in "$CTLD_LOG" "$SLURMD_LOG" "$MUNGE_LOG"; do
        [[ -f $f ]] || continue
        echo "--- last lines of $f" >&2
        tail -n 25 "$f" >&2
    done
}

cmd_start() {
    need_root
    local t0=$SECONDS
    install_packages
    start_munge

    local user new restart=0
    install -d -m 0755 /etc/slurm "$BASE" "$BASE/slurmd"
    new=$(write_conf)
    user=$(sed -n 's/^SlurmUser=//p' <<<"$new")
    install -d -m 0755 -o "$user" -g "$user" "$BASE/ctld" "$BASE/log" "$BASE/run"
    if [[ ! -f $CONF ]] || [[ "$(cat "$CONF")" != "$new" ]]; then
        printf '%s\n' "$new" >"$CONF"
        chmod 0644 "$CONF"
        restart=1
    fi

    # a changed config, or a half-started cluster, means a clean restart of both daemons
    if ((restart)) || ! ctld_up || ! running slurmd; then
        local cold=1
        ctld_up && cold=0
        if running slurmctld || running slurmd; then
            log "restarting slurmctld and slurmd"
        fi
        kill_daemon slurmctld "$CTLD_PID"
        kill_daemon slurmd "$SLURMD_PID"
        # slurmctld refuses state saved under another ClusterName: that state is another
        # cluster's, so it goes
        local saved_name
        saved_name=$(cat "$BASE/ctld/clustername" 2>/dev/null || true)
        if [[ -n $saved_name && $saved_name != "$CLUSTER" ]]; then
            log "dropping the saved state of cluster '$saved_name'"
            find "$BASE/ctld" -mindepth 1 -delete
        fi
        touch "$CTLD_LOG" "$SLURMD_LOG"
        chown "$user:$user" "$CTLD_LOG"
        slurmctld || { dump_logs; die "slurmctld did not start"; }
        for _ in $(seq 1 "$((TIMEOUT * 5))"); do ctld_up && break; sleep 0.2; done
        ctld_up || { dump_logs; die "slurmctld does not answer after ${TIMEOUT}s"; }
        # the controller keeps its job state across restarts: jobs of an earlier run (their
        # processes gone with the machine or with `stop`) would come back, requeued, and run
        # again. A cold start begins with an empty queue unless SLURM_CI_KEEP_JOBS=1.
        if ((cold)) && [[ ${SLURM_CI_KEEP_JOBS:-0} != 1 ]]; then
            local jobs
            jobs=$(squeue -h -o '%A' | sort -un | tr '\n' ' ')
            if [[ -n ${jobs// /} ]]; then
                log "cancelling jobs left from an earlier run: $jobs"
                # shellcheck disable=SC2086
                scancel $jobs || true
            fi
        fi
        slurmd || { dump_logs; die "slurmd did not start"; }
    fi

    local node state="" deadline=$((SECONDS + TIMEOUT)) resumed=0
    node=$(node_name)
    while ((SECONDS < deadline)); do
        state=$(node_state || true)
        [[ $state =~ $USABLE ]] && break
        # a node drained or downed by an earlier run (not "not responding": that heals itself)
        if ((!resumed)) && [[ $state =~ ^(drained|draining|down|fail|failing)$ ]]; then
            scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
            resumed=1
        fi
        sleep 1
    done
    if ! [[ $state =~ $USABLE ]]; then
        log "node $node is '${state:-unknown}' after ${TIMEOUT}s"
        scontrol show node "$node" >&2 2>/dev/null || true
        dump_logs
        exit 1
    fi
    local cpus version
    cpus=$(sinfo -h -N -n "$node" -o '%c' | head -n 1)
    version=$(sinfo -V | awk '{print $2}')
    echo "slurm: $node cluster up ($cpus CPUs, partition $PARTITION, slurm $version, $((SECONDS - t0))s)"
}

# the processes below pid $1
descendants() {
    local kid
    for kid in $(ps -eo pid=,ppid= | awk -v p="$1" '$2 == p {print $1}'); do
        echo "$kid"
        descendants "$kid"
    done
}

cmd_stop() {
    need_root
    local jobs stepd pids
    # jobs end as with scancel (SIGTERM, then SIGKILL after KillWait), while slurmd is there
    if ctld_up && running slurmd; then
        jobs=$(squeue -h -o '%A' 2>/dev/null | sort -un | tr '\n' ' ' || true)
        if [[ -n ${jobs// /} ]]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            for _ in $(seq 1 75); do
                [[ -z $(squeue -h -o '%A' 2>/dev/null) ]] && break
                sleep 0.2
            done
        fi
    fi
    # the controller first, so that nothing new is scheduled onto a node on its way down
    kill_daemon slurmctld "$CTLD_PID"
    kill_daemon slurmd "$SLURMD_PID"
    # job steps left over (slurmd gone, or jobs slow to die) go with their processes
    for stepd in $(pgrep -x slurmstepd || true); do
        pids=$(descendants "$stepd")
        # shellcheck disable=SC2086
        kill -9 $pids "$stepd" 2>/dev/null || true
    done
    kill_daemon munged "$MUNGE_PID"
    return 0
}

cmd_status() {
    local node state
    command -v sinfo >/dev/null || { echo "slurm: not installed"; exit 1; }
    node=$(node_name)
    running slurmctld || { echo "slurm: slurmctld is not running"; exit 1; }
    state=$(node_state || true)
    if [[ $state =~ $USABLE ]]; then
        echo "slurm: node $node $state, partition $PARTITION"
        exit 0
    fi
    echo "slurm: node $node is '${state:-not answering}'"
    exit 1
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
