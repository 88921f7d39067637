// The files of a database on disk, before the store opens any of them: the
// path is checked, the database is locked for this process, and a WAL left
// without its database is set aside rather than applied to a new one.
//
// Rationale: two servers on one database each took the other's raw segments
// for garbage, and SQLite given an empty or missing database beside an old
// WAL makes a database out of half of another one. One database, one server;
// and nothing the store does not understand is ever deleted.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

namespace tempmail::local::detail {

/// Throws std::invalid_argument saying what is wrong and what to do when
/// `db` cannot be a database file: it is not a regular file (a directory,
/// /dev/null, ...), its directory does not exist or is not writable, or the
/// names beside it that the store uses (DB-raw/, DB.lock) are of the wrong
/// kind. Creates nothing.
void check_database_path(const std::filesystem::path& db);

/// An exclusive lock on a database: flock(2) on DB.lock, which names the
/// process holding it. Released by the destructor, or when the process dies
/// (kill -9 included), so a crashed server never keeps its database locked.
class DatabaseLock {
 public:
  /// Throws std::runtime_error naming the process that holds the lock when
  /// another one does, or the OS error when the lock file cannot be made.
  explicit DatabaseLock(const std::filesystem::path& db);
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  static std::filesystem::path path_for(const std::filesystem::path& db);

 private:
  int fd_ = -1;
};

/// When `db` is missing or empty but DB-wal is not, renames DB-wal and DB-shm
/// to DB-wal.orphaned-UNIXTIME (and -shm...), so SQLite does not read another
/// database's pages into a new one, and says so through `log`. Nothing is
/// deleted: the raw log beside the database still holds every delivery.
void set_aside_orphaned_wal(const std::filesystem::path& db,
                            const std::function<void(std::string_view)>& log);

}  // namespace tempmail::local::detail
