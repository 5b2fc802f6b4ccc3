# Debian 12 packages only (./tito setup installs them):
#   libboost-dev libboost-program-options-dev catch2 zlib1g-dev libopenblas-dev
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(Catch2 2.13 REQUIRED)

# OpenBLAS through CBLAS, behind the core's one GEMM helper (host->sgemm).
find_path(TT_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
find_library(TT_OPENBLAS_LIBRARY NAMES openblas)
if(NOT TT_CBLAS_INCLUDE_DIR OR NOT TT_OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: run ./tito setup (or apt-get install libopenblas-dev)")
endif()
add_library(tt_blas INTERFACE)
target_include_directories(tt_blas INTERFACE ${TT_CBLAS_INCLUDE_DIR})
target_link_libraries(tt_blas INTERFACE ${TT_OPENBLAS_LIBRARY})
