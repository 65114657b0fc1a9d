# cmake -DBUILD_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... -DCONFIG=... -DGENERATOR=...
#       -DCXX_COMPILER=... -DEXPECTED_VERSION=... -P run_package_test.cmake
#
# 1. cmake --install BUILD_DIR into WORK_DIR/prefix;
# 2. configure, build and run the consumer with find_package(rediscache CONFIG REQUIRED);
# 3. when pkg-config is there, compile and run the same consumer from rediscache.pc alone;
# 4. with -DSOURCE_DIR=..., configure, build and run a consumer that embeds the source tree with
#    add_subdirectory (Debug, unity build: it compiles the library again, and that is fastest).
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER EXPECTED_VERSION)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_package_test.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG RelWithDebInfo)
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "FAILED (${rc}): ${cmd}\n${out}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(expect_version output what)
  if(NOT output MATCHES "rediscache ${EXPECTED_VERSION}")
    message(FATAL_ERROR "${what} printed '${output}', expected 'rediscache ${EXPECTED_VERSION}'")
  endif()
  message(STATUS "${what}: ${output}")
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --config ${CONFIG})

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=${CONFIG} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${consumer_build} --config ${CONFIG})
find_program(consumer_exe consumer PATHS ${consumer_build} ${consumer_build}/${CONFIG}
             NO_DEFAULT_PATH REQUIRED)
set(ENV{LD_LIBRARY_PATH} "${prefix}/lib:$ENV{LD_LIBRARY_PATH}")
run(${consumer_exe})
expect_version("${run_output}" "CMake consumer")

find_program(PKG_CONFIG_EXECUTABLE pkg-config)
if(PKG_CONFIG_EXECUTABLE)
  file(GLOB_RECURSE pc_file ${prefix}/rediscache.pc)
  get_filename_component(pc_dir "${pc_file}" DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
  execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --cflags --libs --static rediscache
                  RESULT_VARIABLE rc OUTPUT_VARIABLE pc_flags ERROR_VARIABLE pc_err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config rediscache failed: ${pc_err}")
  endif()
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  run(${CXX_COMPILER} -std=c++17 ${CONSUMER_SOURCE_DIR}/main.cpp -o ${WORK_DIR}/pc-consumer
      ${pc_flags})
  run(${WORK_DIR}/pc-consumer)
  expect_version("${run_output}" "pkg-config consumer")
else()
  message(STATUS "pkg-config not found: skipping the rediscache.pc check")
endif()

if(SOURCE_DIR)
  set(subdir_build ${WORK_DIR}/subdirectory-build)
  run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR}/subdirectory -B ${subdir_build} -G ${GENERATOR}
      -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_UNITY_BUILD=ON
      -DREDISCACHE_SOURCE_DIR=${SOURCE_DIR})
  run(${CMAKE_COMMAND} --build ${subdir_build} --config Debug)
  find_program(subdir_exe consumer PATHS ${subdir_build} ${subdir_build}/Debug
               NO_DEFAULT_PATH REQUIRED)
  run(${subdir_exe})
  expect_version("${run_output}" "add_subdirectory consumer")
endif()
