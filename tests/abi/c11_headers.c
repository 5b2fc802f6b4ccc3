/* Proves the ABI headers are plain C11: this file includes every one of them
 * and is compiled with -std=c11 -pedantic -Werror (tests/abi/CMakeLists.txt). */
#include "tinytorch/abi/tt_common.h"
#include "tinytorch/abi/tt_01_tensor.h"
#include "tinytorch/abi/tt_02_activations.h"
#include "tinytorch/abi/tt_03_layers.h"
#include "tinytorch/abi/tt_04_losses.h"
#include "tinytorch/abi/tt_05_autograd.h"
#include "tinytorch/abi/tt_06_optimizers.h"
#include "tinytorch/abi/tt_07_training.h"
#include "tinytorch/abi/tt_08_dataloader.h"
#include "tinytorch/abi/tt_09_spatial.h"

/* Layout facts a C caller relies on. */
_Static_assert(sizeof(tt_status) == 4, "status codes are 32-bit");
_Static_assert(TT_MAX_DIMS == 8, "tensor rank limit");
_Static_assert(offsetof(tt_tensor, data) == 0, "data comes first");

int tt_c11_headers_compiled(void) { return (int)sizeof(tt_module_descriptor); }
