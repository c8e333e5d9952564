#!/usr/bin/env bash
# Sweeps on a real Slurm cluster. The script starts a private single-node
# cluster (its own munged, slurmctld and slurmd; its own config, key, ports,
# spool, state and logs in a temp directory), runs the 4-point sweep of
# sweep_cli_test.sh (1 epoch a point) under each way a user starts it, and
# checks that each ends with exactly one complete report per point:
#   - tools/slurm-sweep.sbatch as shipped (--array=0-7, 2 CPUs a task), twice;
#   - --array=1,3 alone, and --array=0-6:3 alone;
#   - srun -n 2 without PMI;
#   - the --array=1,3 sweep resubmitted with another --cpus-per-task;
#   - a job cancelled with scancel mid-point, then resubmitted;
#   - a job requeued mid-point with scontrol requeue.
# It stops every daemon it started, by PID. Where Slurm cannot start (not
# installed, not root, a daemon that fails), every case is a skip line
# naming the reason, and the script exits 0.
# Usage: slurm_cluster_test.sh PATH/TO/runner   (run from the repository root)
# KEEP_SLURM_TEST_DIR=1 keeps the temp directory (configs, daemon and job
# logs) and prints its path.
set -u
runner=$(realpath "$1")
root=$PWD
work=$(mktemp -d)
source "$(dirname "$0")/cli_lib.sh"
started_at=$SECONDS

cases=(shipped-script-twice array-1,3 array-0-6:3 srun-without-pmi resubmit-other-cpus-per-task
       scancel-then-resubmit requeue-mid-point)

# The variables of an enclosing job or MPI run would make srun join that
# job, and the runner take its rank from them.
while read -r name; do
  unset "$name"
done < <(compgen -v | grep -E '^(SLURM_|OMPI_COMM_WORLD_|PMI_|PMIX_)')

cluster="$work/cluster"
daemons=()    # "name:pid" of every daemon started here, in start order
submitted=()  # every job id submitted

# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_until() {
  local limit=$(($1 * 5)) tries=0
  shift
  until "$@"; do
    tries=$((tries + 1))
    [[ $tries -ge $limit ]] && return 1
    sleep 0.2
  done
}

gone() {  # PID: not running (a child that exited stays a zombie until waited for)
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null)
  [[ -z $state || $state == Z* ]]
}

# start_daemon NAME LOG COMMAND...: in the foreground of a background job, so
# that its PID is known; nothing of it writes to this script's output.
start_daemon() {
  local name=$1 log=$2
  shift 2
  "$@" </dev/null >"$log" 2>&1 &
  daemons+=("$name:$!")
}

no_jobs_left() { [[ -z $(squeue -h -o %i 2>/dev/null) ]]; }

stop_cluster() {
  if [[ ${#submitted[@]} -gt 0 ]]; then
    scancel "${submitted[@]}" 2>/dev/null
    wait_until 30 no_jobs_left
  fi
  local i pid
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
    pid=${daemons[i]#*:}
    kill -TERM "$pid" 2>/dev/null
    wait_until 10 gone "$pid" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  daemons=()
}

cleanup() {
  stop_cluster
  if [[ ${KEEP_SLURM_TEST_DIR:-} == 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM  # a timeout's signal still stops the daemons
trap 'exit 130' INT

# A TCP port on loopback that nothing listens on, other than those given.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    [[ " $* " == *" $port "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  echo "$port"
}

munge_works() {
  munge -n -S "$cluster/munge.socket" 2>/dev/null | unmunge -S "$cluster/munge.socket" >/dev/null 2>&1
}
node_idle() { [[ $(sinfo -h -N -o %t 2>/dev/null) == idle ]]; }

# Sets why_not and returns 1 when the cluster cannot start.
start_cluster() {
  local command
  for command in munged mungekey munge unmunge slurmctld slurmd sbatch srun scancel squeue sinfo scontrol; do
    if ! command -v "$command" >/dev/null; then
      why_not="$command not installed (tools/install-deps.sh installs slurm-wlm and munge)"
      return 1
    fi
  done
  if [[ $(id -u) -ne 0 ]]; then
    why_not="not root: slurmd starts jobs as their users"
    return 1
  fi
  mkdir -p "$cluster/state" "$cluster/spool"
  # munged wants every directory above its socket searchable by all.
  chmod 755 "$work" "$cluster"
  if ! mungekey --create --keyfile="$cluster/munge.key" >"$cluster/mungekey.log" 2>&1; then
    why_not="mungekey failed: $(tail -n 1 "$cluster/mungekey.log")"
    return 1
  fi
  # A munged of its own, with its own key and socket: one the machine runs
  # is left alone, and none is needed.
  start_daemon munged "$cluster/munged.out" munged --foreground --socket="$cluster/munge.socket" \
    --key-file="$cluster/munge.key" --pid-file="$cluster/munged.pid" \
    --seed-file="$cluster/munged.seed" --log-file="$cluster/munged.log"
  if ! wait_until 10 munge_works; then
    why_not="munged did not start: $(tail -n 1 "$cluster/munged.out")"
    return 1
  fi

  local node ctld_port slurmd_port
  node=$(slurmd -C | head -n 1)  # NodeName=HOST CPUs=... as slurmd sees this machine
  host=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node")
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node")
  ctld_port=$(free_port)
  slurmd_port=$(free_port "$ctld_port")
  # Root runs everything; no cgroups, accounting or PMI; a node that was
  # down comes back when its slurmd registers; jobs start as soon as CPUs
  # are free (batch_sched_delay=0), a requeued one as soon as it may
  # (sched_interval=1 s, not 60); a cancelled job's processes get 5 s
  # between SIGTERM and SIGKILL; a requeued job starts again after 10 s, not
  # 120 (cred_expire: the killed run's credentials must expire first).
  cat >"$cluster/slurm.conf" <<EOF
ClusterName=mnistbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$cluster/munge.socket,cred_expire=10
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool
SlurmctldPidFile=$cluster/slurmctld.pid
SlurmdPidFile=$cluster/slurmd.pid
SlurmctldLogFile=$cluster/slurmctld.log
SlurmdLogFile=$cluster/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=1
ReturnToService=2
KillWait=5
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$cluster/slurm.conf"
  start_daemon slurmctld "$cluster/slurmctld.out" slurmctld -D -f "$SLURM_CONF"
  start_daemon slurmd "$cluster/slurmd.out" slurmd -D -f "$SLURM_CONF"
  if ! wait_until 30 node_idle; then
    why_not="node $host not idle after 30 s: $(sinfo -h -N -o '%N %t' 2>&1 | head -n 1);" \
      "slurmctld: $(tail -n 1 "$cluster/slurmctld.log" 2>/dev/null);" \
      "slurmd: $(tail -n 1 "$cluster/slurmd.log" 2>/dev/null)"
    return 1
  fi
  local pids=""
  for daemon in "${daemons[@]}"; do pids+=", ${daemon%%:*} (pid ${daemon#*:})"; done
  echo "cluster: $(slurmctld -V)${pids}; ports $ctld_port and $slurmd_port"
  sinfo
}

if ! start_cluster; then
  stop_cluster
  for name in "${cases[@]}"; do skip "slurm-$name: Slurm cannot start here: $why_not"; done
  summary
  exit 0
fi

# --- Helpers for the cases -----------------------------------------------------
# The 4-point sweep of sweep_cli_test.sh: two widths x two seeds, one epoch.
spec="$work/sweep4.json"
write sweep4.json '{"name": "sweep4", "base": "configs/tiny.json",
  "set": {"predict": 0},
  "grid": {"model.0.units": [16, 32]},
  "seeds": [1, 2],
  "metric": "test_accuracy"}'
script="$root/tools/slurm-sweep.sbatch"

# case_dir NAME: sets dir to a directory to submit from that looks like the
# repository root to the script and the sweep: configs/, data/, results/.
case_dir() {
  dir="$work/$1"
  mkdir -p "$dir/results"
  ln -s "$root/configs" "$dir/configs"
  ln -s "$root/data" "$dir/data"
}

# submit SBATCH-ARGS...: submits from $dir with the runner under test; sets job.
submit() {
  echo "+ sbatch $*" | sed "s|$root/||g; s|$work/||g"
  job=$(cd "$dir" && RUNNER=$runner sbatch --parsable "$@")
  job=${job%%;*}
  submitted+=("$job")
}

job_over() { [[ -z $(squeue -h -j "$1" -o %i 2>/dev/null) ]]; }
job_pending() { [[ $(squeue -h -j "$1" -o %T 2>/dev/null) == PENDING ]]; }
wait_for_job() {  # JOB: until no task of it is pending or running (at most 150 s)
  wait_until 150 job_over "$1"
}

# "COUNT STATE EXIT" per kind of ending of the job's tasks, e.g. "8 COMPLETED 0:0".
job_states() {
  scontrol -o show job "$1" | sed -n 's/.* JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\) .*/\1 \2/p' |
    sort | uniq -c | sed 's/^ *//' | paste -sd, -
}

# Reports, complete ones, run directories, distinct points and claim files
# left in $dir's sweep.
sweep_state() {
  local sweep="$dir/results/sweep4"
  echo "reports=$(find "$sweep" -name report.json | wc -l)" \
       "completed=$(grep -l '"status": "completed"' "$sweep"/*/report.json 2>/dev/null | wc -l)" \
       "dirs=$(find "$sweep" -mindepth 1 -maxdepth 1 -type d | wc -l)" \
       "points=$(grep -ho '"point_id": "[0-9a-f]*"' "$sweep"/*/report.json 2>/dev/null | sort -u | wc -l)" \
       "claims=$(find "$sweep" -name '*.claim*' | wc -l)"
}
complete_sweep="reports=4 completed=4 dirs=4 points=4 claims=0"

job_logs() { cat "$dir"/results/slurm-"$1"_*.out; }
# The points the tasks of JOB ran, added up.
points_run() {
  job_logs "$1" | sed -n 's/.*Sweep sweep4: \([0-9]*\) points run.*/\1/p' | awk '{s += $1} END {print s + 0}'
}
# How many tasks of JOB found every point complete.
found_all_complete() {
  job_logs "$1" | grep -c "nothing left to claim (4 points complete, 0 running in another process)"
}
# Whether every line of each task's log of JOB starts with that task's
# label, but Slurm's own ("slurmstepd-HOST: error: *** JOB 25 ON ... CANCELLED").
lines_labelled() {
  local log task
  for log in "$dir"/results/slurm-"$1"_*.out; do
    task=${log##*_}
    task=${task%.out}
    grep -v -e "^\[SLURM_ARRAY_TASK_ID=$task\] " -e '^slurmstepd' "$log" | grep -q . && return 1
  done
  return 0
}
report_failure() {  # NAME DETAILS: a failed case, with the job logs and slurmctld's last lines
  fail "$1: $2"
  for log in "$dir"/results/slurm-*.out "$dir"/*.log; do
    [[ -f $log ]] && { echo "--- $log"; cat "$log"; }
  done
  echo "--- slurmctld.log"
  tail -n 20 "$cluster/slurmctld.log"
}

# --- The shipped script, twice -------------------------------------------------
case_dir shipped
submit "$script" "$spec"
first=$job
wait_for_job "$first"
first_state=$(sweep_state)
submit "$script" "$spec"
second=$job
wait_for_job "$second"
outcome="$(job_states "$first"); $first_state; $(points_run "$first") points run; then $(job_states "$second"); $(sweep_state); $(found_all_complete "$second") tasks found all complete"
echo "  $outcome"
if [[ $outcome == "8 COMPLETED 0:0; $complete_sweep; 4 points run; then 8 COMPLETED 0:0; $complete_sweep; 8 tasks found all complete" ]] &&
   lines_labelled "$first" && lines_labelled "$second"; then
  pass slurm-shipped-script-twice
else
  report_failure slurm-shipped-script-twice "$outcome"
fi

# --- Arrays of other ids, alone ------------------------------------------------
for array_tasks in "1,3 2" "0-6:3 3"; do
  read -r array tasks <<<"$array_tasks"
  case_dir "array-${array//[:,]/-}"
  submit --array="$array" --cpus-per-task=1 --time=5 "$script" "$spec"
  wait_for_job "$job"
  outcome="$(job_states "$job"); $(sweep_state); $(points_run "$job") points run"
  echo "  $outcome"
  if [[ $outcome == "$tasks COMPLETED 0:0; $complete_sweep; 4 points run" ]] && lines_labelled "$job"; then
    pass "slurm-array-$array"
  else
    report_failure "slurm-array-$array" "$outcome"
  fi
  [[ $array == 1,3 ]] && array13_dir=$dir array13_job=$job
done

# --- srun without PMI -------------------------------------------------------------
# The cluster's MpiDefault=none: the tasks get SLURM_PROCID and no PMI rank.
case_dir srun
echo "+ srun -n 2 --cpus-per-task=1 --time=5 runner sweep4.json --threads 1 --out results"
(cd "$dir" && timeout 150 srun -n 2 --cpus-per-task=1 --time=5 "$runner" "$spec" --threads 1 --out results) \
  >"$dir/srun.log" 2>&1
code=$?
outcome="exit $code; $(sweep_state); $(sed -n 's/.*Sweep sweep4: \([0-9]*\) points run.*/\1/p' "$dir/srun.log" |
  awk '{s += $1} END {print s + 0}') points run"
echo "  $outcome"
if [[ $outcome == "exit 0; $complete_sweep; 4 points run" ]] &&
   grep -q '^\[SLURM_PROCID=0\] Sweep sweep4: 4 points, into' "$dir/srun.log" &&
   grep -q '^\[SLURM_PROCID=1\] Sweep sweep4: 4 points, into' "$dir/srun.log" &&
   ! grep -v '^\[SLURM_PROCID=[01]\] ' "$dir/srun.log" | grep -q .; then
  pass slurm-srun-without-pmi
else
  report_failure slurm-srun-without-pmi "$outcome"
fi

# --- The --array=1,3 sweep again, with 2 CPUs a task ---------------------------------
# The thread count is not part of a point: every point is found complete.
dir=$array13_dir
submit --array=1,3 --cpus-per-task=2 --time=5 "$script" "$spec"
wait_for_job "$job"
outcome="$(job_states "$job"); $(sweep_state); $(found_all_complete "$job") tasks found all complete"
echo "  $outcome"
threads=$(python3 -c 'import json, sys
print(sorted(json.load(open(path))["config"]["threads"] for path in sys.argv[1:]))' \
  "$dir"/results/sweep4/*/report.json)
if [[ $outcome == "2 COMPLETED 0:0; $complete_sweep; 2 tasks found all complete" &&
      $threads == "[1, 1, 1, 1]" ]] &&
   grep -q '^\[SLURM_ARRAY_TASK_ID=3\] Sweep sweep4: point 4/4 (model.0.units=32, seed=2) is complete, skipped' \
     "$dir/results/slurm-${job}_3.out"; then
  pass slurm-resubmit-other-cpus-per-task
else
  report_failure slurm-resubmit-other-cpus-per-task "$outcome; reports' threads: $threads"
fi

# --- Cancelled or requeued mid-point ------------------------------------------------
# A job is stopped once it has claimed a point. The signal lands while the
# point loads its data (SIGTERM ends the runner there: its claim is left to a
# dead pid) or trains (the runner stops after the step and reports
# "interrupted"); rarely as late as the test set's evaluation, when the
# point completes and the job stops before the next: then it is tried again.
claimed_a_point() { compgen -G "$dir/results/sweep4/*.claim" >/dev/null; }
# Whether the sweep holds a cut-off point: a claim left, or an unfinished report.
cut_off_left() {
  claimed_a_point || [[ -n $(grep -L '"status": "completed"' "$dir"/results/sweep4/*/report.json 2>/dev/null) ]]
}
# The last point a log started: "point N/4 (...)".
last_point() { sed -n 's/.*Sweep sweep4: \(point [0-9]\/4 ([^)]*)\)$/\1/p' "$1" | tail -n 1; }
# Whether LOG took POINT over: its claimant is gone, or its run was cut off.
took_over() {
  grep -q "Sweep sweep4: $2 \(was claimed by .*, which is gone: taking it over\|was cut off: \(removing\|resuming\)\)" "$1"
}
# Whether LOG's lines came out in the order they were printed: a run that
# was interrupted printed its "Run" line (stdout) before "interrupted in
# epoch" (stderr), which a block-buffered stdout put after it.
in_order() {
  local run interrupted
  interrupted=$(grep -n "interrupted in epoch" "$1" | cut -d: -f1)
  [[ -z $interrupted ]] && return 0  # ended while loading the data
  run=$(grep -n "Run results/sweep4/" "$1" | tail -n 1 | cut -d: -f1)
  [[ -n $run && $run -lt $interrupted ]]
}

case_dir scancel
for attempt in 1 2 3; do
  submit --array=0 --cpus-per-task=1 --time=5 "$script" "$spec"
  cancelled=$job
  wait_until 60 claimed_a_point
  echo "+ scancel $cancelled"
  scancel "$cancelled"
  wait_for_job "$cancelled"
  cut_off_left && break
  echo "  the job stopped between two points; once more"
done
cut=$(last_point "$dir/results/slurm-${cancelled}_0.out")
submit --array=0 --cpus-per-task=1 --time=5 "$script" "$spec"
wait_for_job "$job"
outcome="$(job_states "$cancelled"), cut off in $cut; then $(job_states "$job"); $(sweep_state)"
echo "  $outcome"
if [[ $outcome == "1 CANCELLED "*", cut off in point "*"; then 1 COMPLETED 0:0; $complete_sweep" ]] &&
   took_over "$dir/results/slurm-${job}_0.out" "$cut" && lines_labelled "$cancelled" &&
   in_order "$dir/results/slurm-${cancelled}_0.out"; then
  pass slurm-scancel-then-resubmit
else
  report_failure slurm-scancel-then-resubmit "$outcome"
fi

# scontrol requeue stops the job as scancel does and queues it again, to
# start once the killed run's credentials have expired (cred_expire).
case_dir requeue
submit --array=0 --cpus-per-task=1 --time=5 --requeue --open-mode=append "$script" "$spec"
log="$dir/results/slurm-${job}_0.out"
for attempt in 1 2 3; do
  wait_until 60 claimed_a_point
  echo "+ scontrol requeue $job"
  scontrol requeue "$job"
  wait_until 30 job_pending "$job"
  cut=$(last_point "$log")
  cut_off_left && break
  echo "  the job stopped between two points; once more"
  wait_until 60 eval '! job_pending "$job"'
done
wait_for_job "$job"
restarts=$(scontrol -o show job "$job" | sed -n 's/.* Restarts=\([0-9]*\) .*/\1/p')
outcome="$(job_states "$job"), cut off in $cut; $(sweep_state)"
echo "  $outcome, $restarts restarts"
if [[ $outcome == "1 COMPLETED 0:0, cut off in point "*"; $complete_sweep" && $restarts -ge 1 ]] &&
   took_over "$log" "$cut"; then
  pass slurm-requeue-mid-point
else
  report_failure slurm-requeue-mid-point "$outcome"
fi

echo "slurm_cluster: $((SECONDS - started_at)) s"
summary
