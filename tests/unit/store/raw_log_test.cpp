// The raw log on its own: append-only segment files of raw message texts.
#include "local/store/raw_log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tempmail::local::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class RawLogTest : public ::testing::Test {
 protected:
  RawLogTest() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("tempmail-raw-log-test-" + std::to_string(rd())) / "mail.db-raw";
  }
  ~RawLogTest() override { std::filesystem::remove_all(dir_.parent_path()); }

  std::filesystem::path dir_;
};

std::vector<RawRef> append(RawLog& log, std::vector<std::string_view> texts) {
  return log.append(texts);
}

TEST_F(RawLogTest, ReadsBackEveryTextOfABatchWhereItSays) {
  RawLog log(dir_);
  const std::string big(50 * 1024, 'x');
  const auto refs = append(log, {"first", "", big, "last\r\n"});
  ASSERT_THAT(refs, SizeIs(4));
  EXPECT_EQ(refs[0], (RawRef{.segment = 1, .offset = 0, .length = 5}));
  EXPECT_EQ(refs[1].length, 0);
  EXPECT_EQ(log.read(refs[0]), "first");
  EXPECT_EQ(log.read(refs[1]), "");
  EXPECT_EQ(log.read(refs[2]), big);
  EXPECT_EQ(log.read(refs[3]), "last\r\n");
  EXPECT_EQ(std::filesystem::file_size(dir_ / "000000000001.raw"), 5 + big.size() + 6);
}

// Never after what a crash may have cut off at the end of the old segment.
TEST_F(RawLogTest, ReopeningAppendsToANewSegment) {
  RawRef first;
  {
    RawLog log(dir_);
    first = append(log, {"one"}).front();
  }
  RawLog log(dir_);
  EXPECT_EQ(log.active_segment(), first.segment + 1);
  EXPECT_EQ(log.active_size(), 0u);
  const RawRef second = append(log, {"two"}).front();
  EXPECT_EQ(second.segment, first.segment + 1);
  EXPECT_EQ(second.offset, 0);
  EXPECT_EQ(log.segment_size(first.segment), 3u);
  EXPECT_EQ(log.read(first), "one");
  EXPECT_EQ(log.read(second), "two");
}

TEST_F(RawLogTest, StartsANewSegmentOnceTheActiveOneIsFull) {
  RawLog log(dir_, /*segment_bytes=*/10);
  const RawRef a = append(log, {"0123456789ab"}).front();  // a batch may pass the limit
  const RawRef b = append(log, {"next"}).front();
  EXPECT_EQ(a.segment, 1);
  EXPECT_EQ(b.segment, 2);
  EXPECT_EQ(b.offset, 0);
  EXPECT_EQ(log.active_segment(), 2);
  EXPECT_THAT(log.segments(), ElementsAre(1, 2));
  EXPECT_EQ(log.read(a), "0123456789ab");
  EXPECT_EQ(log.read(b), "next");
}

TEST_F(RawLogTest, CollectDeletesOnlyTheSegmentsItIsGivenAndNeverTheActiveOne) {
  RawLog log(dir_, 4);
  for (std::string_view text : {"aaaa", "bbbb", "cccc", "dddd"}) append(log, {text});
  ASSERT_THAT(log.segments(), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(log.collect({1, 3, 4}), ElementsAre(1, 3));  // 4 is active
  EXPECT_THAT(log.segments(), ElementsAre(2, 4));
  EXPECT_EQ(log.read(RawRef{.segment = 2, .offset = 0, .length = 4}), "bbbb");
  EXPECT_THAT(log.collect({}), ElementsAre());
  EXPECT_THAT(log.segments(), ElementsAre(2, 4));
}

TEST_F(RawLogTest, NamesANewSegmentBeforeWritingToItAndWritesNothingWhenRefused) {
  RawLog log(dir_, 4);
  std::vector<std::int64_t> named;
  bool refuse = false;
  log.on_new_segment([&](std::int64_t segment) {
    if (refuse) throw std::runtime_error("no");
    named.push_back(segment);
  });
  append(log, {"aaaa"});  // the constructor's segment: not named again
  refuse = true;
  EXPECT_THROW(append(log, {"bbbb"}), std::runtime_error);
  EXPECT_THAT(log.segments(), ElementsAre(1));
  refuse = false;
  EXPECT_EQ(append(log, {"bbbb"}).front().segment, 2);
  EXPECT_THAT(named, ElementsAre(2));
}

TEST_F(RawLogTest, IgnoresFilesThatAreNotSegments) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "notes.txt") << "mine";
  std::ofstream(dir_ / "12.raw") << "short name";
  RawLog log(dir_);
  EXPECT_THAT(log.segments(), ElementsAre(1));
  EXPECT_THAT(log.collect({12}), ElementsAre());  // segment 12 is 000000000012.raw
  EXPECT_TRUE(std::filesystem::exists(dir_ / "notes.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "12.raw"));
}

TEST_F(RawLogTest, ReadingPastTheEndOfATruncatedSegmentNamesTheFile) {
  RawLog log(dir_);
  const RawRef ref = append(log, {"0123456789"}).front();
  std::filesystem::resize_file(dir_ / "000000000001.raw", 4);
  try {
    (void)log.read(ref);
    FAIL() << "read past the end";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("000000000001.raw"));
    EXPECT_THAT(e.what(), HasSubstr("ends before byte 10"));
  }
}

TEST_F(RawLogTest, ReadingADeletedSegmentNamesTheFile) {
  RawLog log(dir_, 1);
  const RawRef ref = append(log, {"gone"}).front();
  append(log, {"active"});
  log.collect({ref.segment});
  EXPECT_THROW(
      {
        try {
          (void)log.read(ref);
        } catch (const std::runtime_error& e) {
          EXPECT_THAT(e.what(), HasSubstr("000000000001.raw"));
          throw;
        }
      },
      std::runtime_error);
}

TEST_F(RawLogTest, ADirectoryThatCannotBeCreatedIsNamed) {
  std::filesystem::create_directories(dir_.parent_path());
  std::ofstream(dir_.parent_path() / "file") << "x";
  try {
    RawLog log(dir_.parent_path() / "file" / "sub");
    FAIL() << "created a directory under a file";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("file/sub"));
  }
}

// sync() cannot be seen to reach the disk from here; what can be checked is
// that it may run at any time, again, and after a new segment was created.
TEST_F(RawLogTest, SyncRunsAfterEachAppendAndWhatWasSyncedReadsBackAfterReopening) {
  RawRef first, second;
  {
    RawLog log(dir_, 4);
    first = append(log, {"durable"}).front();
    log.sync();
    log.sync();
    second = append(log, {"next"}).front();  // a new segment: the directory is synced too
    log.sync();
  }
  RawLog log(dir_, 4);
  EXPECT_EQ(second.segment, 2);
  EXPECT_EQ(log.read(first), "durable");
  EXPECT_EQ(log.read(second), "next");
}

// Reads keep the last segment open; a segment deleted by collect() is not read
// through that descriptor afterwards.
TEST_F(RawLogTest, ReadsFromSeveralSegmentsInAnyOrder) {
  RawLog log(dir_, 1);
  const RawRef a = append(log, {"alpha"}).front();
  const RawRef b = append(log, {"beta"}).front();
  append(log, {"active"});
  EXPECT_EQ(log.read(a), "alpha");
  EXPECT_EQ(log.read(b), "beta");
  EXPECT_EQ(log.read(a), "alpha");
  log.collect({a.segment});
  EXPECT_THROW((void)log.read(a), std::runtime_error);
  EXPECT_EQ(log.read(b), "beta");
}

}  // namespace
}  // namespace tempmail::local::detail
