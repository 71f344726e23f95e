# shellcheck shell=bash
# Sourced by scripts/sandbox: the status command.

# replica_status_line NAME PREFIX: io/sql threads, lag, position and error of a replicating
# server; returns 1 unless both threads run.
replica_status_line() {
  local name=$1 prefix=$2 io sqlr lag pos err info
  io=$(slave_field "$name" Slave_IO_Running)
  sqlr=$(slave_field "$name" Slave_SQL_Running)
  lag=$(slave_field "$name" Seconds_Behind_Master)
  err=$(slave_field "$name" Last_Error)
  [[ -n $err ]] || err=$(slave_field "$name" Last_IO_Error)
  pos=$(sqlq "$name" 'SELECT @@gtid_slave_pos' 2>/dev/null || echo "?")
  info="$prefix io=${io:-?} sql=${sqlr:-?} lag=${lag:-?} gtid_slave_pos=$pos"
  [[ -z $err ]] || info+=" error: $err"
  echo "$info"
  [[ $io == Yes && $sqlr == Yes ]]
}

cmd_status() {
  parse_common "$@"
  need_sandbox
  local name pid port state role info ok=0 servers mode header=REPLICATION
  mode=$(sandbox_mode)
  [[ $mode == galera ]] && header=CLUSTER
  mapfile -t servers < <(list_servers)
  if [[ $mode == replication ]]; then
    echo "sandbox $DIR"
  else
    echo "sandbox $DIR ($mode)"
  fi
  printf '%-9s %-8s %-6s %-6s %s\n' NAME PID PORT STATE "$header"
  for name in "${servers[@]}"; do
    pid=$(server_pid "$name")
    port=$(server_port "$name")
    role=$(server_role "$name")
    info=""
    if server_running "$name"; then
      state=alive
      case $role in
        primary)
          info=$(sqlq "$name" "SELECT CONCAT('primary read_only=', IF(@@read_only,'ON','OFF'),
                  ' gtid_binlog_pos=', @@gtid_binlog_pos,
                  ' semi_sync=', (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
                                   WHERE VARIABLE_NAME='RPL_SEMI_SYNC_MASTER_STATUS'),
                  ' semi_sync_clients=', (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
                                   WHERE VARIABLE_NAME='RPL_SEMI_SYNC_MASTER_CLIENTS'))" 2>/dev/null) ||
            { info="(query failed)"; ok=1; }
          ;;
        master)
          local rw
          rw=$(sqlq "$name" "SELECT CONCAT('read_only=', IF(@@read_only,'ON','OFF'),
                  ' gtid_binlog_pos=', @@gtid_binlog_pos)" 2>/dev/null) || rw="(query failed)"
          info=$(replica_status_line "$name" "master-master $rw from=$(mm_peer "$name")") || ok=1
          ;;
        node)
          info=$(galera_status_line "$name") || ok=1
          ;;
        *)
          info=$(replica_status_line "$name" replica) || ok=1
          ;;
      esac
    else
      state=dead
      info=$role
      ok=1
    fi
    printf '%-9s %-8s %-6s %-6s %s\n' "$name" "${pid:--}" "${port:--}" "$state" "$info"
  done
  return $ok
}
