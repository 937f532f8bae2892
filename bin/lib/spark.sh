# Sourced by bin/oflab: a Spark standalone cluster on this machine, and spark-submit, run from the Spark jars the
# build resolved (spark-jobs/spark-runtime: the jars/ directory of a Spark distribution, nothing downloaded).
# Needs ROOT, JAVA, JAVA_FLAGS, die and prop from bin/oflab.

RUNTIME_CLASSPATH_FILE="$ROOT/spark-jobs/spark-runtime/target/classpath.txt"
# A Spark home as a distribution lays it out (jars/ of links to the resolved jars): a worker starts its executors
# with the classpath $SPARK_HOME/jars/*, and Spark's launcher library finds it there too.
SPARK_HOME_DIR="$ROOT/spark-jobs/spark-runtime/target/spark-home"
CLUSTER_DIR="${OFLAB_CLUSTER_DIR:-$ROOT/local-cluster}"

spark_home() {
  [[ -s "$RUNTIME_CLASSPATH_FILE" ]] || die "no Spark runtime classpath ($RUNTIME_CLASSPATH_FILE); run 'mvn -DskipTests package'"
  if [[ ! -d "$SPARK_HOME_DIR/jars" || "$RUNTIME_CLASSPATH_FILE" -nt "$SPARK_HOME_DIR/jars" ]]; then
    rm -rf "$SPARK_HOME_DIR"
    mkdir -p "$SPARK_HOME_DIR/jars.tmp" "$SPARK_HOME_DIR/conf"
    local jar
    tr ':' '\n' < "$RUNTIME_CLASSPATH_FILE" | while read -r jar; do ln -s "$jar" "$SPARK_HOME_DIR/jars.tmp/"; done
    # The application's logging settings for drivers, masters, workers and executors: Spark's conf/ comes first on
    # their classpaths, where a distribution's log4j2.properties would be.
    ln -s "$ROOT/spark-jobs/src/main/resources/log4j2.properties" "$SPARK_HOME_DIR/conf/"
    mv "$SPARK_HOME_DIR/jars.tmp" "$SPARK_HOME_DIR/jars"
  fi
  export SPARK_HOME="$SPARK_HOME_DIR"
  SPARK_SCALA_VERSION="$(prop scala.binary)"
  export SPARK_SCALA_VERSION
}

# spark-submit as Spark's bin/spark-submit runs it: the launcher library builds the driver's command, which runs.
spark_submit() {
  spark_home
  # The launcher prints its messages line by line, then an empty line, then the command NUL-separated, then (from
  # the printf) its exit code, as Spark's bin/spark-class reads it.
  local cmd=() arg delim=$'\n' in_command=false
  while IFS= read -r -d "$delim" arg; do
    if $in_command; then
      cmd+=("$arg")
    elif [[ -z "$arg" ]]; then
      delim='' in_command=true
    else
      echo "$arg"
    fi
  done < <("$JAVA" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@"
           printf '%d\0' $?)
  [[ ${#cmd[@]} -gt 0 ]] || die "spark-submit: Spark's launcher printed no command"
  local rc="${cmd[${#cmd[@]}-1]}"
  unset 'cmd[${#cmd[@]}-1]'
  [[ "$rc" == 0 ]] || exit "$rc"
  exec "${cmd[@]}"
}

cluster_pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits up to 60 s for a line matching $2 in log $1 of the process with pid file $3.
cluster_wait_for() {
  local i
  for i in $(seq 1 120); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    cluster_pid_alive "$3" || die "$(basename "$1" .log) exited while starting; see $1"
    sleep 0.5
  done
  die "$(basename "$1" .log) did not start within 60 s; see $1"
}

cluster_daemon() { # name class args...
  local name="$1" class="$2"; shift 2
  # shellcheck disable=SC2086  # the flag string is deliberately split into words
  nohup "$JAVA" $JAVA_FLAGS -Xmx512m -cp "$SPARK_HOME/jars/*" "$class" "$@" \
    > "$CLUSTER_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$CLUSTER_DIR/pids/$name.pid"
}

cluster_start() {
  local workers=2 cores=1 memory=4g port="${OFLAB_CLUSTER_PORT:-7077}" ui_port="${OFLAB_CLUSTER_UI_PORT:-8080}"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --workers) workers="$2"; shift 2 ;;
      --cores) cores="$2"; shift 2 ;;
      --memory) memory="$2"; shift 2 ;;
      *) die "local-cluster start: unknown option '$1' (allowed: --workers N, --cores N, --memory SIZE)" ;;
    esac
  done
  [[ "$workers" =~ ^[1-9][0-9]*$ ]] || die "local-cluster start: --workers must be a positive integer, not '$workers'"
  [[ "$cores" =~ ^[1-9][0-9]*$ ]] || die "local-cluster start: --cores must be a positive integer, not '$cores'"
  [[ "$memory" =~ ^[1-9][0-9]*[mMgG]$ ]] || die "local-cluster start: --memory is a size such as 4g or 512m, not '$memory'"
  if cluster_pid_alive "$CLUSTER_DIR/pids/master.pid"; then
    die "a local cluster is already running ($(cat "$CLUSTER_DIR/master-url")); 'bin/oflab local-cluster stop' first"
  fi
  spark_home
  rm -rf "$CLUSTER_DIR/pids" "$CLUSTER_DIR/logs"
  mkdir -p "$CLUSTER_DIR/pids" "$CLUSTER_DIR/logs" "$CLUSTER_DIR/work"
  local url="spark://127.0.0.1:$port"
  export SPARK_LOCAL_IP=127.0.0.1
  cluster_daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port "$ui_port"
  cluster_wait_for "$CLUSTER_DIR/logs/master.log" "I have been elected leader" "$CLUSTER_DIR/pids/master.pid"
  echo "$url" > "$CLUSTER_DIR/master-url"
  local i
  for i in $(seq 1 "$workers"); do
    # port 0: any free port; the web UI likewise, so that several workers and clusters coexist
    cluster_daemon "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
      --cores "$cores" --memory "$memory" --work-dir "$CLUSTER_DIR/work/worker-$i" "$url"
  done
  for i in $(seq 1 "$workers"); do
    cluster_wait_for "$CLUSTER_DIR/logs/worker-$i.log" "Successfully registered with master" "$CLUSTER_DIR/pids/worker-$i.pid"
  done
  echo "local cluster: master $url (web UI http://127.0.0.1:$ui_port), $workers workers x $cores cores x $memory;"
  echo "  logs in $CLUSTER_DIR/logs, executors' work directories in $CLUSTER_DIR/work. Submit a job with"
  echo "  bin/oflab spark-submit --master $url <the line of bin/oflab submit-command, after 'spark-submit'>"
}

cluster_stop() {
  local f stopped=0
  for f in "$CLUSTER_DIR"/pids/worker-*.pid "$CLUSTER_DIR/pids/master.pid"; do
    [[ -f "$f" ]] || continue
    if cluster_pid_alive "$f"; then
      kill "$(cat "$f")"   # a worker's shutdown kills its executors
      stopped=$((stopped + 1))
    fi
  done
  for f in "$CLUSTER_DIR"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    local i
    for i in $(seq 1 40); do cluster_pid_alive "$f" || break; sleep 0.25; done
    if cluster_pid_alive "$f"; then kill -9 "$(cat "$f")"; fi
    rm -f "$f"
  done
  rm -f "$CLUSTER_DIR/master-url"
  echo "local cluster: stopped $stopped processes"
}

cluster_status() {
  if ! cluster_pid_alive "$CLUSTER_DIR/pids/master.pid"; then
    echo "local cluster: not running"
    return 3
  fi
  local f alive=0 all=0
  for f in "$CLUSTER_DIR"/pids/worker-*.pid; do
    all=$((all + 1))
    if cluster_pid_alive "$f"; then alive=$((alive + 1)); fi
  done
  echo "local cluster: master $(cat "$CLUSTER_DIR/master-url") (pid $(cat "$CLUSTER_DIR/pids/master.pid")), $alive of $all workers running; logs in $CLUSTER_DIR/logs"
}

local_cluster() {
  case "${1:-}" in
    start) shift; cluster_start "$@" ;;
    stop) cluster_stop ;;
    status) cluster_status ;;
    url)
      cluster_pid_alive "$CLUSTER_DIR/pids/master.pid" || die "no local cluster is running; 'bin/oflab local-cluster start'"
      cat "$CLUSTER_DIR/master-url" ;;
    *) die "usage: bin/oflab local-cluster start [--workers N] [--cores N] [--memory SIZE] | stop | status | url" ;;
  esac
}
