#include "local/store/db_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>

namespace tempmail::local::detail {
namespace {

namespace fs = std::filesystem;

std::string os_error(int error) { return std::generic_category().message(error); }

fs::path beside(const fs::path& db, std::string_view suffix) {
  return fs::path(db.string() + std::string(suffix));
}

// The status of `p` (of what a link points at), or not_found; never throws.
fs::file_status status_of(const fs::path& p) {
  std::error_code ec;
  return fs::status(p, ec);
}

}  // namespace

void check_database_path(const fs::path& db) {
  const std::string name = "the database path '" + db.string() + "'";
  if (db.empty() || !db.has_filename())
    throw std::invalid_argument(name +
                                " does not name a file: give the path of a database file, "
                                "which is created if it does not exist");
  const auto st = status_of(db);
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw std::invalid_argument(name +
                                " is not a regular file (it is a directory, a device or "
                                "a socket): give the path of a database file, which is "
                                "created if it does not exist");
  const fs::path dir = db.has_parent_path() ? db.parent_path() : fs::path(".");
  if (!fs::is_directory(status_of(dir)))
    throw std::invalid_argument("the directory '" + dir.string() + "' of " + name +
                                " does not exist: create it first");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw std::invalid_argument("cannot create files in '" + dir.string() + "' (" +
                                os_error(errno) +
                                "), where the database keeps its files: check the permissions");
  const auto raw = status_of(beside(db, "-raw"));
  if (fs::exists(raw) && !fs::is_directory(raw))
    throw std::invalid_argument("'" + beside(db, "-raw").string() +
                                "' is not a directory: the database keeps its raw messages "
                                "there; move that file away");
  const auto lock = status_of(DatabaseLock::path_for(db));
  if (fs::exists(lock) && !fs::is_regular_file(lock))
    throw std::invalid_argument("'" + DatabaseLock::path_for(db).string() +
                                "' is not a regular file: the database's lock file goes there; "
                                "move it away");
}

fs::path DatabaseLock::path_for(const fs::path& db) { return beside(db, ".lock"); }

DatabaseLock::DatabaseLock(const fs::path& db) {
  const fs::path path = path_for(db);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error("cannot open the lock file '" + path.string() +
                             "': " + os_error(errno));
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    std::string holder;
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n > 0) holder = std::string(buf, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK)
      throw std::runtime_error("cannot lock '" + path.string() + "': " + os_error(error));
    throw std::runtime_error(
        "the database '" + db.string() + "' is in use by another server (" +
        (holder.empty() ? std::string("a process") : "process " + holder) + " holds '" +
        path.string() +
        "'): one database serves one server; stop that server, or give this one "
        "another database file");
  }
  // Who holds it, for the message above. Best effort: the lock is what counts.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

void set_aside_orphaned_wal(const fs::path& db, const std::function<void(std::string_view)>& log) {
  std::error_code ec;
  const fs::path wal = beside(db, "-wal");
  const bool db_missing = !fs::exists(db, ec) || fs::file_size(db, ec) == 0;
  if (!db_missing || !fs::exists(wal, ec) || fs::file_size(wal, ec) == 0) return;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string tag = ".orphaned-" + std::to_string(now);
  for (const char* suffix : {"-wal", "-shm"}) {
    const fs::path from = beside(db, suffix);
    if (!fs::exists(from, ec)) continue;
    const fs::path to = fs::path(from.string() + tag);
    fs::rename(from, to, ec);
    if (ec)
      throw std::runtime_error("the database '" + db.string() + "' is missing or empty but '" +
                               from.string() + "' is not, and it cannot be moved aside (" +
                               ec.message() + "): move it away by hand before starting");
  }
  if (log)
    log("the database '" + db.string() +
        "' was missing or empty beside a write-ahead log; "
        "the log was moved aside to '" +
        wal.string() + tag + "' (not deleted), and the database is rebuilt from the raw log");
}

}  // namespace tempmail::local::detail
