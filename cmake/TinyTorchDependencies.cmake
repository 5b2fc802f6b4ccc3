# Debian 12 packages only (./tito setup installs them):
#   libboost-dev libboost-program-options-dev catch2 zlib1g-dev libopenblas-dev
#   libopenblas0-serial
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(Catch2 2.13 REQUIRED)

# OpenBLAS through CBLAS, behind the core's one GEMM helper (host->sgemm).
find_path(TT_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
# The single-threaded build of OpenBLAS when it is installed: the core splits
# GEMMs over its own pool, and the threaded build keeps a worker spinning in
# sched_yield even after openblas_set_num_threads(1). Debian installs it beside
# the threaded one; the run path makes the loader pick it over the system-wide
# libopenblas.so.0 alternative.
find_library(TT_OPENBLAS_LIBRARY NAMES openblas libopenblas.so.0
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-serial NO_DEFAULT_PATH)
if(TT_OPENBLAS_LIBRARY)
  get_filename_component(TT_OPENBLAS_DIR "${TT_OPENBLAS_LIBRARY}" DIRECTORY)
  set(TT_OPENBLAS_RUNPATH "${TT_OPENBLAS_DIR}")
else()
  find_library(TT_OPENBLAS_LIBRARY NAMES openblas)
endif()
if(NOT TT_CBLAS_INCLUDE_DIR OR NOT TT_OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: run ./tito setup (or apt-get install libopenblas-dev)")
endif()
add_library(tt_blas INTERFACE)
target_include_directories(tt_blas INTERFACE ${TT_CBLAS_INCLUDE_DIR})
target_link_libraries(tt_blas INTERFACE ${TT_OPENBLAS_LIBRARY})
if(TT_OPENBLAS_RUNPATH)
  target_link_options(tt_blas INTERFACE "LINKER:-rpath,${TT_OPENBLAS_RUNPATH}")
endif()
