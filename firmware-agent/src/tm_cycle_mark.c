/* Marker functions for the cycle model; see tm_cycle_mark.h.
 *
 * The plugin finds them by symbol, so each must stay a real, separate function: noinline
 * keeps the call, and a distinct (unused) asm operand per body keeps identical-code folding
 * (gcc's -fipa-icf at -O2 and above) from merging the four empty bodies into one symbol. */
#include "tm_cycle_mark.h"

#if defined(__GNUC__)
#define TM_MARK_FN(name, tag)                                                                      \
    __attribute__((noinline, used)) void name(void)                                                \
    {                                                                                              \
        __asm__ volatile("" : : "i"(tag) : "memory");                                              \
    }
#else
#define TM_MARK_FN(name, tag)                                                                      \
    void name(void)                                                                                \
    {                                                                                              \
    }
#endif

TM_MARK_FN(tm_cycle_mark_invoke_begin, 1)
TM_MARK_FN(tm_cycle_mark_invoke_end, 2)
TM_MARK_FN(tm_cycle_mark_layer_end, 3)
TM_MARK_FN(tm_cycle_mark_layer_resume, 4)
