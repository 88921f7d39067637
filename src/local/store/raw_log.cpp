#include "local/store/raw_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace tempmail::local::detail {
namespace {

constexpr std::string_view kSuffix = ".raw";
constexpr std::size_t kDigits = 12;

std::string os_error(int error) { return std::generic_category().message(error); }

// "000000000042.raw" -> 42; anything else: 0 (not a segment).
std::int64_t segment_number(const std::string& name) {
  if (name.size() != kDigits + kSuffix.size() || !name.ends_with(kSuffix)) return 0;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + kDigits, n);
  if (ec != std::errc{} || end != name.data() + kDigits) return 0;
  return n;
}

}  // namespace

RawLog::RawLog(std::filesystem::path dir, std::uint64_t segment_bytes)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes == 0 ? 1 : segment_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    throw std::runtime_error("cannot create the directory '" + dir_.string() +
                             "' for raw messages: " + ec.message() +
                             " (it goes beside the --db file; check the permissions there)");
  const auto existing = segments();
  open_active(existing.empty() ? 1 : existing.back() + 1);
}

RawLog::~RawLog() {
  if (fd_ >= 0) ::close(fd_);
  if (read_fd_ >= 0) ::close(read_fd_);
}

std::filesystem::path RawLog::path_of(std::int64_t segment) const {
  std::string name(kDigits, '0');
  const std::string digits = std::to_string(segment);
  name.replace(kDigits - std::min(kDigits, digits.size()), digits.size(), digits);
  return dir_ / (name + std::string(kSuffix));
}

std::vector<std::int64_t> RawLog::segments() const {
  std::vector<std::int64_t> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
    if (auto n = segment_number(it->path().filename().string()); n > 0) out.push_back(n);
  if (ec)
    throw std::runtime_error("cannot list the raw message directory '" + dir_.string() +
                             "': " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t RawLog::segment_size(std::int64_t segment) const {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_of(segment), ec);
  if (ec)
    throw std::runtime_error("cannot read the size of the raw message file '" +
                             path_of(segment).string() + "': " + ec.message());
  return size;
}

void RawLog::open_active(std::int64_t segment) {
  const auto path = path_of(segment);
  const bool existed = std::filesystem::exists(path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot open the raw message file '" + path.string() +
                             "' for writing: " + os_error(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("cannot read the size of '" + path.string() + "': " +
                             os_error(error));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  active_ = segment;
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (!existed) dir_dirty_ = true;
}

std::vector<RawRef> RawLog::append(std::span<const std::string_view> texts) {
  std::vector<RawRef> refs;
  if (texts.empty()) return refs;
  if (size_ >= segment_bytes_) {
    if (new_segment_) new_segment_(active_ + 1);
    open_active(active_ + 1);
  }
  refs.reserve(texts.size());
  std::uint64_t at = size_;
  for (auto text : texts) {
    refs.push_back(RawRef{.segment = active_,
                          .offset = static_cast<std::int64_t>(at),
                          .length = static_cast<std::int64_t>(text.size())});
    at += text.size();
  }
  // One pwritev per IOV_MAX texts, resumed after a short write.
  std::vector<iovec> iov;
  iov.reserve(texts.size());
  for (auto text : texts)
    if (!text.empty()) iov.push_back(iovec{const_cast<char*>(text.data()), text.size()});
  std::size_t first = 0;
  std::uint64_t offset = size_;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    const ssize_t n = ::pwritev(fd_, iov.data() + first, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot append to the raw message file '" +
                               path_of(active_).string() + "': " + os_error(errno) +
                               " (is the disk full?)");
    }
    offset += static_cast<std::uint64_t>(n);
    for (auto left = static_cast<std::size_t>(n); left > 0;) {
      if (left >= iov[first].iov_len) {
        left -= iov[first].iov_len;
        ++first;
      } else {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
        left = 0;
      }
    }
  }
  size_ = at;
  return refs;
}

void RawLog::sync() {
  if (fd_ >= 0 && ::fdatasync(fd_) != 0)
    throw std::runtime_error("cannot flush the raw message file '" + path_of(active_).string() +
                             "' to disk: " + os_error(errno));
  if (!dir_dirty_) return;
  const int dir = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || ::fsync(dir) != 0) {
    const int error = errno;
    if (dir >= 0) ::close(dir);
    throw std::runtime_error("cannot flush the directory '" + dir_.string() +
                             "' to disk: " + os_error(error));
  }
  ::close(dir);
  dir_dirty_ = false;
}

std::string RawLog::read(const RawRef& ref) const {
  const auto path = path_of(ref.segment);
  if (ref.offset < 0 || ref.length < 0)
    throw std::runtime_error("a message refers to a negative offset or length in '" +
                             path.string() + "'");
  if (read_fd_ < 0 || read_segment_ != ref.segment) {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_segment_ = ref.segment;
    read_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (read_fd_ < 0)
      throw std::runtime_error("cannot open the raw message file '" + path.string() +
                               "': " + os_error(errno) + " (was it deleted or moved?)");
  }
  std::string out(static_cast<std::size_t>(ref.length), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(read_fd_, out.data() + done, out.size() - done,
                              static_cast<off_t>(ref.offset) + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : 0;
      throw std::runtime_error(
          "the raw message file '" + path.string() + "' ends before byte " +
          std::to_string(ref.offset + ref.length) + " that the database refers to" +
          (error ? " (" + os_error(error) + ")" : std::string(" (was it truncated?)")));
    }
    done += static_cast<std::size_t>(n);
  }
  return out;
}

std::vector<std::int64_t> RawLog::collect(const std::set<std::int64_t>& dead) {
  std::vector<std::int64_t> removed;
  for (auto segment : dead) {
    if (segment == active_) continue;
    if (segment == read_segment_ && read_fd_ >= 0) {
      ::close(read_fd_);
      read_fd_ = -1;
    }
    std::error_code ec;
    if (std::filesystem::remove(path_of(segment), ec)) removed.push_back(segment);
  }
  return removed;
}

}  // namespace tempmail::local::detail
