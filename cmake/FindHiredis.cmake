# FindHiredis
# -----------
# Finds hiredis (https://github.com/redis/hiredis) and defines the imported target
# ``hiredis::hiredis`` (the name hiredis >= 1.0 exports itself).
#
# Debian's libhiredis-dev 0.14 ships a HiredisConfig.cmake that defines no target, so this module
# asks pkg-config (``hiredis.pc``) for hints and falls back to a plain search. Include with
# ``#include <hiredis/hiredis.h>``.
#
# Result variables: ``Hiredis_FOUND``, ``Hiredis_VERSION``, ``Hiredis_INCLUDE_DIR``,
# ``Hiredis_LIBRARY``.
include(FindPackageHandleStandardArgs)

if(TARGET hiredis::hiredis)
  # Someone (hiredis's own config, or an earlier call) already provides the target.
  set(Hiredis_FOUND TRUE)
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_Hiredis QUIET hiredis)
endif()

# hiredis.pc points includedir at .../include/hiredis; we want its parent for <hiredis/hiredis.h>.
set(_hiredis_include_hints "")
foreach(_dir IN LISTS PC_Hiredis_INCLUDEDIR PC_Hiredis_INCLUDE_DIRS)
  get_filename_component(_parent "${_dir}" DIRECTORY)
  list(APPEND _hiredis_include_hints "${_dir}" "${_parent}")
endforeach()

find_path(Hiredis_INCLUDE_DIR NAMES hiredis/hiredis.h HINTS ${_hiredis_include_hints})
find_library(Hiredis_LIBRARY NAMES hiredis HINTS ${PC_Hiredis_LIBDIR} ${PC_Hiredis_LIBRARY_DIRS})

# The version comes from hiredis.h itself (the header we compile against), not from pkg-config,
# which may describe another installation.
if(Hiredis_INCLUDE_DIR AND EXISTS "${Hiredis_INCLUDE_DIR}/hiredis/hiredis.h")
  file(STRINGS "${Hiredis_INCLUDE_DIR}/hiredis/hiredis.h" _hiredis_version_lines
       REGEX "^#define HIREDIS_(MAJOR|MINOR|PATCH) [0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX REPLACE ".*#define HIREDIS_${_part} ([0-9]+).*" "\\1" _hiredis_${_part}
           "${_hiredis_version_lines}")
  endforeach()
  set(Hiredis_VERSION "${_hiredis_MAJOR}.${_hiredis_MINOR}.${_hiredis_PATCH}")
  set(Hiredis_VERSION_MAJOR "${_hiredis_MAJOR}")
  set(Hiredis_VERSION_MINOR "${_hiredis_MINOR}")
elseif(PC_Hiredis_VERSION)
  set(Hiredis_VERSION "${PC_Hiredis_VERSION}")
endif()

# rediscache uses only hiredis's RESP parser (redisReader) with its own reply-object hooks, whose
# signatures differ between 0.14 (createArray takes int) and 1.x (size_t; createDouble and
# createBool added). src/net/reply_reader.cpp supports exactly those two; fail here, clearly,
# rather than with a compile error in the hooks.
if(Hiredis_INCLUDE_DIR AND DEFINED Hiredis_VERSION_MAJOR)
  if(NOT ((Hiredis_VERSION_MAJOR EQUAL 0 AND Hiredis_VERSION_MINOR EQUAL 14) OR
          Hiredis_VERSION_MAJOR EQUAL 1))
    message(FATAL_ERROR
      "hiredis ${Hiredis_VERSION} found at ${Hiredis_INCLUDE_DIR}: rediscache supports hiredis "
      "0.14.x and 1.x only (the redisReader reply-object hooks differ in other versions)")
  endif()
endif()

find_package_handle_standard_args(Hiredis
  REQUIRED_VARS Hiredis_LIBRARY Hiredis_INCLUDE_DIR
  VERSION_VAR Hiredis_VERSION)

if(Hiredis_FOUND AND NOT TARGET hiredis::hiredis)
  add_library(hiredis::hiredis UNKNOWN IMPORTED)
  set_target_properties(hiredis::hiredis PROPERTIES
    IMPORTED_LOCATION "${Hiredis_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Hiredis_INCLUDE_DIR}")
endif()

mark_as_advanced(Hiredis_INCLUDE_DIR Hiredis_LIBRARY)
