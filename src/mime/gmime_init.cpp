#include "mime/gmime_init.hpp"

#include <mutex>

namespace tempmail::detail {
namespace {

std::once_flag g_init_once;
GMimeParserOptions* g_options = nullptr;

void init() {
  g_mime_init();
  // Never freed: shared read-only by every parse until the process exits.
  g_options = g_mime_parser_options_new();
  g_mime_parser_options_set_address_compliance_mode(g_options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(g_options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_rfc2047_compliance_mode(g_options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain(g_options, TRUE);
  const char* fallback[] = {"UTF-8", "windows-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(g_options, fallback);
}

}  // namespace

void ensure_gmime_initialized() { std::call_once(g_init_once, init); }

GMimeParserOptions* parser_options() {
  ensure_gmime_initialized();
  return g_options;
}

}  // namespace tempmail::detail
