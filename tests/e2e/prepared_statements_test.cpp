// Prepared statements through the proxy with the C API: COM_STMT_PREPARE/EXECUTE with typed
// parameters and results, re-execution, read-only cursors fetched in batches (COM_STMT_FETCH)
// interleaved with other commands, COM_STMT_RESET and COM_STMT_CLOSE (which has no response).

#include <cstring>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

class PreparedStatements : public E2eTest {};

struct StmtCloser {
  void operator()(MYSQL_STMT* s) const { mysql_stmt_close(s); }
};
using Stmt = std::unique_ptr<MYSQL_STMT, StmtCloser>;

Stmt prepare(Connection& c, std::string_view sql) {
  Stmt stmt(mysql_stmt_init(c.get()));
  if (mysql_stmt_prepare(stmt.get(), sql.data(), sql.size()) != 0) {
    ADD_FAILURE() << "prepare " << sql << ": " << mysql_stmt_errno(stmt.get()) << " "
                  << mysql_stmt_error(stmt.get());
  }
  return stmt;
}

uint64_t session_counter(Connection& c, const std::string& name) {
  Rows rows = c.must("SHOW SESSION STATUS LIKE '" + name + "'");
  return rows.empty() || !rows[0][1] ? 0 : std::stoull(*rows[0][1]);
}

// A row of the table "t" as bound buffers.
struct RowBuffers {
  int32_t id = 0;
  char name[65] = {};
  unsigned long name_length = 0;
  double score = 0;
  MYSQL_TIME created{};
  char note[65] = {};
  unsigned long note_length = 0;
  my_bool null[5] = {};
  MYSQL_BIND bind[5]{};

  RowBuffers() {
    bind[0].buffer_type = MYSQL_TYPE_LONG;
    bind[0].buffer = &id;
    bind[1].buffer_type = MYSQL_TYPE_STRING;
    bind[1].buffer = name;
    bind[1].buffer_length = sizeof(name) - 1;
    bind[1].length = &name_length;
    bind[2].buffer_type = MYSQL_TYPE_DOUBLE;
    bind[2].buffer = &score;
    bind[3].buffer_type = MYSQL_TYPE_DATETIME;
    bind[3].buffer = &created;
    bind[4].buffer_type = MYSQL_TYPE_STRING;
    bind[4].buffer = note;
    bind[4].buffer_length = sizeof(note) - 1;
    bind[4].length = &note_length;
    for (int i = 0; i < 5; ++i) {
      bind[i].is_null = &null[i];
    }
  }
};

std::string expected_name(int id) { return "näme-" + std::to_string(id); }

TEST_F(PreparedStatements, PrepareBindExecuteFetch) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "ps");
  ASSERT_TRUE(schema.create());
  auto c = must_connect({.port = proxy.port(), .db = schema.name()});
  ASSERT_TRUE(c);
  c->must(
      "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(64), score DOUBLE, created DATETIME, "
      "note VARCHAR(64) NULL)");

  const uint64_t closes_before = session_counter(*c, "Com_stmt_close");
  {
    Stmt insert = prepare(*c, "INSERT INTO t VALUES (?, ?, ?, ?, ?)");
    ASSERT_EQ(mysql_stmt_param_count(insert.get()), 5u);
    RowBuffers in;
    ASSERT_EQ(mysql_stmt_bind_param(insert.get(), in.bind), 0) << mysql_stmt_error(insert.get());
    for (int id = 1; id <= 100; ++id) {
      in.id = id;
      const std::string name = expected_name(id);
      std::memcpy(in.name, name.data(), name.size());
      in.name_length = name.size();
      in.score = id * 0.5;
      in.created = MYSQL_TIME{2024, 3,  static_cast<unsigned>(1 + id % 28),
                              12,   30, static_cast<unsigned>(id % 60),
                              0,    0,  MYSQL_TIMESTAMP_DATETIME};
      in.null[4] = id % 2 == 0;
      std::memcpy(in.note, "odd", 3);
      in.note_length = 3;
      ASSERT_EQ(mysql_stmt_execute(insert.get()), 0)
          << "id " << id << ": " << mysql_stmt_error(insert.get());
      ASSERT_EQ(mysql_stmt_affected_rows(insert.get()), 1u);
    }
  }
  EXPECT_EQ(c->scalar("SELECT COUNT(*) FROM t WHERE note IS NULL"), "50");

  Stmt select = prepare(
      *c, "SELECT id, name, score, created, note FROM t WHERE id BETWEEN ? AND ? ORDER BY id");
  ASSERT_EQ(mysql_stmt_field_count(select.get()), 5u);
  {
    MYSQL_RES* meta = mysql_stmt_result_metadata(select.get());
    ASSERT_NE(meta, nullptr);
    EXPECT_STREQ(mysql_fetch_field_direct(meta, 1)->name, "name");
    EXPECT_EQ(mysql_fetch_field_direct(meta, 3)->type, MYSQL_TYPE_DATETIME);
    mysql_free_result(meta);
  }
  int32_t range[2];
  MYSQL_BIND params[2]{};
  for (int i = 0; i < 2; ++i) {
    params[i].buffer_type = MYSQL_TYPE_LONG;
    params[i].buffer = &range[i];
  }
  ASSERT_EQ(mysql_stmt_bind_param(select.get(), params), 0);
  RowBuffers out;
  ASSERT_EQ(mysql_stmt_bind_result(select.get(), out.bind), 0);
  // The same statement executed with several ranges.
  for (auto [lo, hi] : {std::pair{10, 19}, std::pair{95, 200}, std::pair{50, 49}}) {
    SCOPED_TRACE("range " + std::to_string(lo) + ".." + std::to_string(hi));
    range[0] = lo;
    range[1] = hi;
    ASSERT_EQ(mysql_stmt_execute(select.get()), 0) << mysql_stmt_error(select.get());
    ASSERT_EQ(mysql_stmt_store_result(select.get()), 0) << mysql_stmt_error(select.get());
    int expected = lo;
    int rc;
    while ((rc = mysql_stmt_fetch(select.get())) == 0) {
      EXPECT_EQ(out.id, expected);
      EXPECT_EQ(std::string(out.name, out.name_length), expected_name(expected));
      EXPECT_DOUBLE_EQ(out.score, expected * 0.5);
      EXPECT_EQ(out.created.year, 2024u);
      EXPECT_EQ(out.created.day, static_cast<unsigned>(1 + expected % 28));
      EXPECT_EQ(out.created.second, static_cast<unsigned>(expected % 60));
      EXPECT_EQ(out.null[4] != 0, expected % 2 == 0);
      ++expected;
    }
    EXPECT_EQ(rc, MYSQL_NO_DATA) << mysql_stmt_error(select.get());
    EXPECT_EQ(expected, std::max(lo, std::min(hi, 100) + 1));
    mysql_stmt_free_result(select.get());
  }

  // COM_STMT_RESET answers OK; the statement still works afterwards.
  EXPECT_EQ(mysql_stmt_reset(select.get()), 0) << mysql_stmt_error(select.get());
  range[0] = range[1] = 7;
  ASSERT_EQ(mysql_stmt_execute(select.get()), 0) << mysql_stmt_error(select.get());
  ASSERT_EQ(mysql_stmt_fetch(select.get()), 0) << mysql_stmt_error(select.get());
  EXPECT_EQ(out.id, 7);
  EXPECT_EQ(mysql_stmt_fetch(select.get()), MYSQL_NO_DATA);
  select.reset();

  // Both COM_STMT_CLOSEs (no response) reached the server, and the session is in step.
  EXPECT_EQ(session_counter(*c, "Com_stmt_close") - closes_before, 2u);
  EXPECT_EQ(c->scalar("SELECT 'in step'"), "in step");

  // A statement that fails to prepare.
  Stmt bad(mysql_stmt_init(c->get()));
  const std::string sql = "SELECT * FROM no_such_table WHERE id = ?";
  EXPECT_NE(mysql_stmt_prepare(bad.get(), sql.data(), sql.size()), 0);
  EXPECT_EQ(mysql_stmt_errno(bad.get()), 1146u) << mysql_stmt_error(bad.get());
  EXPECT_EQ(c->scalar("SELECT 1 + 1"), "2");
}

TEST_F(PreparedStatements, ReadOnlyCursorFetchedInBatches) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "cursor");
  ASSERT_TRUE(schema.create());
  auto c = must_connect({.port = proxy.port(), .db = schema.name()});
  ASSERT_TRUE(c);
  c->must("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(32))");
  c->must("INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_1000");

  const uint64_t fetches_before = session_counter(*c, "Com_stmt_fetch");
  Stmt stmt = prepare(*c, "SELECT id, v FROM t WHERE id > ? ORDER BY id");
  const unsigned long cursor = CURSOR_TYPE_READ_ONLY;
  const unsigned long prefetch = 64;
  ASSERT_EQ(mysql_stmt_attr_set(stmt.get(), STMT_ATTR_CURSOR_TYPE, &cursor), 0);
  ASSERT_EQ(mysql_stmt_attr_set(stmt.get(), STMT_ATTR_PREFETCH_ROWS, &prefetch), 0);
  int32_t after = 0;
  MYSQL_BIND param{};
  param.buffer_type = MYSQL_TYPE_LONG;
  param.buffer = &after;
  ASSERT_EQ(mysql_stmt_bind_param(stmt.get(), &param), 0);
  int32_t id = 0;
  char v[33] = {};
  unsigned long v_length = 0;
  MYSQL_BIND result[2]{};
  result[0].buffer_type = MYSQL_TYPE_LONG;
  result[0].buffer = &id;
  result[1].buffer_type = MYSQL_TYPE_STRING;
  result[1].buffer = v;
  result[1].buffer_length = sizeof(v) - 1;
  result[1].length = &v_length;
  ASSERT_EQ(mysql_stmt_bind_result(stmt.get(), result), 0);

  for (int32_t start : {0, 900}) {
    SCOPED_TRACE("rows after " + std::to_string(start));
    after = start;
    ASSERT_EQ(mysql_stmt_execute(stmt.get()), 0) << mysql_stmt_error(stmt.get());
    int expected = start + 1;
    int rc;
    while ((rc = mysql_stmt_fetch(stmt.get())) == 0) {
      ASSERT_EQ(id, expected);
      std::string want = "v";
      want += std::to_string(expected);
      ASSERT_EQ(std::string(v, v_length), want);
      if (expected == start + 50) {
        // Other commands between two COM_STMT_FETCHes of an open cursor.
        EXPECT_EQ(c->scalar("SELECT COUNT(*) FROM t"), "1000");
        Stmt other = prepare(*c, "SELECT 41 + 1");
        ASSERT_EQ(mysql_stmt_execute(other.get()), 0) << mysql_stmt_error(other.get());
        ASSERT_EQ(mysql_stmt_store_result(other.get()), 0);
        EXPECT_EQ(mysql_stmt_num_rows(other.get()), 1u);
      }
      ++expected;
    }
    EXPECT_EQ(rc, MYSQL_NO_DATA) << mysql_stmt_error(stmt.get());
    EXPECT_EQ(expected, 1001);
    mysql_stmt_free_result(stmt.get());
  }
  // 1000 rows in batches of 64 plus 100 rows in batches of 64: at least 16 + 2 fetches.
  EXPECT_GE(session_counter(*c, "Com_stmt_fetch") - fetches_before, 18u);
  EXPECT_EQ(c->scalar("SELECT 'after cursors'"), "after cursors");
}

}  // namespace
}  // namespace replproxy::e2e
