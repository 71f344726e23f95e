# shellcheck shell=bash
# Sourced by scripts/sandbox: the accounts, and the asynchronous replication modes: one
# primary with N replicas (replication) and two servers replicating from each other
# (master-master).

# replication_config NAME PORT SERVER_ID ROLE: the my.cnf section of a replication server.
# ROLE: primary, replica or master (master-master).
replication_config() {
  local name=$1 port=$2 server_id=$3 role=$4 domain=0
  # master-master: each server writes its own GTID domain (= its server_id), so both streams
  # keep strictly increasing sequence numbers and gtid_strict_mode can stay on.
  [[ $role == master ]] && domain=$server_id
  cat <<EOCNF
# replication
server_id                      = $server_id
gtid_domain_id                 = $domain
log_bin                        = mysql-bin
relay_log                      = relay-bin
binlog_format                  = ROW
log_slave_updates              = ON
gtid_strict_mode               = ON
sync_binlog                    = 0
report_host                    = $HOST
report_port                    = $port
slave_net_timeout              = 10
rpl_semi_sync_master_timeout   = 1000
EOCNF
  case $role in
    primary)
      cat <<EOCNF
read_only                      = OFF
rpl_semi_sync_master_enabled   = ON
EOCNF
      ;;
    replica)
      cat <<EOCNF
read_only                      = ON
rpl_semi_sync_slave_enabled    = ON
EOCNF
      ;;
    master)
      # mm1 generates odd, mm2 even AUTO_INCREMENT values: concurrent inserts cannot collide.
      cat <<EOCNF
read_only                      = OFF
auto_increment_increment       = 2
auto_increment_offset          = $server_id
EOCNF
      ;;
  esac
}

# accounts_sql: the accounts and schema every mode creates once (on the primary, mm1 or node1);
# they reach the other servers through replication.
accounts_sql() {
  cat <<EOSQL
ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('$ROOT_PASSWORD');
CREATE USER root@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$ROOT_PASSWORD');
GRANT ALL PRIVILEGES ON *.* TO root@'%' WITH GRANT OPTION;
CREATE USER app@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('app');
GRANT ALL PRIVILEGES ON *.* TO app@'%';
REVOKE READ_ONLY ADMIN ON *.* FROM app@'%';
CREATE USER repl@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('repl');
GRANT REPLICATION SLAVE ON *.* TO repl@'%';
CREATE USER monitor@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('monitor');
GRANT REPLICATION CLIENT, SLAVE MONITOR, REPLICATION MASTER ADMIN, PROCESS ON *.* TO monitor@'%';
GRANT CREATE, INSERT, UPDATE, DELETE, SELECT ON replproxy.* TO monitor@'%';
CREATE DATABASE test;
EOSQL
}

# change_master NAME SOURCE: NAME replicates from SOURCE with GTID (slave_pos).
change_master() {
  sql "$1" -e "CHANGE MASTER TO MASTER_HOST='$HOST', MASTER_PORT=$(server_port "$2"),
      MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos,
      MASTER_CONNECT_RETRY=1; START SLAVE;" || die "CHANGE MASTER on $1 failed"
}

# wait_slave NAME SOURCE DEADLINE_MS [WANT]: wait until NAME's IO and SQL threads run and, if
# WANT (a GTID position) is given, until its gtid_slave_pos is WANT. Fails fast when a thread
# stopped on an error (it does not come back by itself).
wait_slave() {
  local name=$1 source=$2 deadline=$3 want=${4:-} io sqlr pos errno
  while :; do
    io=$(slave_field "$name" Slave_IO_Running)
    sqlr=$(slave_field "$name" Slave_SQL_Running)
    pos=$(sqlq "$name" 'SELECT @@gtid_slave_pos' 2>/dev/null || true)
    if [[ $io == Yes && $sqlr == Yes ]] && [[ -z $want || $pos == "$want" ]]; then
      return 0
    fi
    errno=$(slave_field "$name" Last_IO_Errno)$(slave_field "$name" Last_SQL_Errno)
    if (($(now_ms) > deadline)) || [[ ($io == No || $sqlr == No) && $errno =~ [1-9] ]]; then
      note "replication on $name not running/caught up: Slave_IO_Running=$io Slave_SQL_Running=$sqlr gtid_slave_pos=$pos (want ${want:-running})"
      sql "$name" -e 'SHOW SLAVE STATUS\G' 2>/dev/null | grep -E 'Last_(IO|SQL)_Err|Running' >&2 || true
      show_log_tail "$name"
      show_log_tail "$source" 10
      return 1
    fi
    sleep 0.1
  done
}

# Nothing may have written a GTID yet, else gtid_strict_mode replication would break.
check_no_gtids() {
  local name pos
  for name in "$@"; do
    pos=$(sqlq "$name" 'SELECT @@gtid_binlog_pos') || die "cannot query $name"
    [[ -z $pos ]] || die "$name has unexpected GTIDs before setup: $pos"
  done
}

# start_replication TIMEOUT NAME...: primary (first NAME) and replicas, from fresh datadirs
# with configs written. Prints the summary.
start_replication() {
  local timeout=$1 name want deadline
  shift
  local names=("$@")
  start_servers 30 "${names[@]}"
  check_no_gtids "${names[@]}"

  # Semi-sync is off meanwhile so the first commits do not wait rpl_semi_sync_master_timeout.
  { echo 'SET GLOBAL rpl_semi_sync_master_enabled = OFF;'; accounts_sql
    echo 'SET GLOBAL rpl_semi_sync_master_enabled = ON;'; } |
    sql primary || die "user setup on primary failed"
  for name in "${names[@]:1}"; do change_master "$name" primary; done

  # Wait for the IO threads (semi-sync clients), then a row-based test write, then wait for
  # every replica to apply everything.
  deadline=$(($(now_ms) + timeout * 1000))
  for name in "${names[@]:1}"; do
    wait_slave "$name" primary "$deadline" || die "replication did not start"
  done
  probe_write primary
  want=$(sqlq primary 'SELECT @@gtid_binlog_pos')
  for name in "${names[@]:1}"; do
    wait_slave "$name" primary "$deadline" "$want" || die "nrep did not catch up with the primary ($want)"
  done

  finish_start
  for name in "${names[@]}"; do
    printf '  %-9s 127.0.0.1:%-5s pid %-7s server_id %-2s %s\n' "$name" "$(server_port "$name")" \
      "$(server_pid "$name")" "$(cat "$DIR/$name/server_id")" \
      "$( [[ $name == primary ]] && echo "read-write, gtid $want" || echo "read_only, replicating from primary")"
  done
}

probe_write() {
  sql "$1" <<'EOSQL' || die "test write on $1 failed"
CREATE TABLE test.sandbox_probe (id INT PRIMARY KEY, note VARCHAR(32)) ENGINE=InnoDB;
INSERT INTO test.sandbox_probe VALUES (1, 'sandbox');
DROP TABLE test.sandbox_probe;
EOSQL
}

# mm_peer NAME: the other server of a master-master pair.
mm_peer() { if [[ $1 == mm1 ]]; then echo mm2; else echo mm1; fi; }

# start_master_master TIMEOUT: mm1 and mm2, each replicating from the other.
start_master_master() {
  local timeout=$1 deadline pos1 pos2 name
  start_servers 30 mm1 mm2
  check_no_gtids mm1 mm2
  accounts_sql | sql mm1 || die "user setup on mm1 failed"
  deadline=$(($(now_ms) + timeout * 1000))
  # mm2 first takes the accounts from mm1; then mm1 follows mm2 (it skips its own events,
  # which come back through mm2's log_slave_updates binlog, by server_id).
  change_master mm2 mm1
  wait_slave mm2 mm1 "$deadline" "$(sqlq mm1 'SELECT @@gtid_binlog_pos')" ||
    die "mm2 did not catch up with mm1"
  change_master mm1 mm2
  wait_slave mm1 mm2 "$deadline" || die "replication mm2 -> mm1 did not start"
  # A write on each side; both binlogs must end up with the same position in both domains.
  probe_write mm1
  sql mm2 -e "CREATE TABLE test.sandbox_probe2 (id INT PRIMARY KEY) ENGINE=InnoDB;
              DROP TABLE test.sandbox_probe2" || die "test write on mm2 failed"
  while :; do
    pos1=$(sqlq mm1 'SELECT @@gtid_binlog_pos' 2>/dev/null || true)
    pos2=$(sqlq mm2 'SELECT @@gtid_binlog_pos' 2>/dev/null || true)
    [[ -n $pos1 && $pos1 == "$pos2" && $pos1 == *,* ]] && break
    if (($(now_ms) > deadline)); then
      note "mm1 and mm2 did not converge: mm1 gtid_binlog_pos=$pos1, mm2 gtid_binlog_pos=$pos2"
      for name in mm1 mm2; do
        sql "$name" -e 'SHOW SLAVE STATUS\G' 2>/dev/null | grep -E 'Last_(IO|SQL)_Err|Running' >&2 || true
        show_log_tail "$name" 10
      done
      die "master-master replication did not converge"
    fi
    sleep 0.1
  done
  for name in mm1 mm2; do
    wait_slave "$name" "$(mm_peer "$name")" "$deadline" || die "replication on $name stopped"
  done

  finish_start
  for name in mm1 mm2; do
    printf '  %-9s 127.0.0.1:%-5s pid %-7s server_id %-2s %s\n' "$name" "$(server_port "$name")" \
      "$(server_pid "$name")" "$(cat "$DIR/$name/server_id")" \
      "read-write, gtid_domain_id $(cat "$DIR/$name/server_id"), replicating from $(mm_peer "$name"); gtid $pos1"
  done
}

# mm_wait_restarted NAME TIMEOUT: after restart-server in master-master mode, wait until NAME
# replicates again (its threads start with the server); the peer's IO thread reconnects by
# itself (MASTER_CONNECT_RETRY=1).
mm_wait_restarted() {
  local name=$1 peer deadline
  peer=$(mm_peer "$name")
  deadline=$(($(now_ms) + $2 * 1000))
  wait_slave "$name" "$peer" "$deadline" || die "$name does not replicate from $peer"
  if server_running "$peer"; then
    wait_slave "$peer" "$name" "$deadline" || die "$peer does not replicate from $name"
  fi
}
