# shellcheck shell=bash
# Sourced by scripts/sandbox: helpers shared by every command and mode (processes, the client,
# server names and files, free ports, the sandbox directory).

die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

now_ms() { date +%s%3N; }

# pid_alive PID: the process exists and is not a zombie (kill -0 succeeds on zombies).
pid_alive() {
  local pid=$1 stat state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  state=${stat##*) }
  state=${state%% *}
  [[ $state != Z && $state != X && $state != x ]]
}

# is_our_server NAME PID: PID is alive and is the mariadbd started with NAME's defaults file.
is_our_server() {
  local name=$1 pid=$2 cmdline
  pid_alive "$pid" || return 1
  cmdline=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  grep -qxF -- "--defaults-file=$DIR/$name/my.cnf" <<<"$cmdline"
}

server_pid() { cat "$DIR/$1/sandbox.pid" 2>/dev/null || true; }
server_port() { cat "$DIR/$1/port" 2>/dev/null || true; }
server_socket() { echo "$DIR/$1/mysqld.sock"; }
server_role() { cat "$DIR/$1/role" 2>/dev/null || echo "?"; }

server_running() {
  local pid
  pid=$(server_pid "$1")
  [[ -n $pid ]] && is_our_server "$1" "$pid"
}

# sandbox_mode: replication, galera or master-master (sandboxes from before the modes have no
# mode file: replication).
sandbox_mode() { cat "$DIR/mode" 2>/dev/null || echo replication; }

# sql NAME [client args...]: mariadb client as root over NAME's unix socket, plaintext.
sql() {
  local name=$1
  shift
  mariadb --no-defaults --skip-ssl --connect-timeout=5 -S "$(server_socket "$name")" \
    -uroot "-p$ROOT_PASSWORD" "$@"
}
# sqlq NAME QUERY: one query, tab-separated output without column names.
sqlq() { sql "$1" -N -B -e "$2"; }

# slave_field NAME FIELD: one field of SHOW SLAVE STATUS (empty if not a replica).
slave_field() {
  sql "$1" -e 'SHOW SLAVE STATUS\G' 2>/dev/null |
    awk -v f="$2" -F': ' '{ k=$1; sub(/^ +/, "", k) } k == f { sub(/^[^:]*: /, ""); print; exit }'
}

show_log_tail() {
  local name=$1 lines=${2:-25}
  if [[ -f $DIR/$name/error.log ]]; then
    echo "---- last $lines lines of $DIR/$name/error.log ----" >&2
    tail -n "$lines" "$DIR/$name/error.log" >&2
    echo "----" >&2
  fi
}

list_servers() {
  if [[ -f $DIR/servers ]]; then
    cat "$DIR/servers"
  else
    local d
    for d in "$DIR"/*/sandbox.pid; do
      [[ -e $d ]] && basename "$(dirname "$d")"
    done
    true
  fi
}

check_name() {
  local name=$1
  [[ $name =~ ^(primary|replica[0-9]+|node[0-9]+|mm[12])$ ]] ||
    die "bad server name '$name' (primary, replica1, ...; node1, node2, ... (galera); mm1, mm2 (master-master))"
  [[ -f $DIR/$name/cmdline ]] || die "no server '$name' in sandbox $DIR"
}

# free_ports COUNT: COUNT distinct free TCP ports on 127.0.0.1, outside the ephemeral range
# (clients such as the replicas' IO threads take ephemeral ports), space-separated.
free_ports() {
  local count=$1
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$count" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
elo, ehi = 32768, 60999
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        elo, ehi = map(int, f.read().split())
except (OSError, ValueError):
    pass
pool = [p for p in range(10000, 61000) if not elo <= p <= ehi] or list(range(10000, 61000))
ports, held = [], []
for _ in range(5000):
    if len(ports) == n:
        break
    p = random.choice(pool)
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)     # keep it bound until all ports are chosen
    ports.append(p)
if len(ports) != n:
    sys.exit("could not find free ports")
print(" ".join(map(str, ports)))
PY
  else
    local ports=() p tries=0
    while ((${#ports[@]} < count)); do
      ((++tries < 5000)) || die "could not find free ports"
      p=$((20000 + RANDOM % 12000))
      [[ " ${ports[*]} " == *" $p "* ]] && continue
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
      if command -v ss >/dev/null && [[ -n $(ss -Htan "sport = :$p" 2>/dev/null) ]]; then continue; fi
      ports+=("$p")
    done
    echo "${ports[*]}"
  fi
}

resolve_dir() {
  DIR=${DIR:-${SANDBOX_DIR:-$PWD/.sandbox}}
  [[ $DIR == /* ]] || DIR=$PWD/$DIR
  if [[ -d $DIR ]]; then DIR=$(cd "$DIR" && pwd -P); fi
}

need_sandbox() {
  resolve_dir
  [[ -f $DIR/.replproxy-sandbox ]] || die "no sandbox in $DIR (use --dir DIR)"
}
