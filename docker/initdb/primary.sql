-- Accounts and schema for docker/compose.yaml, run once by the mariadb image's entrypoint on the
-- primary (mounted into /docker-entrypoint-initdb.d). They are binary-logged, so the replicas,
-- which replicate the primary's whole binary log by GTID, get them too. The passwords are those of
-- docker/replproxy.toml; mysql_native_password is what replproxy logs in with.

CREATE DATABASE IF NOT EXISTS appdb;

-- The application's account: the proxy authenticates it itself and logs in to the backends as it.
-- Grants on appdb only, so it has no READ_ONLY ADMIN and cannot write to the read-only replicas.
CREATE USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('app-secret');
GRANT ALL PRIVILEGES ON appdb.* TO 'app'@'%';

-- The [health] monitoring account: replication status everywhere, and the heartbeat table that
-- the proxy writes on the primary to measure replica lag in milliseconds.
CREATE USER 'monitor'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('monitor-secret');
GRANT REPLICATION CLIENT, SLAVE MONITOR, REPLICATION MASTER ADMIN, PROCESS ON *.* TO 'monitor'@'%';
GRANT CREATE, INSERT, UPDATE, DELETE, SELECT ON replproxy.* TO 'monitor'@'%';
