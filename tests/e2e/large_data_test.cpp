// Big results and big packets: a 100,000-row result (buffered and streamed), a 20 MiB BLOB
// written and read back (packets split at 16 MiB in both directions), payloads of exactly
// 2^24-1 bytes (which need a trailing empty frame), and LOAD DATA LOCAL INFILE.

#include <random>

#include "tests/e2e/harness.h"
#include "tests/e2e/raw_protocol.h"

namespace replproxy::e2e {
namespace {

class LargeData : public E2eTest {};

constexpr size_t kMaxFrame = 0xFFFFFF;

// 64-bit FNV-1a over every field of every row (NULL distinct from "").
struct RowHash {
  uint64_t h = 1469598103934665603ull;
  void add(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
    }
  }
  void add_row(MYSQL_ROW row, const unsigned long* lengths, unsigned fields) {
    for (unsigned i = 0; i < fields; ++i) {
      if (row[i] == nullptr) {
        add("\xff\xfeNULL", 6);
      } else {
        add(row[i], lengths[i]);
      }
      add("\x1f", 1);
    }
    add("\x1e", 1);
  }
};

struct Streamed {
  size_t rows = 0;
  uint64_t hash = 0;
  bool ordered = true;
  DbError error;
};

// SELECT with mysql_use_result: rows are read one by one as they arrive.
Streamed stream_rows(Connection& c, const std::string& sql) {
  Streamed s;
  MYSQL* m = c.get();
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
    s.error = c.error();
    return s;
  }
  MYSQL_RES* res = mysql_use_result(m);
  if (res == nullptr) {
    s.error = c.error();
    return s;
  }
  RowHash hash;
  const unsigned fields = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    ++s.rows;
    if (row[0] == nullptr || std::to_string(s.rows) != row[0]) {
      s.ordered = false;
    }
    hash.add_row(row, mysql_fetch_lengths(res), fields);
  }
  s.error = c.error();
  mysql_free_result(res);
  s.hash = hash.h;
  return s;
}

std::string md5_of_file(const std::string& path) {
  RunResult r = run("md5sum " + shell_quote(path) + " | cut -d' ' -f1");
  return r.status == 0 ? r.output : "md5sum failed: " + r.output;
}

TEST_F(LargeData, HundredThousandRows) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "bigresult");
  ASSERT_TRUE(schema.create());
  {
    auto direct = connect_direct(sandbox(), "primary", schema.name());
    ASSERT_TRUE(direct);
    direct->must(
        "CREATE TABLE big (id INT PRIMARY KEY, s VARCHAR(100), d DECIMAL(12,2), ts DATETIME, "
        "n INT NULL) ENGINE=InnoDB");
    direct->must(
        "INSERT INTO big SELECT seq, CONCAT('row-', seq, '-', REPEAT('xé', seq % 40)), seq / 7, "
        "'2024-01-01' + INTERVAL seq SECOND, IF(seq % 3 = 0, NULL, seq * 31) "
        "FROM seq_1_to_100000");
  }
  TempDir tmp;
  const std::string query = "-e 'SELECT * FROM big ORDER BY id' > ";
  RunResult p = run(mariadb_cli(proxy.port(), schema.name(), query + tmp.file("proxy.tsv")));
  RunResult d =
      run(mariadb_cli(sandbox().primary_port(), schema.name(), query + tmp.file("direct.tsv")));
  ASSERT_EQ(d.status, 0) << d.output;
  EXPECT_EQ(p.status, 0) << p.output;
  RunResult lines = run("wc -l < " + tmp.file("proxy.tsv"));
  EXPECT_EQ(lines.output, "100001\n");  // the header and every row
  const std::string direct_md5 = md5_of_file(tmp.file("direct.tsv"));
  EXPECT_EQ(direct_md5.size(), 33u) << direct_md5;
  EXPECT_EQ(md5_of_file(tmp.file("proxy.tsv")), direct_md5);

  // Streamed with mysql_use_result, through the proxy and directly.
  auto via_proxy = must_connect({.port = proxy.port(), .db = schema.name()});
  auto direct = must_connect({.port = sandbox().primary_port(), .db = schema.name()});
  ASSERT_TRUE(via_proxy && direct);
  Streamed sp = stream_rows(*via_proxy, "SELECT * FROM big ORDER BY id");
  Streamed sd = stream_rows(*direct, "SELECT * FROM big ORDER BY id");
  EXPECT_EQ(sp.error.code, 0u) << sp.error;
  EXPECT_EQ(sd.error.code, 0u) << sd.error;
  EXPECT_EQ(sp.rows, 100000u);
  EXPECT_TRUE(sp.ordered);
  EXPECT_EQ(sp.hash, sd.hash);
  // A query after a streamed result on the same session.
  EXPECT_EQ(via_proxy->scalar("SELECT COUNT(*) FROM big WHERE n IS NULL"), "33333");
}

// Deterministic pseudo-random bytes, every value 0..255 included.
std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    const uint32_t v = gen();
    for (size_t j = 0; j < 4 && i + j < n; ++j) {
      s[i + j] = static_cast<char>(v >> (8 * j));
    }
  }
  return s;
}

// Reads column 0 of "SELECT b FROM blobs WHERE id = ID" through the binary protocol.
std::optional<std::string> read_blob_prepared(Connection& c, int id, size_t capacity) {
  MYSQL_STMT* stmt = mysql_stmt_init(c.get());
  const std::string sql = "SELECT b FROM blobs WHERE id = " + std::to_string(id);
  std::optional<std::string> out;
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) == 0 && mysql_stmt_execute(stmt) == 0) {
    std::string buffer(capacity, '\0');
    unsigned long length = 0;
    my_bool is_null = 0;
    MYSQL_BIND bind{};
    bind.buffer_type = MYSQL_TYPE_LONG_BLOB;
    bind.buffer = buffer.data();
    bind.buffer_length = capacity;
    bind.length = &length;
    bind.is_null = &is_null;
    if (mysql_stmt_bind_result(stmt, &bind) == 0 && mysql_stmt_fetch(stmt) == 0 && !is_null) {
      buffer.resize(length);
      out = std::move(buffer);
    }
  }
  if (!out) {
    ADD_FAILURE() << "prepared read of blob " << id << ": " << mysql_stmt_error(stmt);
  }
  mysql_stmt_close(stmt);
  return out;
}

TEST_F(LargeData, TwentyMebibyteBlob) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "blob");
  ASSERT_TRUE(schema.create());
  auto c = must_connect({.port = proxy.port(), .db = schema.name()});
  ASSERT_TRUE(c);
  c->must("CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB");

  const size_t size = 20u << 20;
  const std::string data = random_bytes(size, 20240229);
  TempDir tmp;
  write_file(tmp.file("blob.bin"), data);
  const std::string data_md5 = md5_of_file(tmp.file("blob.bin"));

  // Row 1: a client-sent literal, so the COM_QUERY itself is over 16 MiB.
  std::string escaped(size * 2 + 1, '\0');
  escaped.resize(mysql_real_escape_string(c->get(), escaped.data(), data.data(), data.size()));
  const std::string insert = "INSERT INTO blobs VALUES (1, _binary'" + escaped + "')";
  ASSERT_GT(insert.size(), kMaxFrame);
  ASSERT_EQ(mysql_real_query(c->get(), insert.data(), insert.size()), 0) << c->error();
  EXPECT_EQ(mysql_affected_rows(c->get()), 1u);

  // Row 2: a prepared INSERT with the value sent as 1 MiB COM_STMT_SEND_LONG_DATA pieces.
  {
    MYSQL_STMT* stmt = mysql_stmt_init(c->get());
    const std::string sql = "INSERT INTO blobs VALUES (2, ?)";
    ASSERT_EQ(mysql_stmt_prepare(stmt, sql.data(), sql.size()), 0) << mysql_stmt_error(stmt);
    MYSQL_BIND param{};
    param.buffer_type = MYSQL_TYPE_LONG_BLOB;
    ASSERT_EQ(mysql_stmt_bind_param(stmt, &param), 0) << mysql_stmt_error(stmt);
    for (size_t off = 0; off < size; off += 1u << 20) {
      ASSERT_EQ(mysql_stmt_send_long_data(stmt, 0, data.data() + off, 1u << 20), 0)
          << mysql_stmt_error(stmt);
    }
    ASSERT_EQ(mysql_stmt_execute(stmt), 0) << mysql_stmt_error(stmt);
    EXPECT_EQ(mysql_stmt_affected_rows(stmt), 1u);
    mysql_stmt_close(stmt);
  }

  // Row 3: built by the server.
  c->must("INSERT INTO blobs VALUES (3, REPEAT(X'00010203FF', 4194304))");

  Rows rows = c->must("SELECT id, LENGTH(b), MD5(b) FROM blobs ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (Row{"1", std::to_string(size), data_md5.substr(0, 32)}));
  EXPECT_EQ(rows[1], (Row{"2", std::to_string(size), data_md5.substr(0, 32)}));

  // Read back: every result row is over 16 MiB.
  for (int id : {1, 2}) {
    SCOPED_TRACE("blob " + std::to_string(id));
    Rows back = c->must("SELECT b FROM blobs WHERE id = " + std::to_string(id));
    ASSERT_EQ(back.size(), 1u);
    ASSERT_TRUE(back[0][0]);
    EXPECT_EQ(back[0][0]->size(), size);
    EXPECT_TRUE(*back[0][0] == data) << "the blob read back differs from the one written";
  }
  std::string pattern;
  for (int i = 0; i < 4194304; ++i) {
    pattern.append("\x00\x01\x02\x03\xff", 5);
  }
  Rows three = c->must("SELECT b FROM blobs WHERE id = 3");
  ASSERT_EQ(three.size(), 1u);
  EXPECT_TRUE(three[0][0] == pattern) << "server-built blob differs";

  // The binary protocol's row of the same size.
  auto prepared = read_blob_prepared(*c, 1, size + 16);
  ASSERT_TRUE(prepared);
  EXPECT_TRUE(*prepared == data) << "prepared read differs (size " << prepared->size() << ")";

  // What the primary stored, asked directly.
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->scalar("SELECT COUNT(DISTINCT MD5(b)) FROM blobs WHERE id IN (1, 2)"), "1");
  EXPECT_EQ(direct->scalar("SELECT MD5(b) FROM blobs WHERE id = 1"), data_md5.substr(0, 32));
}

// Payloads of exactly 2^24-1 bytes are followed by an empty frame; one byte more or less is not.
TEST_F(LargeData, PayloadsAroundTheFrameLimit) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  for (int delta : {-1, 0, 1}) {
    SCOPED_TRACE("delta " + std::to_string(delta));
    // Client to server: COM_QUERY payload = 1 command byte + the query text.
    const std::string head = "SELECT LENGTH('";
    const std::string tail = "')";
    const size_t filler = kMaxFrame - 1 - head.size() - tail.size() + delta;
    const std::string sql = head + std::string(filler, 'q') + tail;
    ASSERT_EQ(sql.size() + 1, kMaxFrame + delta);
    EXPECT_EQ(c->scalar(sql), std::to_string(filler));

    // Server to client: a text row of one column = 4-byte length prefix + the value.
    const size_t value = kMaxFrame - 4 + delta;
    Rows rows = c->must("SELECT REPEAT('r', " + std::to_string(value) + ")");
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_TRUE(rows[0][0]);
    EXPECT_EQ(rows[0][0]->size(), value);
    EXPECT_EQ(rows[0][0]->find_first_not_of('r'), std::string::npos);
    EXPECT_EQ(c->scalar("SELECT 'next'"), "next");
  }
}

// Reads one text-protocol result of a single column (libmariadb negotiates no DEPRECATE_EOF:
// column count, one definition, EOF, rows, EOF) whose rows are each one frame. The sizes of the
// values, or a description of what went wrong.
std::expected<std::vector<size_t>, std::string> read_text_result(int fd,
                                                                 std::chrono::milliseconds wait) {
  Packet p;
  for (int i = 0; i < 3; ++i) {  // column count, column definition, EOF
    if (read_packet(fd, p, wait) != ReadStatus::ok) {
      return std::unexpected("no result header within " + std::to_string(wait.count()) + " ms");
    }
    if (i == 0 && p.payload != std::string("\x01", 1)) {
      return std::unexpected("not a one-column result (" + std::to_string(err_code(p)) + ")");
    }
  }
  std::vector<size_t> sizes;
  for (;;) {
    if (read_packet(fd, p, wait) != ReadStatus::ok) {
      return std::unexpected("result rows stopped after " + std::to_string(sizes.size()));
    }
    const auto first = static_cast<uint8_t>(p.payload.empty() ? 0 : p.payload[0]);
    if (first == 0xfe && p.payload.size() < 9) {
      return sizes;
    }
    const size_t prefix = first < 0xfb ? 1 : first == 0xfc ? 3 : first == 0xfd ? 4 : 9;
    sizes.push_back(p.payload.size() - prefix);
  }
}

// A result that ends while most of it still waits in the proxy to be written to a slow client:
// the session must go on reading the backend for the next command.
TEST_F(LargeData, NextQueryAfterAMultiMebibyteRowReadSlowly) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  const int fd = mysql_get_socket(c->get());
  for (size_t size : {1u << 20, 6u << 20, 12u << 20}) {
    SCOPED_TRACE("row of " + std::to_string(size) + " bytes");
    const std::string query = "\x03SELECT REPEAT('r', " + std::to_string(size) + ")";
    ASSERT_TRUE(send_all(fd, frame(0, query)));
    std::this_thread::sleep_for(1s);  // the client reads nothing meanwhile
    auto big = read_text_result(fd, 10s);
    ASSERT_TRUE(big) << big.error();
    EXPECT_EQ(*big, std::vector<size_t>{size});

    ASSERT_TRUE(send_all(fd, frame(0, "\x03SELECT 'next'")));
    auto next = read_text_result(fd, 5s);
    ASSERT_TRUE(next) << "the command after the big result: " << next.error();
    EXPECT_EQ(*next, std::vector<size_t>{4});
  }
  EXPECT_EQ(c->scalar("SELECT 'in step'"), "in step");
}

// A command of exactly 2^24-1 bytes ends with an empty frame, here arriving in the same read as
// the end of the first frame: the proxy must forward both.
TEST_F(LargeData, MaxFrameCommandWhoseEmptyFrameArrivesWithItsEnd) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  const int fd = mysql_get_socket(c->get());
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string head = "\x03SELECT LENGTH('";
    const std::string payload = head + std::string(kMaxFrame - head.size() - 2, 'q') + "')";
    ASSERT_EQ(payload.size(), kMaxFrame);
    // All but the last bytes first, so that the proxy has them buffered; then the rest of the
    // first frame together with the empty one, in one segment.
    const std::string bytes = frame(0, payload) + frame(1, "");
    const size_t tail = 100;
    ASSERT_TRUE(send_all(fd, std::string_view(bytes).substr(0, bytes.size() - tail)));
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(send_all(fd, std::string_view(bytes).substr(bytes.size() - tail)));
    auto result = read_text_result(fd, 10s);
    ASSERT_TRUE(result) << result.error();
    EXPECT_EQ(*result, std::vector<size_t>{std::to_string(kMaxFrame - head.size() - 2).size()});
  }
  EXPECT_EQ(c->scalar("SELECT 'in step'"), "in step");
}

TEST_F(LargeData, LoadDataLocalInfile) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "infile");
  ASSERT_TRUE(schema.create());
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  for (const char* t : {"via_proxy", "via_direct", "via_capi"}) {
    direct->must(std::string("CREATE TABLE ") + t +
                 " (id INT PRIMARY KEY, name VARCHAR(64), amount DECIMAL(10,3), note TEXT)");
  }

  TempDir tmp;
  std::string contents;
  for (int i = 1; i <= 50000; ++i) {
    contents += std::to_string(i) + "\tname-" + std::to_string(i * 7919 % 100003) + "\t" +
                std::to_string(i % 1000) + "." + std::to_string(i % 7) + "\t" +
                (i % 5 == 0 ? "\\N" : "ünïcode " + std::string(i % 30, 'z')) + "\n";
  }
  const std::string file = tmp.file("rows.tsv");
  write_file(file, contents);

  auto load = [&](int port, const char* table) {
    const std::string sql = "LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE " + table +
                            " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t'";
    return run(mariadb_cli(port, schema.name(), "--local-infile=1 -e " + shell_quote(sql)));
  };
  RunResult d = load(sandbox().primary_port(), "via_direct");
  ASSERT_EQ(d.status, 0) << d.output;
  RunResult p = load(proxy.port(), "via_proxy");
  EXPECT_EQ(p.status, 0) << p.output;

  // The C API's LOAD DATA LOCAL through the proxy, then a missing file (the client answers with
  // an empty packet; the session must survive).
  auto c = must_connect({.port = proxy.port(), .db = schema.name(), .local_infile = true});
  ASSERT_TRUE(c);
  c->must("LOAD DATA LOCAL INFILE '" + file +
          "' INTO TABLE via_capi CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t'");
  EXPECT_EQ(mysql_affected_rows(c->get()), 50000u);
  auto missing =
      c->query("LOAD DATA LOCAL INFILE '" + tmp.file("missing.tsv") + "' INTO TABLE via_capi");
  EXPECT_FALSE(missing) << "loading a missing file succeeded";
  EXPECT_EQ(c->scalar("SELECT 'alive'"), "alive");

  const std::string summary =
      "SELECT COUNT(*), SUM(id), SUM(amount), "
      "BIT_XOR(CRC32(CONCAT_WS('|', id, name, amount, IFNULL(note, 'NULL')))) FROM ";
  Rows expected = direct->must(summary + "via_direct");
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_EQ(expected[0][0], "50000");
  EXPECT_EQ(direct->must(summary + "via_proxy"), expected);
  EXPECT_EQ(direct->must(summary + "via_capi"), expected);
}

}  // namespace
}  // namespace replproxy::e2e
