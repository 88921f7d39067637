// Raw messages in append-only segment files beside the database.
//
// Rationale: a 50 KB message written into SQLite became 13 overflow pages,
// each written to the WAL with two pwrite calls and then copied again into
// the database by a checkpoint; that was most of the cost of storing it
// (bench/RESULTS.md). Here a batch of messages is one pwritev at the end of
// a file, and the database row holds (segment, offset, length). The store
// appends before its transaction commits, so a committed row always points
// at bytes already handed to the OS (or flushed, with `sync()`); bytes
// appended by a commit that never happened are dead space, never read.
//
// Space comes back a whole segment at a time: `collect` deletes the segments
// the store names (those its database knows and no row references any more:
// mailboxes expire, so old segments die). It never decides that by itself.
//
// Not thread safe: the store uses it under its write lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tempmail::local::detail {

struct RawRef {
  std::int64_t segment = 0;
  std::int64_t offset = 0;
  std::int64_t length = 0;

  bool operator==(const RawRef&) const = default;
};

class RawLog {
 public:
  static constexpr std::uint64_t kDefaultSegmentBytes = std::uint64_t{64} << 20;

  /// Opens (creating it) the directory `dir`; appends go to a new segment,
  /// after its newest, so that bytes a crash cut off at the end of the old
  /// one are never followed by more (journal.hpp's scan stops at them). Throws std::runtime_error naming the path when the
  /// directory cannot be created or read.
  explicit RawLog(std::filesystem::path dir, std::uint64_t segment_bytes = kDefaultSegmentBytes);
  ~RawLog();
  RawLog(const RawLog&) = delete;
  RawLog& operator=(const RawLog&) = delete;

  /// Appends every text, in order, with as few writes as the OS allows; a
  /// segment past `segment_bytes` is closed first and a new one started.
  /// Throws std::runtime_error (naming the file and the OS error) when the
  /// bytes cannot all be written; nothing returned then refers to them.
  std::vector<RawRef> append(std::span<const std::string_view> texts);
  /// Flushes the active segment (and, after a new one was created, the
  /// directory) to the disk.
  void sync();
  /// The bytes `ref` points at. Throws std::runtime_error naming the file
  /// when it is missing or shorter than `ref` says.
  [[nodiscard]] std::string read(const RawRef& ref) const;
  /// Deletes the segment files in `dead`, except the active one; returns
  /// those it deleted.
  std::vector<std::int64_t> collect(const std::set<std::int64_t>& dead);
  /// Called with a segment's number before append() first writes to it
  /// (after the one the constructor opened); when it throws, nothing is
  /// written and append() throws.
  void on_new_segment(std::function<void(std::int64_t)> hook) { new_segment_ = std::move(hook); }

  [[nodiscard]] const std::filesystem::path& directory() const { return dir_; }
  [[nodiscard]] std::int64_t active_segment() const { return active_; }
  /// Bytes appended to the active segment so far.
  [[nodiscard]] std::uint64_t active_size() const { return size_; }
  /// The segment numbers with a file, oldest first.
  [[nodiscard]] std::vector<std::int64_t> segments() const;
  /// The size of a segment's file. Throws std::runtime_error naming it when
  /// it cannot be read.
  [[nodiscard]] std::uint64_t segment_size(std::int64_t segment) const;
  [[nodiscard]] std::filesystem::path path_of(std::int64_t segment) const;

 private:
  void open_active(std::int64_t segment);

  std::filesystem::path dir_;
  std::uint64_t segment_bytes_;
  std::int64_t active_ = 0;
  int fd_ = -1;
  std::uint64_t size_ = 0;  ///< bytes in the active segment
  // The segment read() last opened, kept open: loading reads messages in
  // commit order, so consecutive reads nearly always hit the same segment.
  mutable int read_fd_ = -1;
  mutable std::int64_t read_segment_ = 0;
  bool dir_dirty_ = false;  ///< a segment was created since the last sync()
  std::function<void(std::int64_t)> new_segment_;
};

}  // namespace tempmail::local::detail
