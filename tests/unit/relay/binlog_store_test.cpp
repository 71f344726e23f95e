#include "relay/binlog_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "protocol/binlog_bodies.h"

namespace replproxy::relay {
namespace {

namespace binlog = protocol::binlog;
using protocol::Bytes;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/replproxy-store.XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Events as a MariaDB 10.11 primary with binlog_checksum=CRC32 (or NONE) sends them.
class Events {
 public:
  explicit Events(bool crc) : crc_(crc) {}

  // The FDE of a primary of `version`, started at `created` (0: the FDE after a rotation).
  Bytes fde(std::string_view version = "10.11.19-MariaDB-log", uint32_t created = 0) const {
    binlog::FormatDescription f;
    f.server_version = version;
    f.create_timestamp = created;
    // MariaDB 10.11's post-header lengths (types 1..171), as its FDEs list them.
    f.post_header_lengths = {0x38, 0x0d, 0x00, 0x08, 0x00, 0x12, 0x00, 0x04, 0x04, 0x04, 0x04,
                             0x12, 0x00, 0x00, 0xe4, 0x00, 0x04, 0x1a, 0x08, 0x00, 0x00, 0x00,
                             0x08, 0x08, 0x08, 0x02, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x0a, 0x00,
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x0a};
    f.post_header_lengths.resize(160, 0);
    for (uint8_t b : {0x04, 0x13, 0x04, 0x00, 0x0d, 0x08, 0x08, 0x08, 0x0a, 0x0a, 0x0a}) {
      f.post_header_lengths.push_back(b);
    }
    f.checksum_alg = crc_ ? binlog::ChecksumAlg::crc32 : binlog::ChecksumAlg::off;
    Bytes body;
    binlog::encode_format_description(f, body);
    return event(binlog::EventType::format_description, body, true);
  }
  Bytes gtid(uint64_t seq) const {
    binlog::MariaGtid g;
    g.seq_no = seq;
    g.domain_id = 0;
    g.flags = 0;
    Bytes body;
    binlog::encode_maria_gtid(g, body);
    return event(binlog::EventType::gtid_mariadb, body);
  }
  Bytes query(std::string_view sql) const {
    binlog::Query q;
    q.schema = "test";
    q.query = sql;
    Bytes body;
    binlog::encode_query(q, body);
    return event(binlog::EventType::query, body);
  }
  Bytes xid(uint64_t id) const {
    Bytes body;
    binlog::encode_xid({id}, body);
    return event(binlog::EventType::xid, body);
  }
  // A transaction: GTID 0-1-seq, BEGIN, an INSERT with `padding` bytes, XID.
  std::vector<Bytes> transaction(uint64_t seq, size_t padding = 10) const {
    return {gtid(seq), query("BEGIN"),
            query("INSERT INTO t VALUES ('" + std::string(padding, 'x') + "')"), xid(seq)};
  }

 private:
  Bytes event(binlog::EventType type, const Bytes& body, bool is_fde = false) const {
    binlog::EventHeader h;
    h.timestamp = 1796198129;
    h.type = binlog::type_byte(type);
    h.server_id = 1;
    h.log_pos = 12345;  // the primary's; the store rewrites it
    Bytes out;
    binlog::encode_event(h, body, is_fde ? true : crc_, out);
    return out;
  }
  bool crc_;
};

BinlogStore::Options options(const std::string& dir, uint64_t max_size = uint64_t{1} << 30) {
  BinlogStore::Options o;
  o.dir = dir;
  o.max_file_size = max_size;
  o.server_id = 9001;
  return o;
}

std::unique_ptr<BinlogStore> open_store(const BinlogStore::Options& o) {
  auto store = BinlogStore::open(o);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error());
  return store ? std::move(*store) : nullptr;
}

void append_all(BinlogStore& store, const std::vector<Bytes>& events) {
  for (const Bytes& e : events) {
    auto r = store.append(e);
    ASSERT_TRUE(r.has_value()) << r.error();
  }
}

// Every event of a file: type and whole bytes, checking log_pos and CRC on the way.
std::vector<std::pair<uint8_t, Bytes>> read_all(const std::string& path) {
  std::vector<std::pair<uint8_t, Bytes>> out;
  auto reader = BinlogFileReader::open(path);
  EXPECT_TRUE(reader.has_value()) << (reader ? "" : reader.error());
  if (!reader) {
    return out;
  }
  out.emplace_back(binlog::type_byte(binlog::EventType::format_description),
                   (*reader)->format_description());
  for (;;) {
    auto next = (*reader)->next(UINT64_MAX);
    EXPECT_TRUE(next.has_value());
    if (!next || !*next) {
      break;
    }
    auto header = binlog::decode_event_header(**next);
    EXPECT_TRUE(header.has_value());
    EXPECT_EQ(header->log_pos, (*reader)->offset()) << "log_pos of a type " << int(header->type);
    if ((*reader)->checksums()) {
      EXPECT_TRUE(binlog::checksum_matches(**next)) << "CRC of a type " << int(header->type);
    }
    out.emplace_back(header->type, Bytes(next->value().begin(), next->value().end()));
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<uint8_t> types(const std::vector<std::pair<uint8_t, Bytes>>& events) {
  std::vector<uint8_t> t;
  for (const auto& e : events) {
    t.push_back(e.first);
  }
  return t;
}

constexpr uint8_t kFde = 15, kGtidList = 163, kGtid = 162, kQuery = 2, kXid = 16, kRotate = 4;

TEST(BinlogStore, WritesAStandardFile) {
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  EXPECT_TRUE(store->checksums());
  append_all(*store, ev.transaction(1));
  append_all(*store, ev.transaction(2));
  EXPECT_EQ(store->gtid_position().to_string(), "0-1-2");
  EXPECT_EQ(store->committed_end(), store->written_end());
  EXPECT_EQ(store->events_stored(), 8u);

  const std::string file = dir.path() + "/replproxy-bin.000001";
  const std::string bytes = slurp(file);
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(bytes.substr(0, 4), std::string("\xfe" "bin"));
  const auto events = read_all(file);
  EXPECT_EQ(types(events), (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid,
                                                 kGtid, kQuery, kQuery, kXid}));
  // The open file's FDE says IN_USE.
  EXPECT_EQ(events[0].second[binlog::kFlagsOffset] & binlog::LOG_EVENT_BINLOG_IN_USE_F, 1);
  EXPECT_EQ(slurp(dir.path() + "/replproxy-bin.index"), "./replproxy-bin.000001\n");
  const auto files = store->files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].size, bytes.size());
  EXPECT_TRUE(files[0].start.empty());
}

TEST(BinlogStore, RotatesOnlyAtAGroupEnd) {
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path(), 600));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  const std::vector<Bytes> big = ev.transaction(1, 700);  // passes 600 in its third event
  for (size_t i = 0; i < big.size(); ++i) {
    auto r = store->append(big[i]);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->rotated, i + 1 == big.size()) << i;
    EXPECT_EQ(r->group_end, i + 1 == big.size()) << i;
  }
  append_all(*store, ev.transaction(2));
  const auto files = store->files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].start.to_string(), "0-1-1");
  const auto first = read_all(dir.path() + "/replproxy-bin.000001");
  ASSERT_EQ(types(first),
            (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid, kRotate}));
  // Closed: IN_USE cleared, and the ROTATE names the next file.
  EXPECT_EQ(first[0].second[binlog::kFlagsOffset] & binlog::LOG_EVENT_BINLOG_IN_USE_F, 0);
  auto rotate = binlog::split_event(first.back().second, true);
  ASSERT_TRUE(rotate.has_value());
  auto body = binlog::decode_rotate(rotate->body);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->next_file, "replproxy-bin.000002");
  EXPECT_EQ(body->position, 4u);
  const auto second = read_all(dir.path() + "/replproxy-bin.000002");
  EXPECT_EQ(types(second), (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid}));
  EXPECT_EQ(slurp(dir.path() + "/replproxy-bin.index"),
            "./replproxy-bin.000001\n./replproxy-bin.000002\n");
  // The rotation made the whole old file durable.
  EXPECT_GE(store->durable(), (StorePos{1, files[0].size}));
}

TEST(BinlogStore, ReopenResumesFromTheStoredPosition) {
  TempDir dir;
  Events ev(true);
  {
    auto store = open_store(options(dir.path()));
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->set_format(ev.fde()).has_value());
    append_all(*store, ev.transaction(1));
    append_all(*store, ev.transaction(2));
  }
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  EXPECT_EQ(store->gtid_position().to_string(), "0-1-2");
  EXPECT_FALSE(store->has_format());
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  append_all(*store, ev.transaction(3));
  const auto files = store->files();
  ASSERT_EQ(files.size(), 2u);  // a new file per start, as a server does
  EXPECT_EQ(files[1].start.to_string(), "0-1-2");
  EXPECT_EQ(store->gtid_position().to_string(), "0-1-3");
}

TEST(BinlogStore, RecoveryCutsAnIncompleteTransaction) {
  TempDir dir;
  Events ev(true);
  uint64_t committed = 0;
  {
    auto store = open_store(options(dir.path()));
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->set_format(ev.fde()).has_value());
    append_all(*store, ev.transaction(1));
    committed = store->committed_end().offset;
    const auto partial = ev.transaction(2);
    append_all(*store, {partial[0], partial[1]});
    EXPECT_TRUE(store->in_group());
    EXPECT_EQ(store->committed_end().offset, committed);
    EXPECT_GT(store->written_end().offset, committed);
  }
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  EXPECT_EQ(store->gtid_position().to_string(), "0-1-1");
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/replproxy-bin.000001"), committed);
  EXPECT_EQ(types(read_all(dir.path() + "/replproxy-bin.000001")),
            (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid}));
}

TEST(BinlogStore, RecoveryCutsATornOrCorruptLastEvent) {
  for (const bool flip : {false, true}) {
    TempDir dir;
    Events ev(true);
    uint64_t first_end = 0;
    {
      auto store = open_store(options(dir.path()));
      ASSERT_TRUE(store);
      ASSERT_TRUE(store->set_format(ev.fde()).has_value());
      append_all(*store, ev.transaction(1));
      first_end = store->committed_end().offset;
      append_all(*store, ev.transaction(2));
    }
    const std::string file = dir.path() + "/replproxy-bin.000001";
    const uint64_t size = std::filesystem::file_size(file);
    if (flip) {
      const int fd = ::open(file.c_str(), O_RDWR);
      uint8_t b = 0;
      ASSERT_EQ(::pread(fd, &b, 1, static_cast<off_t>(size - 8)), 1);
      b ^= 0x04;
      ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(size - 8)), 1);
      ::close(fd);
    } else {
      std::filesystem::resize_file(file, size - 5);
    }
    auto store = open_store(options(dir.path()));
    ASSERT_TRUE(store);
    EXPECT_EQ(store->gtid_position().to_string(), "0-1-1") << (flip ? "flip" : "torn");
    EXPECT_EQ(std::filesystem::file_size(file), first_end) << (flip ? "flip" : "torn");
  }
}

TEST(BinlogStore, DiscardOpenGroupCutsBackWithoutAHole) {
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  append_all(*store, ev.transaction(1));
  const auto partial = ev.transaction(2);
  append_all(*store, {partial[0], partial[1], partial[2]});
  ASSERT_TRUE(store->discard_open_group().has_value());
  EXPECT_FALSE(store->in_group());
  EXPECT_EQ(store->written_end(), store->committed_end());
  append_all(*store, ev.transaction(2));
  EXPECT_EQ(types(read_all(dir.path() + "/replproxy-bin.000001")),
            (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid, kGtid, kQuery,
                                  kQuery, kXid}));
}

TEST(BinlogStore, SyncMakesWhatWasWrittenDurable) {
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  append_all(*store, ev.transaction(1));
  EXPECT_LT(store->durable(), store->written_end());
  auto synced = store->sync();
  ASSERT_TRUE(synced.has_value());
  EXPECT_EQ(*synced, store->written_end());
  EXPECT_EQ(store->durable(), store->written_end());
}

TEST(BinlogStore, ReadersHearOfEveryCompleteGroup) {
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  const int fd = eventfd(0, EFD_NONBLOCK);
  store->subscribe(fd);
  uint64_t value = 0;
  const auto t = ev.transaction(1);
  append_all(*store, {t[0], t[1], t[2]});
  EXPECT_EQ(::read(fd, &value, sizeof value), -1);  // nothing complete yet
  append_all(*store, {t[3]});
  EXPECT_EQ(::read(fd, &value, sizeof value), 8);
  store->unsubscribe(fd);
  ::close(fd);
}

TEST(BinlogStore, WithoutChecksums) {
  TempDir dir;
  Events ev(false);
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  EXPECT_FALSE(store->checksums());
  append_all(*store, ev.transaction(1));
  EXPECT_EQ(types(read_all(dir.path() + "/replproxy-bin.000001")),
            (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid}));
}

// A reconnect resends the same FDE (perhaps with another create_timestamp): the file goes on. A
// primary of another version (a failover) gets a file of its own, as its events follow its FDE.
TEST(BinlogStore, AnotherServersFormatStartsANewFile) {
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde("10.11.19-MariaDB-log", 1700000000)).has_value());
  append_all(*store, ev.transaction(1));
  ASSERT_TRUE(store->set_format(ev.fde("10.11.19-MariaDB-log", 1700000500)).has_value());
  append_all(*store, ev.transaction(2));
  ASSERT_EQ(store->files().size(), 1u);
  ASSERT_TRUE(store->set_format(ev.fde("10.11.20-MariaDB-log")).has_value());
  append_all(*store, ev.transaction(3));
  const auto files = store->files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].start.to_string(), "0-1-2");
  const auto first = read_all(dir.path() + "/replproxy-bin.000001");
  EXPECT_EQ(types(first), (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid, kGtid,
                                                kQuery, kQuery, kXid, kRotate}));
  const auto second = read_all(dir.path() + "/replproxy-bin.000002");
  ASSERT_EQ(types(second), (std::vector<uint8_t>{kFde, kGtidList, kGtid, kQuery, kQuery, kXid}));
  auto fde = binlog::decode_format_description(second[0].second);
  ASSERT_TRUE(fde.has_value());
  EXPECT_EQ(fde->server_version, "10.11.20-MariaDB-log");
}

TEST(BinlogStore, PurgeKeepsWhatAReplicaReadsAndTheOpenFile) {
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path(), 100));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  for (uint64_t seq = 1; seq <= 4; ++seq) {
    append_all(*store, ev.transaction(seq));
  }
  ASSERT_EQ(store->files().size(), 5u);  // each transaction fills a file
  // A replica still reads file 3: only 1 and 2 may go, even though everything is "too big".
  auto removed = store->purge(0, 1, 3);
  EXPECT_EQ(removed, (std::vector<std::string>{"replproxy-bin.000001", "replproxy-bin.000002"}));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/replproxy-bin.000001"));
  removed = store->purge(0, 1, UINT32_MAX);
  EXPECT_EQ(removed, (std::vector<std::string>{"replproxy-bin.000003", "replproxy-bin.000004"}));
  ASSERT_EQ(store->files().size(), 1u);  // never the open file
  EXPECT_EQ(slurp(dir.path() + "/replproxy-bin.index"), "./replproxy-bin.000005\n");
  EXPECT_TRUE(store->purge(1.0, 0, UINT32_MAX).empty());  // nothing a day old
}

TEST(BinlogStore, AnIndexNamingAMissingFileIsAnError) {
  TempDir dir;
  std::ofstream(dir.path() + "/replproxy-bin.index") << "./replproxy-bin.000007\n";
  auto store = BinlogStore::open(options(dir.path()));
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().find("replproxy-bin.000007, which is missing"), std::string::npos)
      << store.error();
}

TEST(BinlogStore, AFileThatIsNoBinlogIsAnError) {
  TempDir dir;
  std::ofstream(dir.path() + "/replproxy-bin.index") << "./replproxy-bin.000001\n";
  std::ofstream(dir.path() + "/replproxy-bin.000001") << "hello";
  auto store = BinlogStore::open(options(dir.path()));
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().find("is not a binlog file"), std::string::npos) << store.error();
}

// mariadb-binlog (the server's own reader) accepts the files, checksums included.
TEST(BinlogStore, MariadbBinlogReadsTheFiles) {
  if (std::system("command -v mariadb-binlog >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "mariadb-binlog is not installed";
  }
  TempDir dir;
  Events ev(true);
  auto store = open_store(options(dir.path(), 300));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_format(ev.fde()).has_value());
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    append_all(*store, ev.transaction(seq, 200));
  }
  std::string all;
  for (const StoreFileInfo& f : store->files()) {
    const std::string cmd =
        "mariadb-binlog --verify-binlog-checksum " + dir.path() + "/" + f.name + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    std::string out;
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) {
      out.append(buf, n);
    }
    EXPECT_EQ(::pclose(p), 0) << out;
    EXPECT_EQ(out.find("ERROR"), std::string::npos) << out;
    all += out;
  }
  for (const char* gtid : {"GTID 0-1-1", "GTID 0-1-2", "GTID 0-1-3"}) {
    EXPECT_NE(all.find(gtid), std::string::npos) << gtid << " missing from:\n" << all;
  }
}

}  // namespace
}  // namespace replproxy::relay
