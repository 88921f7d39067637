# Warning flags for project code only; third-party headers come in as SYSTEM includes.
option(TEMPMAIL_WERROR "Treat warnings in project code as errors" OFF)

function(tempmail_set_warnings target)
  # -Wno-missing-field-initializers: g++ 12 warns on every designated initializer
  # that leaves a field to its default, which is how options structs are meant to
  # be filled here ({.base_url = ..., .api_key = ...}).
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  if(TEMPMAIL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # Asio's atomic_thread_fence draws -Wtsan under ThreadSanitizer: not our code.
    if(TEMPMAIL_SANITIZE MATCHES "thread")
      target_compile_options(${target} PRIVATE -Wno-error=tsan)
    endif()
  endif()
endfunction()
