// The one translation unit that compiles Boost.Asio (with its SSL part) and
// Boost.Beast (separate compilation: every other TU sees only declarations,
// which keeps the build fast). Boost.JSON and Boost.URL come from Debian's
// compiled libboost_json / libboost_url.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
