// GMime's process-wide initialisation, done once whichever thread gets there first.
#pragma once

#include <gmime/gmime.h>

namespace tempmail::detail {

/// Calls g_mime_init() exactly once (std::call_once); cheap after that.
void ensure_gmime_initialized();

/// Parser options shared by every parse (read-only after creation): loose RFC
/// compliance everywhere, and UTF-8 then windows-1252 for raw 8-bit headers.
GMimeParserOptions* parser_options();

}  // namespace tempmail::detail
