// The command line: --check-config reports every problem as FILE:LINE: message and exits 1, accepts
// the shipped example config, and --config refuses to start on a bad file.

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

// Needs no sandbox: these only run the binary.
class CommandLine : public ::testing::Test {
 protected:
  static RunResult replproxy(const std::string& args) {
    return run(std::string(REPLPROXY_BINARY) + " " + args, 20s);
  }
};

constexpr std::string_view kBadConfig =
    "[proxy]\n"                       // 1
    "listen = \"127.0.0.1:6000\"\n"   // 2
    "workers = \"two\"\n"             // 3: wrong type
    "bogus_key = 1\n"                 // 4: unknown key
    "\n"                              // 5
    "[[users]]\n"                     // 6
    "name = \"app\"\n"                // 7
    "password = \"app\"\n"            // 8
    "\n"                              // 9
    "[[backends]]\n"                  // 10
    "name = \"db1\"\n"                // 11
    "address = \"127.0.0.1:3306\"\n"  // 12
    "role = \"leader\"\n";            // 13: not a role

TEST_F(CommandLine, CheckConfigReportsFileAndLine) {
  TempDir dir;
  const std::string path = dir.file("bad.toml");
  write_file(path, kBadConfig);
  RunResult r = replproxy("--check-config " + shell_quote(path));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(path + ":3: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("workers"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path + ":4: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bogus_key"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path + ":13: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("leader"), std::string::npos) << r.output;
}

TEST_F(CommandLine, CheckConfigReportsTomlSyntaxErrors) {
  TempDir dir;
  const std::string path = dir.file("syntax.toml");
  write_file(path, "[proxy]\nlisten = \"127.0.0.1:6000\"\nworkers = [1,\n");
  RunResult r = replproxy("--check-config " + shell_quote(path));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(r.output.starts_with(path + ":")) << r.output;

  RunResult missing = replproxy("--check-config " + shell_quote(dir.file("missing.toml")));
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_NE(missing.output.find("missing.toml"), std::string::npos) << missing.output;
}

TEST_F(CommandLine, CheckConfigAcceptsTheExample) {
  const std::string example = std::string(REPLPROXY_SOURCE_DIR) + "/config/replproxy.example.toml";
  RunResult r = replproxy("--check-config " + shell_quote(example));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("OK"), std::string::npos) << r.output;
}

TEST_F(CommandLine, ConfigOptionRefusesABadFile) {
  TempDir dir;
  const std::string path = dir.file("bad.toml");
  write_file(path, kBadConfig);
  RunResult r = replproxy("--config " + shell_quote(path));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(path + ":3: "), std::string::npos) << r.output;
}

TEST_F(CommandLine, Version) {
  RunResult r = replproxy("--version");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(r.output.starts_with("replproxy ")) << r.output;
}

}  // namespace
}  // namespace replproxy::e2e
