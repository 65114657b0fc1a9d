# rediscache_target_options(<target>)
#
# Warnings, -Werror and sanitizers for rediscache's own targets (library, tests, examples,
# benchmarks). Everything is PRIVATE to the target: nothing leaks into CMAKE_CXX_FLAGS, into the
# exported interface, or into the projects that embed us.
include_guard(GLOBAL)

function(rediscache_target_options target)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)

  # rediscache is Linux-only (POSIX sockets, poll, getrandom): GCC or Clang.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(REDISCACHE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()

  if(REDISCACHE_SANITIZE STREQUAL "address")
    set(_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
               -fno-omit-frame-pointer)
  elseif(REDISCACHE_SANITIZE STREQUAL "thread")
    set(_flags -fsanitize=thread -fno-omit-frame-pointer)
  else()
    set(_flags "")
  endif()
  if(_flags)
    target_compile_options(${target} PRIVATE ${_flags})
    # A static library has no link step; its consumers (our tests) link the runtime themselves.
    get_target_property(_type ${target} TYPE)
    if(NOT _type STREQUAL "STATIC_LIBRARY")
      target_link_options(${target} PRIVATE ${_flags})
    endif()
  endif()
endfunction()
