# CNET_SANITIZE: a list of sanitizers, e.g. "address;undefined" or "thread".
# Applied to everything in this directory and below (library, tests,
# examples) so instrumented and plain code never mix in one binary.
# Any finding aborts (-fno-sanitize-recover=all), so CTest sees a failure.
if(NOT CNET_SANITIZE)
  return()
endif()

set(_cnet_known address undefined thread leak)
foreach(_san IN LISTS CNET_SANITIZE)
  if(NOT _san IN_LIST _cnet_known)
    message(FATAL_ERROR "CNET_SANITIZE: unknown sanitizer '${_san}' (known: ${_cnet_known})")
  endif()
endforeach()
if("thread" IN_LIST CNET_SANITIZE AND "address" IN_LIST CNET_SANITIZE)
  message(FATAL_ERROR "CNET_SANITIZE: 'thread' cannot be combined with 'address'")
endif()

string(REPLACE ";" "," _cnet_san "${CNET_SANITIZE}")
add_compile_options(-fsanitize=${_cnet_san} -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_link_options(-fsanitize=${_cnet_san})
message(STATUS "cnet: sanitizers: ${_cnet_san}")
