# tt_add_module(NUMBER NAME)
#
# Builds the two libraries of a module from modules/NN_name/{reference,student}:
#   lib/tt_NN_name_reference.so and lib/tt_NN_name_student.so
# Each is a MODULE library (loadable, never linkable) that
#   - sees only the ABI headers and module_support (no core, no other module),
#   - hides every symbol but its entry point (visibility + version script),
#   - binds its own functions to itself (-Bsymbolic-functions), so a name it
#     shares with another loaded library can never resolve to that library,
#   - must resolve everything at link time (--no-undefined),
#   - is checked after the build: exporting anything else fails the build.
function(tt_add_module NUMBER NAME)
  set(entry tt_entry_${NUMBER}_${NAME})
  set(vscript ${CMAKE_CURRENT_BINARY_DIR}/exports.map)
  file(WRITE ${vscript} "{\n  global: ${entry};\n  local: *;\n};\n")
  foreach(variant reference student)
    set(target tt_${NUMBER}_${NAME}_${variant})
    set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${variant})
    if(variant STREQUAL "reference" AND NOT TT_BUILD_REFERENCE)
      continue()
    endif()
    file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cpp ${dir}/*.c)
    if(NOT srcs)
      continue()
    endif()
    add_library(${target} MODULE ${srcs})
    set_target_properties(${target} PROPERTIES
      PREFIX ""
      LIBRARY_OUTPUT_DIRECTORY ${TT_LIB_DIR}
      CXX_VISIBILITY_PRESET hidden
      C_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
    if(variant STREQUAL "reference")
      set(vdef TT_VARIANT_REFERENCE)
    else()
      set(vdef TT_VARIANT_STUDENT)
      # Stubs leave parameters unused until the student fills them in.
      target_compile_options(${target} PRIVATE -Wno-unused-parameter -Wno-unused-function
                             -Wno-unused-variable)
    endif()
    math(EXPR num "${NUMBER}")  # "01" -> 1
    target_compile_definitions(${target} PRIVATE TT_MODULE_NUMBER=${num} TT_MODULE_VARIANT=${vdef})
    target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/core/include ${dir})
    target_link_options(${target} PRIVATE
      -Wl,--no-undefined -Wl,-Bsymbolic-functions -Wl,--version-script=${vscript})
    target_link_libraries(${target} PRIVATE Threads::Threads)
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:${target}> -DENTRY=${entry}
              -P ${CMAKE_SOURCE_DIR}/cmake/CheckExports.cmake
      VERBATIM)
    set_property(GLOBAL APPEND PROPERTY TT_MODULE_TARGETS ${target})
  endforeach()
endfunction()
