// messages, read, delete-message, attachment: what arrived in a mailbox.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "common.hpp"

namespace tempmail::cli {
namespace {

namespace json = boost::json;

void add_messages(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  auto email = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("messages", "List a mailbox's messages, content included");
  sub->add_option("EMAIL", *email, "the mailbox's address")->required()->check(not_empty());
  sub->footer(
      "Prints the API's list body: {\"status\": true, \"mailbox\": EMAIL, \"messages\": [...]},\n"
      "each message as `tempmail read` prints it. The order is the server's.");
  commands.push_back({sub, [&global, email] {
                        Client client = make_client(global);
                        print_json(json::parse(to_json(client.messages(*email))));
                      }});
}

void add_read(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  auto id = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("read", "Show one message (the server marks it seen)");
  sub->add_option("ID", *id, "the message id (from `tempmail messages` or `wait --print id`)")
      ->required()
      ->check(not_empty());
  sub->footer(
      "Prints the API's data object: {\"is_seen\", \"subject\", \"from\", \"from_email\", \"to\",\n"
      "\"receivedAt\", \"id\", \"html\", \"content\", \"attachments\"}.");
  commands.push_back({sub, [&global, id] {
                        Client client = make_client(global);
                        print_json(message_json(client.message(*id)));
                      }});
}

void add_delete_message(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  auto id = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("delete-message", "Delete one message");
  sub->add_option("ID", *id, "the message id")->required()->check(not_empty());
  sub->footer("Prints {\"status\": true, \"id\": ID}.");
  commands.push_back({sub, [&global, id] {
                        Client client = make_client(global);
                        client.delete_message(*id);
                        print_json(json::object{{"status", true}, {"id", *id}});
                      }});
}

void add_attachment(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  struct Args {
    std::string id;
    std::string name;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("attachment", "Download an attachment of a message");
  sub->add_option("ID", args->id, "the message id")->required()->check(not_empty());
  sub->add_option("NAME", args->name, "the attachment's name, as the message lists it")
      ->required()
      ->check(not_empty());
  sub->add_option("-o,--output", args->output,
                  "write the bytes to FILE (replaced only when the download is complete)")
      ->check(not_empty())
      ->type_name("FILE");
  sub->footer(
      "With -o FILE: writes FILE and prints {\"status\": true, \"id\", \"name\", \"file\", "
      "\"size\"}.\n"
      "Without -o (or with -o -): stdout is the attachment's bytes, not JSON; nothing is written\n"
      "unless the whole attachment arrived.");
  commands.push_back({sub, [&global, args] {
                        Client client = make_client(global);
                        if (args->output.empty() || args->output == "-") {
                          // In memory first, so a failed download writes nothing to stdout.
                          const std::string bytes = client.attachment(args->id, args->name);
                          write_stdout(bytes);
                          return;
                        }
                        const std::filesystem::path file(args->output);
                        const std::uint64_t size =
                            client.download_attachment(args->id, args->name, file);
                        print_json(json::object{{"status", true},
                                                {"id", args->id},
                                                {"name", args->name},
                                                {"file", file.string()},
                                                {"size", size}});
                      }});
}

}  // namespace

void add_message_commands(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  add_messages(app, global, commands);
  add_read(app, global, commands);
  add_delete_message(app, global, commands);
  add_attachment(app, global, commands);
}

}  // namespace tempmail::cli
