// Owning handles for GObject/GLib memory, so every early return and exception
// releases what GMime handed out (the parser is fuzzed: a leak is a bug).
#pragma once

#include <glib-object.h>
#include <glib.h>

#include <memory>

namespace tempmail::detail {

struct GObjectUnref {
  void operator()(gpointer object) const noexcept {
    if (object != nullptr) g_object_unref(object);
  }
};

/// Holds one reference (what a `*_new` or `construct_*` call returned).
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(gpointer memory) const noexcept { g_free(memory); }
};

/// A string GLib/GMime allocated and the caller must g_free().
using GCharPtr = std::unique_ptr<char, GFree>;

}  // namespace tempmail::detail
