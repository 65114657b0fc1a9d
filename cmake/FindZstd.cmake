# FindZstd
# --------
# Finds the zstd compression library and defines the imported target ``zstd::zstd``.
#
# Debian ships zstd's own CMake package, but its target names differ between zstd releases
# (zstd::libzstd_shared / _static, later zstd::libzstd), so this module asks pkg-config
# (``libzstd.pc``) for hints and falls back to a plain search.
#
# Result variables: ``Zstd_FOUND``, ``Zstd_VERSION``, ``Zstd_INCLUDE_DIR``, ``Zstd_LIBRARY``.
include(FindPackageHandleStandardArgs)

if(TARGET zstd::zstd)
  set(Zstd_FOUND TRUE)
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_Zstd QUIET libzstd)
endif()

find_path(Zstd_INCLUDE_DIR NAMES zstd.h HINTS ${PC_Zstd_INCLUDEDIR} ${PC_Zstd_INCLUDE_DIRS})
find_library(Zstd_LIBRARY NAMES zstd HINTS ${PC_Zstd_LIBDIR} ${PC_Zstd_LIBRARY_DIRS})

if(PC_Zstd_VERSION)
  set(Zstd_VERSION "${PC_Zstd_VERSION}")
elseif(Zstd_INCLUDE_DIR AND EXISTS "${Zstd_INCLUDE_DIR}/zstd.h")
  file(STRINGS "${Zstd_INCLUDE_DIR}/zstd.h" _zstd_version_lines
       REGEX "^#define ZSTD_VERSION_(MAJOR|MINOR|RELEASE) +[0-9]+")
  foreach(_part MAJOR MINOR RELEASE)
    string(REGEX REPLACE ".*#define ZSTD_VERSION_${_part} +([0-9]+).*" "\\1" _zstd_${_part}
           "${_zstd_version_lines}")
  endforeach()
  set(Zstd_VERSION "${_zstd_MAJOR}.${_zstd_MINOR}.${_zstd_RELEASE}")
endif()

find_package_handle_standard_args(Zstd
  REQUIRED_VARS Zstd_LIBRARY Zstd_INCLUDE_DIR
  VERSION_VAR Zstd_VERSION)

if(Zstd_FOUND AND NOT TARGET zstd::zstd)
  add_library(zstd::zstd UNKNOWN IMPORTED)
  set_target_properties(zstd::zstd PROPERTIES
    IMPORTED_LOCATION "${Zstd_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Zstd_INCLUDE_DIR}")
endif()

mark_as_advanced(Zstd_INCLUDE_DIR Zstd_LIBRARY)
