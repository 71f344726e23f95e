#include "relay/binlog_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "protocol/binlog_bodies.h"
#include "proxy/log.h"

namespace replproxy::relay {
namespace {

namespace binlog = protocol::binlog;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = proxy::module_logger("relay");
  return logger;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Reads exactly `n` bytes at `offset`; fewer at the end of the file.
std::expected<size_t, std::string> pread_full(int fd, uint8_t* out, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(errno_text("read"));
    }
    if (r == 0) {
      break;
    }
    done += static_cast<size_t>(r);
  }
  return done;
}

uint16_t flags_of(protocol::ByteView event) {
  return static_cast<uint16_t>(event[binlog::kFlagsOffset] |
                               (event[binlog::kFlagsOffset + 1] << 8));
}

// Clears LOG_EVENT_BINLOG_IN_USE_F in the FORMAT_DESCRIPTION of a file (offset 4), as a server
// does when it closes a binlog. The CRC stays valid: it is computed with the flag cleared.
std::expected<void, std::string> clear_in_use(int fd) {
  uint8_t flags[2];
  auto got = pread_full(fd, flags, 2, 4 + binlog::kFlagsOffset);
  if (!got || *got != 2) {
    return std::unexpected(std::string("cannot read the FORMAT_DESCRIPTION's flags"));
  }
  flags[0] &= static_cast<uint8_t>(~binlog::LOG_EVENT_BINLOG_IN_USE_F);
  if (::pwrite(fd, flags, 2, 4 + binlog::kFlagsOffset) != 2) {
    return std::unexpected(errno_text("clearing the IN_USE flag"));
  }
  return {};
}

std::optional<uint32_t> number_of(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(name.data() + dot + 1, name.data() + name.size(), n);
  if (ec != std::errc() || end != name.data() + name.size() || n == 0) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

// ---- BinlogFileReader ----

BinlogFileReader::~BinlogFileReader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::expected<std::unique_ptr<BinlogFileReader>, std::string> BinlogFileReader::open(
    const std::string& path) {
  std::unique_ptr<BinlogFileReader> r(new BinlogFileReader());
  r->path_ = path;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) {
    return std::unexpected(errno_text("cannot open " + path));
  }
  uint8_t head[4 + binlog::kEventHeaderSize];
  auto got = pread_full(r->fd_, head, sizeof head, 0);
  if (!got) {
    return std::unexpected(got.error());
  }
  if (*got < 4 || !std::equal(head, head + 4, binlog::kBinlogMagic)) {
    return std::unexpected(path + " is not a binlog file (no magic fe 62 69 6e)");
  }
  if (*got < sizeof head) {
    return std::unexpected(path + " has no FORMAT_DESCRIPTION");
  }
  auto header = binlog::decode_event_header(protocol::ByteView(head + 4, binlog::kEventHeaderSize));
  if (!header || header->type != binlog::type_byte(binlog::EventType::format_description)) {
    return std::unexpected(path + " does not start with a FORMAT_DESCRIPTION");
  }
  r->fde_.resize(header->event_size);
  got = pread_full(r->fd_, r->fde_.data(), r->fde_.size(), 4);
  if (!got || *got != r->fde_.size()) {
    return std::unexpected(path + ": its FORMAT_DESCRIPTION is cut off");
  }
  auto fde = binlog::decode_format_description(r->fde_);
  if (!fde) {
    return std::unexpected(path + ": a malformed FORMAT_DESCRIPTION");
  }
  r->checksums_ = fde->events_have_checksum();
  r->offset_ = 4 + r->fde_.size();
  return r;
}

void BinlogFileReader::seek(uint64_t offset) { offset_ = offset; }

std::expected<std::optional<protocol::ByteView>, std::string> BinlogFileReader::next(
    uint64_t limit) {
  static constexpr size_t kChunk = 256 * 1024;
  // Makes buffer_ hold [offset_, offset_ + n) when the file has those bytes.
  const auto ensure = [this](size_t n) -> std::expected<bool, std::string> {
    if (offset_ >= buffer_offset_ && offset_ + n <= buffer_offset_ + buffer_.size()) {
      return true;
    }
    buffer_.resize(std::max(n, kChunk));
    auto got = pread_full(fd_, buffer_.data(), buffer_.size(), offset_);
    if (!got) {
      buffer_.clear();
      return std::unexpected(got.error());
    }
    buffer_.resize(*got);
    buffer_offset_ = offset_;
    return *got >= n;
  };
  if (offset_ + binlog::kEventHeaderSize > limit) {
    return std::nullopt;
  }
  auto have = ensure(binlog::kEventHeaderSize);
  if (!have) {
    return std::unexpected(have.error());
  }
  if (!*have) {
    return std::nullopt;
  }
  const size_t at = offset_ - buffer_offset_;
  auto size = binlog::next_event_size(protocol::ByteView(buffer_).subspan(at));
  if (!size) {
    return std::unexpected(path_ + ": an event at " + std::to_string(offset_) +
                           " has an event_size below 19");
  }
  if (offset_ + *size > limit) {
    return std::nullopt;
  }
  if (*size > kChunk) {
    event_.resize(*size);
    auto got = pread_full(fd_, event_.data(), *size, offset_);
    if (!got) {
      return std::unexpected(got.error());
    }
    if (*got < *size) {
      return std::nullopt;
    }
    offset_ += *size;
    return protocol::ByteView(event_);
  }
  have = ensure(*size);
  if (!have) {
    return std::unexpected(have.error());
  }
  if (!*have) {
    return std::nullopt;
  }
  const protocol::ByteView view = protocol::ByteView(buffer_).subspan(offset_ - buffer_offset_, *size);
  offset_ += *size;
  return view;
}

// ---- BinlogStore ----

BinlogStore::BinlogStore(Options options) : options_(std::move(options)) {}

BinlogStore::~BinlogStore() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
  std::lock_guard lock(mu_);
  for (int fd : subscribers_) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
  }
}

std::string BinlogStore::file_name(uint32_t number) const {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%06u", number);
  return options_.base_name + "." + digits;
}

std::string BinlogStore::path(uint32_t number) const {
  return options_.dir + "/" + file_name(number);
}

std::expected<std::unique_ptr<BinlogStore>, std::string> BinlogStore::open(
    const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return std::unexpected("cannot create " + options.dir + ": " + ec.message());
  }
  std::unique_ptr<BinlogStore> store(new BinlogStore(options));
  if (auto recovered = store->recover(); !recovered) {
    return std::unexpected(recovered.error());
  }
  return store;
}

std::expected<void, std::string> BinlogStore::recover() {
  const std::string index = options_.dir + "/" + options_.base_name + ".index";
  std::ifstream in(index);
  std::string line;
  while (in && std::getline(in, line)) {
    if (line.empty()) {
      continue;
    }
    const std::string name = std::filesystem::path(line).filename().string();
    auto number = number_of(name);
    if (!number || name != file_name(*number)) {
      return std::unexpected(index + " names '" + line + "', which is not a file of this relay");
    }
    const std::string file = path(*number);
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
      return std::unexpected(index + " names " + name + ", which is missing");
    }
    auto reader = BinlogFileReader::open(file);
    if (!reader) {
      return std::unexpected(reader.error());
    }
    StoreFileInfo info{*number, name, static_cast<uint64_t>(st.st_size), {}, st.st_mtime};
    auto first = (*reader)->next(UINT64_MAX);
    if (first && *first) {
      auto view = binlog::split_event(**first, (*reader)->checksums());
      if (view && view->is(binlog::EventType::gtid_list)) {
        if (auto list = binlog::decode_gtid_list(view->body)) {
          for (const binlog::Gtid& g : list->gtids) {
            info.start.update(g);
          }
        }
      }
    }
    files_.push_back(std::move(info));
  }
  if (files_.empty()) {
    return {};
  }

  // The last file: keep what ends with a complete group, cut a torn event or a partial group.
  StoreFileInfo& last = files_.back();
  auto reader = BinlogFileReader::open(path(last.number));
  if (!reader) {
    return std::unexpected(reader.error());
  }
  const bool checksums = (*reader)->checksums();
  binlog::TransactionTracker tracker;
  binlog::GtidPosition position = last.start;
  std::optional<binlog::Gtid> open_gtid;
  uint64_t keep = (*reader)->offset();
  std::string why_cut = "an incomplete event";
  for (;;) {
    const uint64_t start = (*reader)->offset();
    auto next = (*reader)->next(UINT64_MAX);
    if (!next) {
      why_cut = next.error();
      break;
    }
    if (!*next) {
      break;
    }
    if (checksums && !binlog::checksum_matches(**next)) {
      why_cut = "a checksum mismatch at " + std::to_string(start);
      break;
    }
    auto view = binlog::split_event(**next, checksums);
    if (!view) {
      why_cut = "a malformed event at " + std::to_string(start);
      break;
    }
    auto role = tracker.on_event(*view);
    if (!role) {
      why_cut = "a malformed event at " + std::to_string(start);
      break;
    }
    if (role->starts_group) {
      open_gtid = role->gtid;
    }
    if (!tracker.in_group()) {
      keep = (*reader)->offset();
      if (role->ends_group && open_gtid) {
        position.update(*open_gtid);
      }
      if (role->ends_group) {
        open_gtid.reset();
      }
    }
  }
  const int fd = ::open(path(last.number).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(errno_text("cannot open " + path(last.number)));
  }
  if (last.size > keep) {
    log()->warn("relay: {}: cut {} bytes at offset {} after a crash ({}, or a transaction that "
                "was not complete)",
                last.name, last.size - keep, keep, why_cut);
    if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
      const std::string e = errno_text("ftruncate " + last.name);
      ::close(fd);
      return std::unexpected(e);
    }
    last.size = keep;
  }
  (void)clear_in_use(fd);
  ::fdatasync(fd);
  ::close(fd);
  number_ = last.number;
  offset_ = last.size;
  position_ = position;
  written_ = committed_ = durable_ = {last.number, last.size};
  return {};
}

std::expected<void, std::string> BinlogStore::write_all(const protocol::Bytes& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    // pwrite at the writer's offset: after a cut (ftruncate) the descriptor's own offset would
    // still point past the end and leave a hole of zeros.
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(offset_ + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(errno_text("write " + file_name(number_)));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

std::expected<void, std::string> BinlogStore::write_index() const {
  const std::string index = options_.dir + "/" + options_.base_name + ".index";
  const std::string tmp = index + ".tmp";
  std::string text;
  for (const StoreFileInfo& f : files_) {
    text += "./" + f.name + "\n";
  }
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return std::unexpected(errno_text("cannot write " + tmp));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), index.c_str()) != 0) {
    return std::unexpected(errno_text("cannot write " + index));
  }
  fsync_dir(options_.dir);
  return {};
}

std::expected<void, std::string> BinlogStore::start_file(uint32_t number, bool rotated) {
  const std::string file = path(number);
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    return std::unexpected(errno_text("cannot create " + file));
  }
  number_ = number;
  offset_ = 0;
  protocol::Bytes out(binlog::kBinlogMagic, binlog::kBinlogMagic + 4);
  protocol::Bytes fde = fde_;
  auto decoded = binlog::decode_format_description(fde);
  // IN_USE while the file is open; never ARTIFICIAL in a file.
  const uint16_t flags = static_cast<uint16_t>(
      (flags_of(fde) | binlog::LOG_EVENT_BINLOG_IN_USE_F) & ~binlog::LOG_EVENT_ARTIFICIAL_F);
  // A replica takes a non-zero create_timestamp for "the primary restarted" (and drops its
  // temporary tables): only the file started from the primary's own FDE may keep it.
  constexpr size_t kCreateTimestampOffset = binlog::kEventHeaderSize + 2 + binlog::kServerVersionSize;
  if (rotated && fde.size() >= kCreateTimestampOffset + 4) {
    std::fill_n(fde.begin() + kCreateTimestampOffset, 4, uint8_t{0});
  }
  fde[binlog::kFlagsOffset] = static_cast<uint8_t>(flags);
  fde[binlog::kFlagsOffset + 1] = static_cast<uint8_t>(flags >> 8);
  binlog::rewrite_log_pos(fde, static_cast<uint32_t>(4 + fde.size()),
                          decoded && decoded->own_checksum());
  out.insert(out.end(), fde.begin(), fde.end());

  binlog::GtidPosition start;
  {
    std::lock_guard lock(mu_);
    start = position_;
  }
  protocol::Bytes body;
  binlog::encode_gtid_list({0, start.gtids()}, body);
  binlog::EventHeader header;
  header.timestamp = static_cast<uint32_t>(std::time(nullptr));
  header.type = binlog::type_byte(binlog::EventType::gtid_list);
  header.server_id = options_.server_id;
  const size_t list_at = out.size();
  binlog::encode_event(header, body, checksums(), out);
  binlog::rewrite_log_pos(std::span(out).subspan(list_at), static_cast<uint32_t>(out.size()),
                          checksums());
  if (auto w = write_all(out); !w) {
    return w;
  }
  offset_ = out.size();
  group_start_ = offset_;
  tracker_.reset();
  ::fdatasync(fd_);
  const int dup = ::dup(fd_);
  {
    std::lock_guard lock(mu_);
    files_.push_back({number, file_name(number), offset_, start, std::time(nullptr)});
    written_ = committed_ = durable_ = {number, offset_};
    sync_fd_ = std::shared_ptr<int>(new int(dup), [](int* p) {
      if (*p >= 0) {
        ::close(*p);
      }
      delete p;
    });
  }
  fsync_dir(options_.dir);
  std::lock_guard lock(mu_);
  return write_index();
}

std::expected<void, std::string> BinlogStore::rotate() {
  if (auto finished = finish_file(); !finished) {
    return finished;
  }
  return start_file(number_ + 1, true);
}

std::expected<void, std::string> BinlogStore::finish_file() {
  protocol::Bytes body;
  binlog::encode_rotate({4, file_name(number_ + 1)}, body);
  binlog::EventHeader header;
  header.timestamp = static_cast<uint32_t>(std::time(nullptr));
  header.type = binlog::type_byte(binlog::EventType::rotate);
  header.server_id = options_.server_id;
  protocol::Bytes out;
  binlog::encode_event(header, body, checksums(), out);
  binlog::rewrite_log_pos(out, static_cast<uint32_t>(offset_ + out.size()), checksums());
  if (auto w = write_all(out); !w) {
    return w;
  }
  offset_ += out.size();
  if (auto cleared = clear_in_use(fd_); !cleared) {
    return cleared;
  }
  if (::fdatasync(fd_) != 0) {
    return std::unexpected(errno_text("fdatasync " + file_name(number_)));
  }
  {
    // committed_ stays before the ROTATE until the next file exists (start_file moves it), so
    // a reader that follows the ROTATE always finds that file.
    std::lock_guard lock(mu_);
    written_ = {number_, offset_};
    durable_ = std::max(durable_, written_);
    files_.back().size = offset_;
    files_.back().mtime_s = std::time(nullptr);
  }
  ::close(fd_);
  fd_ = -1;
  return {};
}

std::expected<void, std::string> BinlogStore::set_format(protocol::ByteView fde) {
  auto decoded = binlog::decode_format_description(fde);
  if (!decoded) {
    return std::unexpected(std::string("a malformed FORMAT_DESCRIPTION"));
  }
  // A reconnect sends the same FDE again (only create_timestamp may differ): the open file goes
  // on. Anything else (another checksum setting, or a primary of another version after a
  // failover) starts a file of its own, since a file's events follow its one FDE.
  decoded->create_timestamp = 0;
  if (fd_ >= 0 && *decoded == format_) {
    return {};
  }
  const bool rotating = fd_ >= 0;
  if (rotating && tracker_.in_group()) {
    return std::unexpected(std::string("a FORMAT_DESCRIPTION inside a transaction"));
  }
  if (rotating) {
    // The old file ends with a ROTATE in its own checksum setting; the next one takes the new.
    if (auto finished = finish_file(); !finished) {
      return finished;
    }
  }
  fde_.assign(fde.begin(), fde.end());
  format_ = std::move(*decoded);
  return start_file(number_ + 1);
}

bool BinlogStore::has_format() const { return fd_ >= 0; }
bool BinlogStore::checksums() const { return format_.events_have_checksum(); }
bool BinlogStore::in_group() const { return tracker_.in_group(); }

std::expected<AppendResult, std::string> BinlogStore::append(protocol::ByteView event) {
  if (fd_ < 0) {
    return std::unexpected(std::string("an event before any FORMAT_DESCRIPTION"));
  }
  auto view = binlog::split_event(event, checksums());
  if (!view) {
    return std::unexpected(std::string("a malformed event"));
  }
  auto role = tracker_.on_event(*view);
  if (!role) {
    return std::unexpected(std::string("a malformed ") +
                           std::string(binlog::event_type_name(view->header.type)) + " event");
  }
  if (role->interrupts_group) {
    log()->warn("relay: a group began before the previous one ended; cutting the incomplete one "
                "off {} at {}",
                file_name(number_), group_start_);
    if (::ftruncate(fd_, static_cast<off_t>(group_start_)) != 0) {
      return std::unexpected(errno_text("ftruncate"));
    }
    offset_ = group_start_;
  }
  if (role->starts_group) {
    group_start_ = offset_;
    open_gtid_ = role->gtid;
  }
  protocol::Bytes bytes(event.begin(), event.end());
  binlog::rewrite_log_pos(bytes, static_cast<uint32_t>(offset_ + bytes.size()), checksums());
  if (auto w = write_all(bytes); !w) {
    return std::unexpected(w.error());
  }
  offset_ += bytes.size();
  AppendResult result;
  result.end = {number_, offset_};
  result.gtid = role->starts_group ? role->gtid : std::nullopt;
  result.group_end = !tracker_.in_group();
  {
    std::lock_guard lock(mu_);
    ++events_;
    written_ = result.end;
    files_.back().size = offset_;
    files_.back().mtime_s = std::time(nullptr);
    if (result.group_end) {
      committed_ = written_;
      if (open_gtid_) {
        position_.update(*open_gtid_);
      }
    }
  }
  if (result.group_end) {
    open_gtid_.reset();
    group_start_ = offset_;
    notify_readers();
    if (offset_ >= options_.max_file_size) {
      if (auto r = rotate(); !r) {
        return std::unexpected(r.error());
      }
      result.rotated = true;
      notify_readers();
    }
  }
  return result;
}

std::expected<void, std::string> BinlogStore::discard_open_group() {
  if (!tracker_.in_group() || fd_ < 0) {
    tracker_.reset();
    return {};
  }
  if (::ftruncate(fd_, static_cast<off_t>(group_start_)) != 0) {
    return std::unexpected(errno_text("ftruncate " + file_name(number_)));
  }
  offset_ = group_start_;
  tracker_.reset();
  open_gtid_.reset();
  std::lock_guard lock(mu_);
  written_ = {number_, offset_};
  files_.back().size = offset_;
  // What was cut is no longer there to be durable; a sync running now must not publish it.
  durable_ = std::min(durable_, written_);
  ++cuts_;
  return {};
}

std::expected<StorePos, std::string> BinlogStore::sync() {
  std::lock_guard sync_lock(sync_mu_);
  std::shared_ptr<int> fd;
  StorePos target;
  uint64_t cuts = 0;
  {
    std::lock_guard lock(mu_);
    fd = sync_fd_;
    target = written_;
    cuts = cuts_;
  }
  if (fd && *fd >= 0 && ::fdatasync(*fd) != 0) {
    return std::unexpected(errno_text("fdatasync"));
  }
  std::lock_guard lock(mu_);
  // A rotation in between fdatasync'ed the old file itself; durable only moves forward, unless
  // a cut in between made `target` name bytes that were replaced since.
  if (cuts == cuts_) {
    durable_ = std::max(durable_, target);
  }
  return durable_;
}

StorePos BinlogStore::written_end() const {
  std::lock_guard lock(mu_);
  return written_;
}

StorePos BinlogStore::durable() const {
  std::lock_guard lock(mu_);
  return durable_;
}

StorePos BinlogStore::committed_end() const {
  std::lock_guard lock(mu_);
  return committed_;
}

binlog::GtidPosition BinlogStore::gtid_position() const {
  std::lock_guard lock(mu_);
  return position_;
}

uint64_t BinlogStore::events_stored() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::vector<StoreFileInfo> BinlogStore::files() const {
  std::lock_guard lock(mu_);
  return files_;
}

void BinlogStore::subscribe(int fd) {
  std::lock_guard lock(mu_);
  subscribers_.push_back(fd);
}

void BinlogStore::unsubscribe(int fd) {
  std::lock_guard lock(mu_);
  std::erase(subscribers_, fd);
}

void BinlogStore::notify_readers() {
  std::lock_guard lock(mu_);
  for (int fd : subscribers_) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
  }
}

std::vector<std::string> BinlogStore::purge(double expire_days, uint64_t max_total,
                                            uint32_t keep_from) {
  std::vector<std::string> removed;
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const StoreFileInfo& f : files_) {
    total += f.size;
  }
  const int64_t now = std::time(nullptr);
  while (files_.size() > 1) {
    const StoreFileInfo& oldest = files_.front();
    if (oldest.number >= keep_from || oldest.number == number_) {
      break;
    }
    const bool too_old =
        expire_days > 0 && static_cast<double>(now - oldest.mtime_s) > expire_days * 86400.0;
    const bool too_big = max_total > 0 && total > max_total;
    if (!too_old && !too_big) {
      break;
    }
    if (::unlink(path(oldest.number).c_str()) != 0 && errno != ENOENT) {
      log()->warn("relay: cannot purge {}: {}", oldest.name, std::strerror(errno));
      break;
    }
    total -= oldest.size;
    removed.push_back(oldest.name);
    files_.erase(files_.begin());
  }
  if (!removed.empty()) {
    if (auto w = write_index(); !w) {
      log()->warn("relay: after a purge: {}", w.error());
    }
  }
  return removed;
}

}  // namespace replproxy::relay
