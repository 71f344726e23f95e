#pragma once

// How the `match` patterns of [[routing.rules]] are compiled, shared by config/ (which validates
// them at load) and router/ (which uses them), so that both accept exactly the same patterns.
// Kept out of config.h so that only these two include RE2.

#include <re2/re2.h>

namespace replproxy::config {

// Case-insensitive, UTF-8, errors returned by RE2::error() instead of logged to stderr.
re2::RE2::Options rule_pattern_options();

}  // namespace replproxy::config
