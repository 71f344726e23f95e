#!/bin/bash
# The example application of docker/compose.yaml: it knows nothing of replication and talks to
# 127.0.0.1:6033, its replproxy sidecar. Every second one session writes a row and reads the count
# back; replproxy sends the INSERT to the primary and the SELECTs to a replica (which first waits
# for the write, read-your-writes), and @@hostname shows which one answered.
set -u

client=(mariadb --host=127.0.0.1 --port=6033 --user=app --password=app-secret --database=appdb
        --batch --skip-column-names)

until "${client[@]}" --execute='SELECT 1' >/dev/null 2>&1; do
  echo "app: waiting for replproxy on 127.0.0.1:6033"
  sleep 1
done
"${client[@]}" --execute='CREATE TABLE IF NOT EXISTS visits (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))'

while true; do
  # The mariadb client sends these as three commands on one connection.
  if ! reply=$("${client[@]}" --execute='INSERT INTO visits () VALUES ();
      SELECT COUNT(*), @@hostname FROM visits;' 2>&1); then
    echo "app: query failed: $reply"
  else
    read -r count host <<<"$reply"
    echo "app: $count visits, read from $host"
  fi
  sleep 1
done
