#pragma once

// What the config unit tests share: parsing a text that must be valid, or collecting the
// FILE:LINE messages of one that must not.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace replproxy::config::test {

// The file name every message starts with.
inline constexpr std::string_view kSource = "test.toml";

// One user and one backend: what a valid file needs besides the section under test.
inline constexpr std::string_view kUserAndBackend =
    "[[users]]\nname = \"app\"\npassword = \"app\"\n"
    "[[backends]]\nname = \"db1\"\naddress = \"127.0.0.1:3307\"\n";

// Appended after the text under test, so that its line numbers start at 1.
inline std::string with_user_and_backend(std::string_view head) {
  return std::string(head) + std::string(kUserAndBackend);
}

inline Config parse_valid(std::string_view text) {
  auto config = parse_config(text, kSource);
  EXPECT_TRUE(config.has_value()) << ::testing::PrintToString(config ? std::vector<std::string>{}
                                                                     : config.error().messages);
  return config ? *config : Config{};
}

inline std::vector<std::string> errors_of(std::string_view text) {
  auto config = parse_config(text, kSource);
  return config ? std::vector<std::string>{} : config.error().messages;
}

}  // namespace replproxy::config::test
