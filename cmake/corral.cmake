# Helpers shared by the CMakeLists of every folder.

# Precompiles the third-party headers most of a target's files include, so that
# each file loads them instead of parsing them again (nlohmann/json alone is
# 130,000 lines). Only headers outside the project: a change to Corral's own
# headers never rebuilds a precompiled header.
#   corral_precompile(target <header>...)
function(corral_precompile target)
  if(CORRAL_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()
