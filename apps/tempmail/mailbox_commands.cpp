// domains, create, switch, delete: the plan and mailboxes. Each prints the
// `data` object of the API's answer (delete: {"status": true, "email": ...}).
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <memory>
#include <optional>

#include "common.hpp"
#include "tempmail/mailbox.hpp"

namespace tempmail::cli {
namespace {

namespace json = boost::json;

json::value mailbox_json(const MailboxInfo& m) { return json::parse(to_json(m)); }
json::value domains_json(const DomainList& d) { return json::parse(to_json(d)); }

void add_domains(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  auto type = std::make_shared<std::string>("free");
  auto* sub = app.add_subcommand("domains", "List the plan's domain types and domains");
  sub->add_option("--type", *type, "domain type to list (the plan's allowed_types)")
      ->check(not_empty())
      ->capture_default_str();
  sub->footer(
      "Prints the API's data object: {\"requested_type\", \"allowed_types\", \"domains\"}.");
  commands.push_back({sub, [&global, type] {
                        Client client = make_client(global);
                        print_json(domains_json(client.domains(*type)));
                      }});
}

void add_create(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  struct Args {
    std::optional<std::string> username;
    std::optional<std::string> domain;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("create", "Create a mailbox (random, or with a chosen name)");
  auto* user = sub->add_option("--username", args->username,
                               "ask for this user name (1-64 of a-z 0-9 . _ -) instead of a "
                               "random one")
                   ->check(not_empty());
  sub->add_option("--domain", args->domain,
                  "with --username: the domain (default: the one the server picks)")
      ->check(not_empty())
      ->needs(user);
  sub->footer(
      "Prints the API's data object: {\"id\", \"email\", \"domain\", \"expire_at\", "
      "\"expires_in_seconds\", \"created_at\", \"email_token\"}.\n"
      "The mailbox stays until `tempmail delete EMAIL` or its expiry.");
  commands.push_back(
      {sub, [&global, args] {
         Client client = make_client(global);
         // Mailbox creates and, for a chosen name, switches; it deletes the
         // random mailbox again when the switch fails.
         Mailbox box(client, MailboxOptions{.username = args->username, .domain = args->domain});
         box.release();
         print_json(mailbox_json(box.info()));
       }});
}

void add_switch(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  struct Args {
    std::string current;
    std::string username;
    std::string domain;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("switch", "Move a mailbox you own to a new address");
  sub->add_option("CURRENT", args->current, "the mailbox's address now")
      ->required()
      ->check(not_empty());
  sub->add_option("USERNAME", args->username, "the new user name")->required()->check(not_empty());
  sub->add_option("DOMAIN", args->domain, "the new domain (see `tempmail domains`)")
      ->required()
      ->check(not_empty());
  sub->footer("Prints the API's data object for the new address, as `create` does.");
  commands.push_back({sub, [&global, args] {
                        Client client = make_client(global);
                        print_json(mailbox_json(
                            client.switch_mailbox(args->current, args->username, args->domain)));
                      }});
}

void add_delete(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  auto email = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("delete", "Delete a mailbox and its messages");
  sub->add_option("EMAIL", *email, "the mailbox's address")->required()->check(not_empty());
  sub->footer("Prints {\"status\": true, \"email\": EMAIL}.");
  commands.push_back({sub, [&global, email] {
                        Client client = make_client(global);
                        client.delete_mailbox(*email);
                        print_json(json::object{{"status", true}, {"email", *email}});
                      }});
}

}  // namespace

void add_mailbox_commands(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  add_domains(app, global, commands);
  add_create(app, global, commands);
  add_switch(app, global, commands);
  add_delete(app, global, commands);
}

}  // namespace tempmail::cli
