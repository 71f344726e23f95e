# shellcheck shell=bash
# Sourced by scripts/sandbox: the galera mode, an N-node MariaDB Galera cluster (galera-4) on
# 127.0.0.1. Each node has four ports: SQL, group communication (gcomm), IST and SST (rsync).

GALERA_PROVIDER=/usr/lib/galera/libgalera_smm.so
GALERA_CLUSTER_NAME=replproxy-sandbox

# galera_cluster_address: gcomm://127.0.0.1:<gcomm port>,... for every node.
galera_cluster_address() {
  local name addrs=()
  for name in $(list_servers); do
    addrs+=("$HOST:$(cat "$DIR/$name/gcomm_port")")
  done
  local IFS=,
  echo "gcomm://${addrs[*]}"
}

# galera_prepare NAME...: the Galera nodes' directories. wsrep_sst_rsync runs an rsync daemon
# on the joiner; started by root, rsync switches to 'nobody' and cannot write the datadir. So
# when the sandbox runs as root, the nodes run as 'mysql' (as Debian's packaged server does),
# their directories belong to it and DIR gets o+x. The joiners' datadirs stay empty: the state
# transfer fills them.
galera_prepare() {
  local name
  for name in "$@"; do mkdir -p "$DIR/$name/data" "$DIR/$name/tmp"; done
  [[ $RUN_USER == root ]] || return 0
  id -u mysql >/dev/null 2>&1 || die "--galera as root needs a 'mysql' user (run scripts/install-deps)"
  MYSQLD_USER=mysql
  # DIR may come from mkdtemp (mode 0700): let 'mysql' through it (search only, no listing).
  chmod a+x "$DIR"
  for name in "$@"; do
    chown -R mysql: "$DIR/$name"
    runuser -u mysql -- test -w "$DIR/$name/data" ||
      die "the Galera nodes run as 'mysql' when started by root, and 'mysql' cannot write" \
        "$DIR/$name: choose a --dir every user can traverse (e.g. under /tmp)"
  done
}

# galera_config NAME PORT SERVER_ID: the my.cnf section of a Galera node.
galera_config() {
  local name=$1 port=$2 server_id=$3 gport iport sport
  gport=$(cat "$DIR/$name/gcomm_port")
  iport=$(cat "$DIR/$name/ist_port")
  sport=$(cat "$DIR/$name/sst_port")
  cat <<EOCNF
# galera (replicated writes get GTIDs in wsrep_gtid_domain_id, the same on every node;
# gtid_domain_id, different per node, is only for writes with wsrep_on=OFF)
server_id                      = $server_id
gtid_domain_id                 = $((100 + server_id))
log_bin                        = mysql-bin
log_slave_updates              = ON
binlog_format                  = ROW
sync_binlog                    = 0
wsrep_gtid_mode                = ON
wsrep_gtid_domain_id           = 1
default_storage_engine         = InnoDB
innodb_autoinc_lock_mode       = 2
read_only                      = OFF
wsrep_on                       = ON
wsrep_provider                 = $GALERA_PROVIDER
wsrep_cluster_name             = $GALERA_CLUSTER_NAME
wsrep_cluster_address          = $(galera_cluster_address)
wsrep_node_name                = $name
wsrep_node_address             = $HOST:$gport
wsrep_node_incoming_address    = $HOST:$port
wsrep_provider_options         = "gmcast.listen_addr=tcp://$HOST:$gport;ist.recv_addr=$HOST:$iport;gcache.size=32M"
wsrep_sst_method               = rsync
wsrep_sst_receive_address      = $HOST:$sport
wsrep_slave_threads            = 2
EOCNF
}

# galera_read NAME: fill the global associative array WS with NAME's wsrep status variables
# (lowercase names) plus wsrep_desync (a variable). Returns 1 if the server does not answer.
declare -A WS=()
galera_read() {
  local out k v
  WS=()
  out=$(sqlq "$1" "SELECT LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
                    WHERE VARIABLE_NAME LIKE 'WSREP%'
                   UNION ALL SELECT 'wsrep_desync', IF(@@wsrep_desync, 'ON', 'OFF')" 2>/dev/null) ||
    return 1
  while IFS=$'\t' read -r k v; do
    [[ -n $k ]] && WS[$k]=$v
  done <<<"$out"
  return 0
}

# galera_synced: the node WS describes is Synced, ready, in the primary component.
galera_synced() {
  [[ ${WS[wsrep_local_state]:-} == 4 && ${WS[wsrep_ready]:-} == ON &&
     ${WS[wsrep_cluster_status]:-} == Primary ]]
}

# galera_wait_synced NAME DEADLINE_MS [SIZE]: wait until NAME is Synced (and the cluster has
# SIZE members, if given).
galera_wait_synced() {
  local name=$1 deadline=$2 size=${3:-}
  while :; do
    if galera_read "$name" && galera_synced &&
      [[ -z $size || ${WS[wsrep_cluster_size]:-} == "$size" ]]; then
      return 0
    fi
    if ! server_running "$name"; then
      note "node $name (pid $(server_pid "$name")) exited"
      show_log_tail "$name"
      return 1
    fi
    if (($(now_ms) > deadline)); then
      note "node $name not synced: state=${WS[wsrep_local_state_comment]:-?}" \
        "cluster=${WS[wsrep_cluster_status]:-?} size=${WS[wsrep_cluster_size]:-?}" \
        "(want ${size:-any}) ready=${WS[wsrep_ready]:-?}"
      show_log_tail "$name"
      return 1
    fi
    sleep 0.2
  done
}

# start_galera TIMEOUT NAME...: bootstrap the first node, create the accounts there, join the
# others (concurrently; the donor serves one state transfer at a time, the others wait), then
# wait until every node is Synced in a cluster of all of them.
start_galera() {
  local timeout=$1 name deadline n=$(($# - 1)) first=$2
  shift
  local names=("$@")
  deadline=$(($(now_ms) + timeout * 1000))
  BOOT_ARGS[$first]=--wsrep-new-cluster
  start_servers 30 "$first"
  unset "BOOT_ARGS[$first]"
  galera_wait_synced "${names[0]}" "$deadline" 1 || die "${names[0]} did not bootstrap the cluster"
  accounts_sql | sql "${names[0]}" || die "user setup on ${names[0]} failed"

  # The joiners need no mariadb-install-db: the rsync state transfer fills their datadirs.
  if ((n > 0)); then
    start_servers "$timeout" "${names[@]:1}"
  fi
  for name in "${names[@]}"; do
    galera_wait_synced "$name" "$deadline" "${#names[@]}" || die "the cluster did not form"
  done

  # A write on the first node, read back on every node (wsrep_sync_wait: after it applied).
  sql "${names[0]}" -e "CREATE TABLE test.sandbox_probe (id INT PRIMARY KEY, note VARCHAR(32)) ENGINE=InnoDB;
                         INSERT INTO test.sandbox_probe VALUES (1, 'sandbox')" ||
    die "test write on ${names[0]} failed"
  for name in "${names[@]}"; do
    [[ $(sqlq "$name" "SET SESSION wsrep_sync_wait = 1; SELECT note FROM test.sandbox_probe") == sandbox ]] ||
      die "the test write did not reach $name"
  done
  sql "${names[0]}" -e "DROP TABLE test.sandbox_probe" || die "test write on ${names[0]} failed"

  finish_start
  galera_read "${names[0]}" || true
  for name in "${names[@]}"; do
    printf '  %-9s 127.0.0.1:%-5s pid %-7s server_id %-2s galera %s/%s/%s (gcomm/ist/sst), Synced\n' \
      "$name" "$(server_port "$name")" "$(server_pid "$name")" "$(cat "$DIR/$name/server_id")" \
      "$(cat "$DIR/$name/gcomm_port")" "$(cat "$DIR/$name/ist_port")" "$(cat "$DIR/$name/sst_port")"
  done
  echo "  cluster $GALERA_CLUSTER_NAME: size ${WS[wsrep_cluster_size]:-?}, state uuid ${WS[wsrep_cluster_state_uuid]:-?}"
}

# galera_recover_args NAME: after a crash (kill -9) grastate.dat has seqno -1 and the node
# would need a full state transfer (SST, which blocks the donor). Like Debian's
# galera_recovery, run mariadbd --wsrep-recover to read the position from InnoDB and print
# --wsrep_start_position=UUID:SEQNO for the real start, so the node can rejoin by IST.
galera_recover_args() {
  local name=$1 d=$DIR/$1 seqno pos
  seqno=$(awk '$1 == "seqno:" { print $2 }' "$d/data/grastate.dat" 2>/dev/null || true)
  [[ $seqno == -1 ]] || return 0
  local -a cmd
  eval "cmd=($(cat "$d/cmdline"))"
  rm -f "$d/wsrep-recover.log"
  timeout 120 "${cmd[@]}" --wsrep-recover --log-error="$d/wsrep-recover.log" \
    </dev/null >/dev/null 2>&1 || true
  # "Recovered position: <cluster uuid>:<seqno>[,<gtid>]", passed on as it is.
  pos=$(sed -n 's/.*WSREP: Recovered position: *\([^ ]*\).*/\1/p' "$d/wsrep-recover.log" \
    2>/dev/null | tail -n 1)
  if [[ $pos =~ ^[0-9a-f-]+:[0-9]+(,[0-9,-]+)?$ ]]; then
    echo "--wsrep_start_position=$pos"
  fi
}

# galera_restart NAME: start a stopped node again. It rejoins the cluster through any running
# node (IST from the donor's gcache, or SST when the gcache lacks what it missed). If no other node is in a primary
# component, it bootstraps a new cluster instead (safe_to_bootstrap forced to 1): restart the
# node that stopped last first, or transactions committed after it stopped are lost.
galera_restart() {
  local name=$1 other deadline bootstrap=1 recover
  for other in $(list_servers); do
    if [[ $other == "$name" ]] || ! server_running "$other"; then continue; fi
    if galera_read "$other" && [[ ${WS[wsrep_cluster_status]:-} == Primary ]]; then
      bootstrap=0
      break
    fi
  done
  recover=$(galera_recover_args "$name")
  if ((bootstrap)); then
    note "no other node is in a primary component: $name bootstraps a new cluster"
    if [[ -f $DIR/$name/data/grastate.dat ]]; then
      sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$DIR/$name/data/grastate.dat"
      chown --reference="$DIR/$name/data" "$DIR/$name/data/grastate.dat"
    fi
    # shellcheck disable=SC2086  # empty or one word
    launch "$name" --wsrep-new-cluster $recover
  else
    # shellcheck disable=SC2086
    launch "$name" $recover
  fi
  deadline=$(($(now_ms) + 120 * 1000))
  wait_ready "$name" 120 || die "node $name did not start"
  galera_wait_synced "$name" "$deadline" || die "node $name did not reach Synced"
}

# galera_status_line NAME: the STATE column's detail for a running node; returns 1 unless it
# is Synced, ready and in the primary component.
galera_status_line() {
  if ! galera_read "$1"; then
    echo "(query failed)"
    return 1
  fi
  local line="galera state=${WS[wsrep_local_state_comment]:-?}"
  line+=" cluster=${WS[wsrep_cluster_status]:-?} size=${WS[wsrep_cluster_size]:-?}"
  line+=" ready=${WS[wsrep_ready]:-?} connected=${WS[wsrep_connected]:-?}"
  line+=" desync=${WS[wsrep_desync]:-?} last_committed=${WS[wsrep_last_committed]:-?}"
  echo "$line"
  galera_synced
}
