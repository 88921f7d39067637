// Extraction throughput over a corpus of realistic 5-200 KB HTML emails
// (bench/tools/make_corpus.py writes it): visible text, links, the one-time
// code, and everything at once (`tempmail::extract`), per size class and over
// the whole corpus. The peer row is Gumbo's parse of the email as it is,
// configured as src/extract configures it: what extraction would cost if it
// handed Gumbo the input unchanged (it hands Gumbo a shorter rewrite of it,
// src/extract/prepare.hpp, so it can take less than this). Gumbo with its
// default options (malloc per node) is measured too.
//
//   bench_extract --corpus=DIR [Google Benchmark flags]
//
// Before timing, every email is checked: the code and the verification token
// written into it must come out, else the program fails (exit 1).
#include <benchmark/benchmark.h>
#include <gumbo.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tempmail/extract.hpp"
#include "tempmail/message.hpp"

namespace {

struct Email {
  std::string name;
  tempmail::Message message;
  std::string code;
  std::string token;
};

std::vector<Email> g_corpus;
std::map<int, std::vector<const Email*>> g_by_size;  // size class in KB -> emails

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool load(const std::filesystem::path& dir) {
  std::ifstream index(dir / "index.tsv");
  if (!index) {
    std::cerr << "bench_extract: no " << (dir / "index.tsv")
              << ": run bench/tools/make_corpus.py DIR first\n";
    return false;
  }
  std::string line;
  while (std::getline(index, line)) {
    std::istringstream fields(line);
    Email e;
    std::string bytes;
    std::getline(fields, e.name, '\t');
    std::getline(fields, bytes, '\t');
    std::getline(fields, e.code, '\t');
    std::getline(fields, e.token, '\t');
    e.message.html = true;
    e.message.subject = "Confirm your email address";
    e.message.content = read_file(dir / e.name);
    g_corpus.push_back(std::move(e));
  }
  for (const auto& e : g_corpus) g_by_size[std::stoi(e.name.substr(0, 3))].push_back(&e);
  return !g_corpus.empty();
}

// The benchmark measures real work only if the work is right.
bool check() {
  bool ok = true;
  for (const auto& e : g_corpus) {
    const tempmail::Extraction x = tempmail::extract(e.message);
    const bool code_ok = x.otp.code && *x.otp.code == e.code;
    const bool link_ok =
        x.verification_link && x.verification_link->query_param("token") == e.token;
    if (!code_ok || !link_ok) {
      std::cerr << "bench_extract: " << e.name << ": expected code " << e.code << " and token "
                << e.token << ", got code " << x.otp.code.value_or("(none)") << " and link "
                << (x.verification_link ? x.verification_link->url : "(none)") << "\n";
      ok = false;
    }
  }
  return ok;
}

template <class Work>
void run_over(benchmark::State& state, const std::vector<const Email*>& emails, Work work) {
  std::size_t i = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    const Email& e = *emails[i];
    work(e);
    bytes += static_cast<std::int64_t>(e.message.content.size());
    i = (i + 1) % emails.size();
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations());
  std::int64_t total = 0;
  for (const Email* e : emails) total += static_cast<std::int64_t>(e->message.content.size());
  state.counters["email_bytes"] = static_cast<double>(total) / static_cast<double>(emails.size());
}

// Gumbo configured as src/extract/render.cpp configures it (a bump allocator
// instead of malloc/free per node and string, no error records): the floor.
struct Arena {
  std::vector<std::unique_ptr<char[]>> blocks;
  std::size_t used = 0;
  std::size_t capacity = 0;
  static constexpr std::size_t kBlock = std::size_t{1} << 20;

  void* allocate(std::size_t n) {
    n = (n + 15) & ~std::size_t{15};
    if (used + n > capacity) {
      capacity = std::max(kBlock, n);
      blocks.push_back(std::make_unique<char[]>(capacity));
      used = 0;
    }
    void* p = blocks.back().get() + used;
    used += n;
    return p;
  }
  void reset() {
    if (blocks.size() > 1) blocks.erase(blocks.begin(), blocks.end() - 1);
    used = 0;
  }
};

void* arena_alloc(void* arena, size_t n) { return static_cast<Arena*>(arena)->allocate(n); }
void arena_free(void*, void*) {}

void gumbo_parse_arena(const Email& e) {
  static thread_local Arena arena;
  GumboOptions options = kGumboDefaultOptions;
  options.allocator = arena_alloc;
  options.deallocator = arena_free;
  options.userdata = &arena;
  options.max_errors = 0;
  GumboOutput* out =
      gumbo_parse_with_options(&options, e.message.content.data(), e.message.content.size());
  benchmark::DoNotOptimize(out);
  arena.reset();  // frees the whole tree at once
}

void gumbo_parse(const Email& e) {
  GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, e.message.content.data(),
                                              e.message.content.size());
  benchmark::DoNotOptimize(out);
  gumbo_destroy_output(&kGumboDefaultOptions, out);
}
void everything(const Email& e) { benchmark::DoNotOptimize(tempmail::extract(e.message)); }
void text(const Email& e) { benchmark::DoNotOptimize(tempmail::visible_text(e.message)); }
void links(const Email& e) { benchmark::DoNotOptimize(tempmail::links(e.message)); }
void code(const Email& e) { benchmark::DoNotOptimize(tempmail::find_otp(e.message)); }

std::vector<const Email*> all() {
  std::vector<const Email*> v;
  for (const auto& e : g_corpus) v.push_back(&e);
  return v;
}

void register_all() {
  using Fn = void (*)(const Email&);
  const std::pair<const char*, Fn> kinds[] = {{"extract", everything},
                                              {"gumbo_parse", gumbo_parse},
                                              {"gumbo_parse_arena", gumbo_parse_arena},
                                              {"text", text},
                                              {"links", links},
                                              {"otp", code}};
  for (const auto& [name, fn] : kinds) {
    benchmark::RegisterBenchmark((std::string(name) + "/corpus").c_str(), [fn = fn](
                                                                              benchmark::State& s) {
      run_over(s, all(), fn);
    })->Unit(benchmark::kMicrosecond);
    for (const auto& [kb, emails] : g_by_size) {
      benchmark::RegisterBenchmark(
          (std::string(name) + "/" + std::to_string(kb) + "KB").c_str(),
          [fn = fn, v = emails](benchmark::State& s) { run_over(s, v, fn); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path corpus;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--corpus="))
      corpus = std::string(arg.substr(9));
    else
      rest.push_back(argv[i]);
  }
  if (corpus.empty()) {
    std::cerr << "usage: bench_extract --corpus=DIR [benchmark flags]\n";
    return 2;
  }
  if (!load(corpus) || !check()) return 1;
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
