#!/usr/bin/env bash
# The smoke book on a real one-node SLURM cluster set up on this machine (`make cluster-test`).
#
# 1. installs Debian's slurm-wlm daemons, munge and mariadb (apt-get), as root;
# 2. writes /etc/slurm/slurm.conf and slurmdbd.conf for the run (a job's srun finds the configuration only
#    there; files of the site's own are moved aside to *.before-ecrs-test and put back at the end), state,
#    logs and a fresh accounting database under $WORK, and starts munged (unless one already answers),
#    mariadbd, slurmdbd, slurmctld and slurmd directly (no systemd);
# 3. runs `ecrs run --profile smoke --executor slurm --jobs 4` into $WORK/slurm, and a local smoke build
#    into $WORK/local -- or, with LOCAL_RESULTS=<an existing smoke results folder>, no local build: the
#    SLURM build then takes that build's --set overrides (from its run.json) so that both have the same
#    parameters (the same code is assumed: build LOCAL_RESULTS from this checkout);
# 4. checks that every job sacct knows of is COMPLETED and that the claims and score tables of the
#    two builds are equal;
# 5. on exit (also when a step fails or the script is interrupted): stops the daemons it started and
#    removes its /etc/slurm files (restoring the site's own).
#
# Environment: ECRS (default .venv/bin/ecrs), WORK (default results/cluster-test), LOCAL_RESULTS,
# SMOKE_SET (extra --set options for both builds, e.g. "deep.epochs=1"; not with LOCAL_RESULTS).
# CPU heavy: minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ECRS=${ECRS:-$ROOT/.venv/bin/ecrs}
WORK=$(realpath -m "${WORK:-$ROOT/results/cluster-test}")
HERE=$ROOT/tests/cluster
[ "$(id -u)" = 0 ] || { echo "run as root (installs packages and starts daemons)" >&2; exit 1; }
[ -x "$ECRS" ] || { echo "$ECRS not found: make env first (or set ECRS=path/to/ecrs)" >&2; exit 1; }

log() { echo "[cluster-test] $*"; }
STARTED=()  # pid files of the daemons this script started, in start order

stop_daemons() {
  for ((i=${#STARTED[@]}-1; i>=0; i--)); do
    pf=${STARTED[$i]}
    pid=$(cat "$pf" 2>/dev/null || true)
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
      for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      log "stopped $(basename "$pf" .pid) (PID $pid)"
    fi
  done
}
MARK='tests/cluster/run_slurm_test.sh'  # in the first line of the configuration files this script writes
restore_config() {
  for f in slurm.conf slurmdbd.conf; do
    if [ -e "/etc/slurm/$f" ] && grep -q "$MARK" "/etc/slurm/$f"; then rm -f "/etc/slurm/$f"; fi
    if [ -e "/etc/slurm/$f.before-ecrs-test" ]; then mv "/etc/slurm/$f.before-ecrs-test" "/etc/slurm/$f"; fi
  done
  log "removed the test's /etc/slurm configuration"
}
cleanup() { stop_daemons; restore_config; }
trap cleanup EXIT
trap 'exit 130' INT TERM  # interrupted: the EXIT trap still cleans up

LOCAL=${LOCAL_RESULTS:-$WORK/local}
SETS=()
for s in ${SMOKE_SET:-}; do SETS+=(--set "$s"); done
if [ -n "${LOCAL_RESULTS:-}" ]; then
  [ -z "${SMOKE_SET:-}" ] || { echo "SMOKE_SET with LOCAL_RESULTS: the SLURM build takes the local build's own --set options" >&2; exit 1; }
  [ -f "$LOCAL/run.json" ] && compgen -G "$LOCAL/claims/*.csv" >/dev/null || { echo "LOCAL_RESULTS=$LOCAL holds no finished build (run.json, claims/*.csv)" >&2; exit 1; }
  LOCAL=$(realpath "$LOCAL")
  opts=$("$(dirname "$ECRS")/python" -c '
import json, sys
run = json.load(open(sys.argv[1]))
profile = run.get("profile")
if profile != "smoke":
    sys.exit(f"{sys.argv[1]}: profile {profile!r}, not smoke")
for key, value in run.get("overrides", {}).items():
    print("--set"); print(f"{key}={json.dumps(value)}")
' "$LOCAL/run.json")
  [ -z "$opts" ] || mapfile -t SETS <<< "$opts"
  log "local build: $LOCAL (its options: ${SETS[*]:-none})"
fi

# -- 1. packages ------------------------------------------------------------------------------------
PKGS="slurmctld slurmd slurmdbd slurm-client munge mariadb-server"
if ! dpkg -s $PKGS >/dev/null 2>&1; then
  log "installing $PKGS"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
fi

# -- 2. configuration and daemons ------------------------------------------------------------------
rm -rf "$WORK/spool" "$WORK/log" "$WORK/run" "$WORK/mysql" "$WORK/slurm"
mkdir -p /etc/slurm "$WORK/spool/ctld" "$WORK/spool/d" "$WORK/log" "$WORK/run"
HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))  # MB, leaving 2 GB to the system
DBPORT=${DBPORT:-3307}
export SLURM_CONF=/etc/slurm/slurm.conf
for f in slurm.conf slurmdbd.conf; do  # a file left by an earlier, killed run of this script is simply replaced
  if [ -e "/etc/slurm/$f" ] && ! grep -q "$MARK" "/etc/slurm/$f"; then mv "/etc/slurm/$f" "/etc/slurm/$f.before-ecrs-test"; fi
done
sed -e "s|@HOST@|$HOST|g" -e "s|@CPUS@|$CPUS|g" -e "s|@MEM@|$MEM|g" -e "s|@WORK@|$WORK|g" "$HERE/slurm.conf.in" > /etc/slurm/slurm.conf
sed -e "s|@WORK@|$WORK|g" -e "s|@DBPORT@|$DBPORT|g" "$HERE/slurmdbd.conf.in" > /etc/slurm/slurmdbd.conf
chmod 600 /etc/slurm/slurmdbd.conf

if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "munged already running: using it"
else
  [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
  STARTED+=(/run/munge/munged.pid)
  munge -n | unmunge | grep -q Success
fi

log "mariadb on 127.0.0.1:$DBPORT (data in $WORK/mysql)"
mkdir -p "$WORK/mysql" && chown mysql:mysql "$WORK/mysql" "$WORK/run"
mariadb-install-db --user=mysql --datadir="$WORK/mysql" --auth-root-authentication-method=socket >/dev/null
setsid /usr/sbin/mariadbd --user=mysql --datadir="$WORK/mysql" --socket="$WORK/run/mysqld.sock" --pid-file="$WORK/run/mysqld.pid" \
  --port="$DBPORT" --bind-address=127.0.0.1 --innodb-buffer-pool-size=128M > "$WORK/log/mariadb.log" 2>&1 < /dev/null &
STARTED+=("$WORK/run/mysqld.pid")
for _ in $(seq 60); do mariadb --socket="$WORK/run/mysqld.sock" -e 'select 1' >/dev/null 2>&1 && break; sleep 1; done
mariadb --socket="$WORK/run/mysqld.sock" -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmtestpw';
  CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmtestpw'; CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

log "slurmdbd, slurmctld, slurmd ($HOST: $CPUS CPUs, $MEM MB)"
/usr/sbin/slurmdbd
STARTED+=("$WORK/run/slurmdbd.pid")
for _ in $(seq 30); do sacctmgr -n show cluster >/dev/null 2>&1 && break; sleep 1; done
sacctmgr -i add cluster ecrstest >/dev/null
sacctmgr -i add account ecrs Description=ecrs-test Organization=test >/dev/null
sacctmgr -i add user root Account=ecrs DefaultAccount=ecrs >/dev/null
/usr/sbin/slurmctld -f "$SLURM_CONF"
STARTED+=("$WORK/run/slurmctld.pid")
/usr/sbin/slurmd -f "$SLURM_CONF"
STARTED+=("$WORK/run/slurmd.pid")
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo
sbatch --wait --account=ecrs --output="$WORK/log/sbatch-check.out" --wrap 'true' >/dev/null
log "sbatch --wait and sacct answer"

# -- 3. the smoke book through SLURM, and locally -----------------------------------------------------
since=$(date +%Y-%m-%dT%H:%M:%S)
t0=$(date +%s)
log "ecrs run --profile smoke --executor slurm --jobs 4 --cluster-profile tests/cluster/slurm-test.yaml"
"$ECRS" run --profile smoke --executor slurm --jobs 4 --cluster-profile "$HERE/slurm-test.yaml" --results "$WORK/slurm" --no-build "${SETS[@]}"
log "SLURM build: $(( $(date +%s) - t0 )) s"
if [ -z "${LOCAL_RESULTS:-}" ]; then
  t0=$(date +%s)
  "$ECRS" run --profile smoke --results "$LOCAL" --no-build "${SETS[@]}"
  log "local build: $(( $(date +%s) - t0 )) s"
fi

# -- 4. checks ---------------------------------------------------------------------------------------
sacct -X -n -P -S "$since" --format=JobID,JobName,Partition,Account,AllocCPUS,ReqMem,State,ExitCode,Elapsed > "$WORK/sacct.txt"
column -t -s '|' "$WORK/sacct.txt" | tail -n 40
n=$(wc -l < "$WORK/sacct.txt")
bad=$(awk -F'|' '$7 != "COMPLETED"' "$WORK/sacct.txt" | wc -l)
[ "$n" -ge 10 ] || { log "FAIL: only $n job(s) in sacct"; exit 1; }
[ "$bad" = 0 ] || { log "FAIL: $bad of $n job(s) not COMPLETED"; exit 1; }
log "sacct: all $n SLURM jobs COMPLETED"
"$(dirname "$ECRS")/python" "$HERE/compare_builds.py" "$LOCAL" "$WORK/slurm"
log "PASS"
