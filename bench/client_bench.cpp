// tempmail::Client against a running server: sequential keep-alive GETs of the
// list endpoint from one thread, and from 8 threads sharing one client. The
// peer (bench/tools/requests_peer.py, Python requests.Session) hits the same
// server and endpoint in the same run.
//
//   bench_client --url=http://127.0.0.1:PORT --key=KEY --email=ADDRESS [benchmark flags]
//
// Each call decodes the answer into Message values, as the Python peer decodes
// its JSON; a call that does not return the expected messages fails the run.
#include <benchmark/benchmark.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tempmail/client.hpp"

namespace {

std::unique_ptr<tempmail::Client> g_client;
std::string g_email;
std::size_t g_expected = 0;

void list_messages(benchmark::State& state) {
  for (auto _ : state) {
    tempmail::MessageList list = g_client->messages(g_email);
    if (list.messages.size() != g_expected) {
      state.SkipWithError("the list endpoint returned an unexpected number of messages");
      break;
    }
    benchmark::DoNotOptimize(list);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  std::string key;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--url="))
      url = arg.substr(6);
    else if (arg.starts_with("--key="))
      key = arg.substr(6);
    else if (arg.starts_with("--email="))
      g_email = arg.substr(8);
    else
      rest.push_back(argv[i]);
  }
  if (url.empty() || key.empty() || g_email.empty()) {
    std::cerr << "usage: bench_client --url=URL --key=KEY --email=ADDRESS [benchmark flags]\n";
    return 2;
  }
  g_client =
      std::make_unique<tempmail::Client>(tempmail::ClientOptions{.base_url = url, .api_key = key});
  try {
    g_expected = g_client->messages(g_email).messages.size();
  } catch (const std::exception& e) {
    std::cerr << "bench_client: cannot list " << g_email << ": " << e.what() << "\n";
    return 1;
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  benchmark::RegisterBenchmark("client_list/threads:1", list_messages)->UseRealTime();
  benchmark::RegisterBenchmark("client_list/shared", list_messages)->Threads(8)->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_client.reset();
  return 0;
}
