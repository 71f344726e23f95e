#pragma once
// SHOW REPLICA STATUS / SHOW SLAVE STATUS, one row, read by column name: MariaDB (10.11 still
// says Master_Host, Slave_IO_Running, ...) and MySQL 8 (Source_Host, Replica_IO_Running, ...)
// spell the columns differently but mean the same.

#include <optional>
#include <span>
#include <string_view>

#include "health/probe.h"

namespace replproxy::health {

// Folds one row into a ReplicaStatus. `values[i]` belongs to `column_names[i]` (nullopt = SQL
// NULL); columns it does not know are ignored, and a missing or unreadable number leaves its field
// at the default (a NULL or unreadable Seconds_Behind_* gives nullopt, "lag unknown").
ReplicaStatus parse_replica_status(std::span<const std::string_view> column_names,
                                   std::span<const std::optional<std::string_view>> values);

}  // namespace replproxy::health
